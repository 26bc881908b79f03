// curv laplace: a Laplace posterior around a trained checkpoint, its prior fitted by the log
// marginal likelihood, and calibrated predictions scored against the MAP ones (laplace/,
// metrics/; docs/methods/laplace.md).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "checkpoint_input.hpp"
#include "checks.hpp"
#include "commands.hpp"
#include "curv/curvature/subset.hpp"
#include "curv/data/index_list.hpp"
#include "curv/data/task.hpp"
#include "curv/io/npy.hpp"
#include "curv/laplace/fit.hpp"
#include "curv/laplace/predictive.hpp"
#include "curv/laplace/store.hpp"
#include "curv/laplace/tune.hpp"
#include "curv/metrics/metrics.hpp"
#include "curv/nn/checkpoint.hpp"
#include "curv/report/plot.hpp"
#include "curv/train/recorder.hpp"
#include "laplace_flags.hpp"
#include "laplace_regression.hpp"
#include "progress.hpp"
#include "provenance.hpp"
#include "readable.hpp"

namespace curv::cli {
namespace {

struct Opts : CheckpointInput {
  LaplaceFlags laplace;
  std::string ood, eval = "test:all";
  std::string predictive = "probit", probs_out, reliability_out, rotation_plots, save, load;
  std::string plot_out;
  bool predictive_given = false;
  std::vector<double> rotations;
  index_t batch = 128, samples = 100;
  std::uint64_t seed = 0;
  double temperature = 1;
  std::string precision = "float32";
};

nlohmann::json scores(const metrics::Calibration& c, const std::string& prefix) {
  return {{prefix + "accuracy", c.accuracy}, {prefix + "nll", c.nll},
          {prefix + "ece", c.ece},           {prefix + "mce", c.mce},
          {prefix + "brier", c.brier},       {prefix + "confidence", c.mean_confidence}};
}

// The evaluation examples of the test split rotated by each of o.rotations (degrees): Laplace
// and MAP scores per angle, and with o.rotation_plots their NLL and ECE against the angle drawn
// to PREFIX-nll.png and PREFIX-ece.png.
template <class T, class Predict>
nlohmann::json rotated_scores(const Opts& o, const std::string& weights, const Model<T>& model,
                              const Task<T>& task, const IndexList& eval, const Predict& predict) {
  std::vector<std::int64_t> labels;
  for (index_t i : eval.indices) labels.push_back(task.split("test").class_of(i));
  const index_t K = model.outputs();
  nlohmann::json rows = nlohmann::json::array();
  const std::string on = weights_label(weights);
  Series nll{"Laplace, " + on + " (" + o.predictive + ")", {}, {}}, map_nll{"MAP", {}, {}};
  Series ece = nll, map_ece = map_nll;
  for (double degrees : o.rotations) {
    TaskOptions turned = o.task;
    turned.test_rotation = degrees;
    const auto shifted = make_task<T>(o.data, model.loss(), turned);
    char what[64];
    std::snprintf(what, sizeof what, "%s rotated %g°", eval.spec.c_str(), degrees);
    const auto [probs, map] = predict(shifted->split("test"), eval.indices, what);
    const metrics::Calibration c = metrics::calibration(probs, K, labels),
                               m = metrics::calibration(map, K, labels);
    nlohmann::json row = {{"degrees", degrees}};
    row.update(scores(c, "test_"));
    row.update(scores(m, "map_test_"));
    rows.push_back(row);
    for (Series* s : {&nll, &map_nll, &ece, &map_ece}) s->x.push_back(degrees);
    nll.y.push_back(c.nll), map_nll.y.push_back(m.nll);
    ece.y.push_back(100 * c.ece), map_ece.y.push_back(100 * m.ece);
  }
  if (!o.rotation_plots.empty()) {
    const std::string title = model.name() + " on rotated " + o.data + " " + eval.spec;
    plot_lines(o.rotation_plots + "-nll.png", title + ": NLL", "rotation (degrees)",
               "test NLL (nats)", {map_nll, nll}, false, true);
    plot_lines(o.rotation_plots + "-ece.png", title + ": ECE", "rotation (degrees)",
               "test ECE (%, 15 bins)", {map_ece, ece}, false, true);
  }
  return rows;
}

template <class T>
int run(const Opts& o) {
  const auto t0 = std::chrono::steady_clock::now();
  Progress bar;
  auto model = load_checkpoint<T>(o.checkpoint, o.model, o.config);
  auto task = make_task<T>(o.data, model->loss(), o.task);
  task->check_model(*model);
  const LaplaceFlags& f = o.laplace;
  const bool regression = model->loss() == "mse";
  CURV_CHECK(regression || model->loss() == "cross_entropy", "laplace: expected a classifier ",
             "(cross_entropy) or a regression model (mse), found a model trained with ",
             model->loss());
  if (regression) {  // one Gaussian predictive, scored by NLL and RMSE
    CURV_CHECK(!o.predictive_given || o.predictive == "glm", "laplace: a regression model's ",
               "predictive is the linearized Gaussian: expected --predictive glm, found ",
               o.predictive);
    for (const auto& [flag, given] : {std::pair<const char*, bool>{"--ood", !o.ood.empty()},
                                      {"--rotations", !o.rotations.empty()},
                                      {"--reliability-out", !o.reliability_out.empty()},
                                      {"--probs-out", !o.probs_out.empty()},
                                      {"--prior-precision val-nll", f.tuned_prior()}})
      CURV_CHECK(!given, "laplace: ", flag, " scores a classifier: expected none for the mse ",
                 "model, found it given");
  } else {
    CURV_CHECK(o.predictive != "glm" && o.plot_out.empty(), "laplace: --predictive glm and ",
               "--plot-out are for regression (mse) models, found a classifier");
  }
  const IndexList fit = parse_index_list(f.examples, *task);
  const IndexList eval = parse_index_list(o.eval, *task);
  CURV_CHECK(o.rotations.empty() || eval.split == "test",
             "laplace: --rotations turn the test split, found --eval ", eval.spec);

  // The posterior on the training examples, its prior from the marginal likelihood unless
  // given; or as saved by an earlier run.
  std::unique_ptr<laplace::Posterior> fitted;
  laplace::FitReport report;
  nlohmann::json j = {{"model", model->name()}, {"data", o.data}};
  std::string weights;  // the posterior's subset, as ParamSubset::parse reads it
  if (!o.load.empty()) {
    laplace::StoredPosterior stored = laplace::load_posterior(o.load, *model);
    fitted = std::move(stored.posterior);
    weights = stored.weights;
    j.update({{"weights", is_subnetwork(weights) ? "subnet" : weights},
              {"structure", stored.structure},
              {"curvature", stored.curvature},
              {"prior", stored.prior},
              {"n", fitted->n_data()},
              {"loaded", o.load}});
  } else {
    bar.note("laplace: " + f.structure + " " + f.curvature + " on " + f.weights + " weights over " +
             fit.spec +
             (f.linearized_prior() ? ", prior by the linearized evidence"
              : f.fitted_prior()   ? ", prior by the marginal likelihood"
                                   : ""));
    const laplace::LaplaceSpec spec = f.spec(o.checkpoint, double(fit.size()), o.batch, o.seed);
    fitted = laplace::fit_posterior(*model, task->split(fit.split), fit.indices, spec, &report);
    weights = report.weights;
    j.update({{"weights", f.weights},
              {"structure", f.structure},
              {"curvature", f.curvature},
              {"examples", fit.spec},
              {"n", report.n},
              {"prior", f.prior},
              {"prior_start", spec.prior_start}});
  }
  laplace::Posterior& post = *fitted;
  j["parameters"] = post.size();
  if (is_subnetwork(weights)) {  // a subnetwork: how many weights of each tensor
    const ParamSubset subset = ParamSubset::parse(weights, model->params().info());
    nlohmann::json per = nlohmann::json::object();
    for (std::size_t r = 0; r < subset.ranges().size(); ++r)
      per[subset.names()[r]] = per.value(subset.names()[r], index_t(0)) + subset.ranges()[r].size;
    j["subnet_weights"] = per;
    if (o.load.empty()) j["subnet_by"] = f.subnet_by;
  }
  if (f.fitted_prior() && o.load.empty())
    j["prior_steps"] = report.prior_steps, j["prior_gradient"] = report.prior_gradient;
  if (f.tuned_prior()) {  // δ by the lowest validation NLL of this predictive
    const IndexList val = parse_index_list(f.val, *task);
    bar.note("laplace: the prior by NLL on " + val.spec);
    const auto trials = laplace::tune_prior_by_nll(post, *model, task->split(val.split),
                                                   val.indices, weights, LaplaceFlags::prior_grid(),
                                                   o.predictive, o.samples, o.seed, o.temperature);
    double best = trials.front().nll;
    for (const auto& t : trials) best = std::min(best, t.nll);
    j["val"] = val.spec, j["val_nll"] = best, j["prior_trials"] = trials.size();
  }
  if (f.structure == "lowrank" && o.load.empty()) {
    j["rank"] = f.rank, j["lanczos_iterations"] = report.lanczos_iterations;
    j["lanczos_converged"] = report.lanczos_converged;
    j["smallest_kept_eigenvalue"] = report.smallest_kept_eigenvalue;
  }
  auto precisions = [](const std::vector<double>& p) {
    return p.size() == 1 ? nlohmann::json(p[0]) : nlohmann::json(p);
  };
  j["log_marglik"] = post.log_marglik();
  j["prior_precision"] = precisions(post.prior());
  if (f.linearized_prior() && o.load.empty()) {  // both evidences, and how θ̂ was found
    const laplace::LinearizedReport& l = report.linearized;
    j["evidence"] = "linearized", j["linearized_model"] = f.linearized_model;
    j["log_marglik_naive"] = report.naive_log_marglik;
    j["prior_precision_naive"] = precisions(report.naive_prior);
    j["train_loss"] = post.summed_loss() / post.n_data();
    j["linearized_train_loss"] = l.summed_loss / post.n_data();
    j["mode_distance"] = l.distance, j["linearized_solves"] = l.solves;
    j["linearized_prior_steps"] = l.prior_steps;
    j["linearized_newton_steps"] = l.newton_steps, j["linearized_products"] = l.products;
    j["linearized_converged"] = l.converged, j["linearized_decrement"] = l.decrement;
  }

  auto finish = [&] {
    if (!o.save.empty()) {
      laplace::save_posterior(o.save, post, *model, j["structure"].get<std::string>(), weights,
                              j["curvature"].get<std::string>(), j["prior"].get<std::string>());
      j["saved"] = o.save;
    }
    j["seconds"] = seconds_since(t0);
    bar.clear();
    std::printf("%s\n", rounded(j).dump().c_str());
    return 0;
  };
  if (regression) {
    bar.note("laplace: the linearized Gaussian predictive on " + eval.spec);
    j.update(regression_scores(post, *model, *task, eval, fit, weights,
                               j["structure"].get<std::string>(), o.plot_out));
    j["predictive"] = "glm", j["eval"] = eval.spec, j["precision"] = o.precision;
    return finish();
  }

  // Predictions on the evaluation examples, Laplace and MAP from the same logits.
  auto predict = [&](const Split<T>& split, const std::vector<index_t>& idx,
                     const std::string& what) {
    bar.restart();                   // the ETA counts from this pass
    if (o.predictive == "sample") {  // weights drawn from the posterior, no linearization
      bar.note("laplace: " + std::to_string(o.samples) + " weight samples on " + what);
      std::vector<double> probs = laplace::sample_predictive(post, *model, split, idx, weights,
                                                             o.samples, o.seed, o.temperature);
      return std::make_pair(std::move(probs),
                            laplace::map_probabilities(laplace::logits_of(*model, split, idx)));
    }
    const laplace::Linearized l = laplace::linearize(
        post, *model, split, idx, weights, 64,
        [&](index_t done, index_t n) { bar.count(long(done), long(n), "Jacobians of " + what); });
    return std::make_pair(laplace::predict(l, o.predictive, o.samples, o.seed, o.temperature),
                          laplace::map_probabilities(l));
  };
  const auto [probs, map] = predict(task->split(eval.split), eval.indices, eval.spec);
  std::vector<std::int64_t> labels;
  for (index_t i : eval.indices) labels.push_back(task->split(eval.split).class_of(i));
  const index_t K = model->outputs();
  const std::string split = eval.split + "_";
  const metrics::Calibration cal = metrics::calibration(probs, K, labels),
                             map_cal = metrics::calibration(map, K, labels);
  j.update(scores(cal, split));
  j.update(scores(map_cal, "map_" + split));
  if (!o.reliability_out.empty()) {  // accuracy against confidence per non-empty bin
    auto curve = [](const metrics::Calibration& c, const std::string& label) {
      Series s{label, {}, {}};
      for (const auto& b : c.bins)
        if (b.count > 0) s.x.push_back(b.confidence), s.y.push_back(b.accuracy);
      return s;
    };
    char ece[64], map_ece[64];
    std::snprintf(ece, sizeof ece, "Laplace (%s), ECE %.2f %%", o.predictive.c_str(),
                  100 * cal.ece);
    std::snprintf(map_ece, sizeof map_ece, "MAP, ECE %.2f %%", 100 * map_cal.ece);
    plot_lines(o.reliability_out,
               model->name() + " on " + o.data + " " + eval.spec + ": reliability (15 bins)",
               "mean confidence in the bin", "accuracy in the bin",
               {curve(map_cal, map_ece), curve(cal, ece), Series{"calibrated", {0, 1}, {0, 1}}},
               false, true);
    j["reliability_out"] = o.reliability_out;
  }
  j["predictive"] = o.predictive, j["eval"] = eval.spec, j["temperature"] = o.temperature;
  j["seed"] = o.seed, j["precision"] = o.precision;
  if (o.predictive == "mc" || o.predictive == "sample") j["samples"] = o.samples;
  if (f.curvature == "fisher") j["mc_samples"] = f.mc_samples;
  if (!o.probs_out.empty()) {
    const std::vector<float> f(probs.begin(), probs.end());
    write_npy(o.probs_out, f.data(), {std::int64_t(eval.size()), std::int64_t(K)});
    j["probs_out"] = o.probs_out;
  }
  if (!o.rotations.empty())
    j["rotations"] = rotated_scores(o, weights, *model, *task, eval, predict);
  if (!o.ood.empty()) {
    TaskOptions other = o.task;
    other.labels.clear();
    auto ood = make_task<T>(o.ood, model->loss(), other);
    ood->check_model(*model);
    const IndexList oi = parse_index_list("test:all", *ood);
    const auto [ood_probs, ood_map] = predict(ood->split("test"), oi.indices, o.ood);
    // Scored by 1 − max probability: detection, and the mean confidence on the OOD inputs.
    j["ood"] = o.ood;
    auto score = [&](const std::vector<double>& in, const std::vector<double>& out,
                     const std::string& prefix) {
      const std::vector<double> out_scores = metrics::one_minus_max_probability(out, K);
      const metrics::Detection d =
          metrics::detection(metrics::one_minus_max_probability(in, K), out_scores);
      double confidence = 0;
      for (double s : out_scores) confidence += 1 - s;
      j[prefix + "ood_auroc"] = d.auroc, j[prefix + "ood_aupr"] = d.aupr;
      j[prefix + "ood_fpr95"] = d.fpr95;
      j[prefix + "ood_confidence"] = confidence / double(out_scores.size());
    };
    score(probs, ood_probs, "");
    score(map, ood_map, "map_");
  }
  return finish();
}

}  // namespace

Runner add_laplace(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "laplace",
      "Fit a Laplace posterior around a checkpoint (prior by the marginal likelihood) and score "
      "its calibrated predictions against the MAP ones");
  auto o = std::make_shared<Opts>();
  o->add_checkpoint_options(cmd);
  o->laplace.add(cmd);
  cmd->add_option("--eval", o->eval, "Examples the predictions are scored on")
      ->capture_default_str();
  cmd->add_option("--predictive", o->predictive,
                  "probit, mc (Monte-Carlo logits), bridge (Laplace bridge), sample (weights "
                  "drawn from the posterior, not linearized) or map; glm for a regression model "
                  "(the linearized Gaussian, its only one)")
      ->capture_default_str();
  cmd->add_option("--samples", o->samples, "mc: samples of the logits; sample: of the weights")
      ->capture_default_str();
  cmd->add_option("--temperature", o->temperature, "Divides the logits of every predictive")
      ->capture_default_str();
  cmd->add_option("--ood", o->ood,
                  "Another data set whose test split is scored as out of distribution "
                  "(AUROC of 1 − max probability)");
  cmd->add_option("--plot-out", o->plot_out,
                  "Regression with one input: draw the Laplace and MAP predictives (mean ± 2 sd) "
                  "over the --eval inputs with the training data (.png)");
  cmd->add_option("--probs-out", o->probs_out, "Write the predictive's probabilities (.npy)");
  cmd->add_option("--reliability-out", o->reliability_out,
                  "Draw the reliability diagram of the Laplace and MAP predictives (.png)");
  cmd->add_option("--rotations", o->rotations,
                  "Also score the --eval examples of the test split rotated by each of these "
                  "angles (degrees, e.g. 0,15,…,180: rotated MNIST), under the one posterior")
      ->delimiter(',');
  cmd->add_option("--rotation-plots", o->rotation_plots,
                  "With --rotations: draw NLL and ECE against the angle to PREFIX-nll.png and "
                  "PREFIX-ece.png");
  cmd->add_option("--save", o->save,
                  "Write the fitted posterior (curvature, prior, the weights' fingerprint) to this "
                  "safetensors file");
  cmd->add_option("--load", o->load,
                  "Predict with a posterior saved by --save for this checkpoint instead of fitting "
                  "one (no curvature is computed)");
  cmd->add_option("--batch", o->batch, "Examples per recorded batch")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed for sampled labels and Monte-Carlo draws")
      ->capture_default_str();
  cmd->add_option("--precision", o->precision, "float32 or float64: the model's sweeps")
      ->capture_default_str();
  return [o, cmd] {
    o->laplace.check();
    // A loaded posterior is used as saved: the options that fit one would be ignored.
    for (const char* fitting : {"--examples", "--weights", "--structure", "--rank", "--curvature",
                                "--mc-samples", "--prior", "--prior-precision", "--val", "--save",
                                "--noise", "--linearized-model", "--subnet-size", "--subnet-by"})
      CURV_CHECK(o->load.empty() || cmd->count(fitting) == 0, "laplace: --load takes the ",
                 "posterior as saved: expected no ", fitting, ", found it given");
    if (!o->load.empty()) check_readable(o->load, "--load", "a posterior saved by --save");
    check_writable(o->save, "--save");
    check_one_of(o->predictive, {"probit", "mc", "bridge", "sample", "map", "glm"}, "laplace",
                 "--predictive");
    o->predictive_given = cmd->count("--predictive") > 0;
    check_writable(o->plot_out, "--plot-out");
    CURV_CHECK(o->predictive != "sample" || o->laplace.structure != "lowrank",
               "laplace: --predictive sample draws weights through a kron, diag or full ",
               "structure's inverse root: expected one of those, found --structure lowrank");
    CURV_CHECK(!o->laplace.tuned_prior() || o->predictive != "sample",
               "laplace: --prior-precision val-nll tunes a linearized predictive: expected ",
               "--predictive probit, mc, bridge or map, found sample");
    check_one_of(o->precision, {"float32", "float64"}, "laplace", "--precision");
    CURV_CHECK(o->samples >= 1 && o->batch >= 1 && o->temperature > 0,
               "laplace: expected --samples, --batch >= 1 and --temperature > 0");
    check_writable(o->probs_out, "--probs-out");
    check_writable(o->reliability_out, "--reliability-out");
    CURV_CHECK(o->rotation_plots.empty() || !o->rotations.empty(),
               "laplace: --rotation-plots draws the scores of --rotations, found none given");
    if (!o->rotation_plots.empty()) {
      check_writable(o->rotation_plots + "-nll.png", "--rotation-plots");
      check_writable(o->rotation_plots + "-ece.png", "--rotation-plots");
    }
    for (double degrees : o->rotations)
      CURV_CHECK(std::isfinite(degrees), "laplace: expected --rotations in degrees, found ",
                 degrees);
    o->resolve_data("laplace");
    return o->precision == "float64" ? run<double>(*o) : run<float>(*o);
  };
}

}  // namespace curv::cli
