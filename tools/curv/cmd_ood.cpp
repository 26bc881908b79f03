// curv ood: how well a trained classifier tells its own test inputs from out-of-distribution
// ones — another data set's test split (--ood) or a held-out class of its own (--out) — scored
// by AUROC, AUPR and FPR at 95 % TPR (metrics/) for each score, larger meaning "more OOD":
//   maxprob         1 − the largest softmax probability of the network (MAP)
//   entropy         the entropy of the network's softmax (MAP)
//   local-ensemble  the extrapolation score E_m(x) = ‖(I − U_m U_mᵀ) ∇_θ f(x)‖ for each m of
//                   --eigenvectors, U_m the top eigenvectors of the training curvature by
//                   Lanczos (laplace/local_ensemble.hpp)
//   laplace         1 − the largest probability of the Laplace probit predictive, the posterior
//                   chosen by the flags `curv laplace` takes (laplace_flags.hpp)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "checkpoint_input.hpp"
#include "checks.hpp"
#include "commands.hpp"
#include "curv/core/rng.hpp"
#include "curv/curvature/factory.hpp"
#include "curv/data/index_list.hpp"
#include "curv/data/task.hpp"
#include "curv/laplace/local_ensemble.hpp"
#include "curv/laplace/predictive.hpp"
#include "curv/laplace/tune.hpp"
#include "curv/metrics/metrics.hpp"
#include "curv/nn/checkpoint.hpp"
#include "curv/report/plot.hpp"
#include "laplace_flags.hpp"
#include "progress.hpp"
#include "readable.hpp"

namespace curv::cli {
namespace {

struct Opts : CheckpointInput {
  std::string ood, in = "test:all", out = "test:all", scores = "maxprob,entropy,local-ensemble";
  LaplaceFlags laplace;
  // The local ensemble's curvature: which, on which weights and examples, how many eigenvectors.
  std::string ensemble_curvature = "ggn", ensemble_weights = "all";
  std::string ensemble_examples = "train:all", gradient = "predicted";
  index_t ensemble_subsample = 1000;  // examples drawn from ensemble_examples (0: all of them)
  std::vector<index_t> eigenvectors = {0, 10, 20, 50, 100};
  index_t lanczos_iterations = 0, batch = 128;
  std::uint64_t seed = 0;
  std::string precision = "float32", plot_out;
};

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  for (std::size_t start = 0;;) {
    const auto comma = s.find(',', start);
    out.push_back(s.substr(start, comma == std::string::npos ? comma : comma - start));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

nlohmann::json detection(const std::vector<double>& in, const std::vector<double>& out) {
  const metrics::Detection d = metrics::detection(in, out);
  return {{"auroc", d.auroc}, {"aupr", d.aupr}, {"fpr95", d.fpr95}};
}

double mean_confidence(const std::vector<double>& probs, index_t K) {
  double s = 0;
  for (double u : metrics::one_minus_max_probability(probs, K)) s += 1 - u;
  return s / double(probs.size() / std::size_t(K));
}

template <class T>
int run(const Opts& o, const std::vector<std::string>& names) {
  const auto t0 = std::chrono::steady_clock::now();
  Progress bar;
  auto model = load_checkpoint<T>(o.checkpoint, o.model, o.config);
  auto task = make_task<T>(o.data, model->loss(), o.task);
  task->check_model(*model);
  CURV_CHECK(model->loss() == "cross_entropy", "ood: expected a classifier (cross-entropy), ",
             "found a model trained with ", model->loss());
  // The OOD inputs: another data set's examples, or more of this one's (a held-out class).
  std::unique_ptr<Task<T>> other;
  if (!o.ood.empty()) {
    TaskOptions t = o.task;
    t.labels.clear();
    other = make_task<T>(o.ood, model->loss(), t);
    other->check_model(*model);
  }
  const Task<T>& out_task = other ? *other : *task;
  const IndexList in = parse_index_list(o.in, *task), out = parse_index_list(o.out, out_task);
  const Split<T>&in_split = task->split(in.split), &out_split = out_task.split(out.split);
  const index_t K = model->outputs();
  nlohmann::json j = {
      {"model", model->name()}, {"data", o.data},
      {"in", in.spec},          {"out", (other ? o.ood + " " : o.data + " ") + out.spec},
      {"n_in", in.size()},      {"n_out", out.size()},
      {"seed", o.seed},         {"precision", o.precision}};

  const auto map_in = laplace::map_probabilities(laplace::logits_of(*model, in_split, in.indices));
  const auto map_out =
      laplace::map_probabilities(laplace::logits_of(*model, out_split, out.indices));
  j["map_in_confidence"] = mean_confidence(map_in, K);
  j["map_out_confidence"] = mean_confidence(map_out, K);
  for (const std::string& name : names) {
    const auto ts = std::chrono::steady_clock::now();
    if (name == "maxprob") {
      j["maxprob"] = detection(metrics::one_minus_max_probability(map_in, K),
                               metrics::one_minus_max_probability(map_out, K));
    } else if (name == "entropy") {
      j["entropy"] = detection(metrics::entropy(map_in, K), metrics::entropy(map_out, K));
    } else if (name == "local-ensemble") {
      IndexList fit = parse_index_list(o.ensemble_examples, *task);
      if (o.ensemble_subsample > 0 && o.ensemble_subsample < fit.size()) {
        // The first n of a seeded shuffle, in index order: a subsample of any list (a held-out
        // class's complement included).
        auto& idx = fit.indices;
        Rng rng(o.seed);
        for (std::size_t i = 0; i < std::size_t(o.ensemble_subsample); ++i)
          std::swap(idx[i], idx[i + rng.below(std::uint64_t(idx.size() - i))]);
        idx.resize(std::size_t(o.ensemble_subsample));
        std::sort(idx.begin(), idx.end());
        fit.spec += " (" + std::to_string(o.ensemble_subsample) + " drawn)";
      }
      bar.note("ood: Lanczos on the " + o.ensemble_curvature + " over " + fit.spec);
      CurvatureData<T> data(*model, task->split(fit.split), fit.indices, o.batch);
      OperatorSpec spec;
      spec.name = o.ensemble_curvature, spec.subset = o.ensemble_weights, spec.seed = o.seed;
      auto op = make_operator(data, spec);
      const index_t m = *std::max_element(o.eigenvectors.begin(), o.eigenvectors.end());
      const laplace::LocalEnsemble le(*op, m, o.lanczos_iterations, o.seed);
      auto scores = [&](const Split<T>& split, const IndexList& list, const std::string& what) {
        bar.restart();
        return le.scores(*model, split, list.indices, o.ensemble_weights, o.gradient,
                         o.eigenvectors, 64, [&](index_t done, index_t n) {
                           bar.count(long(done), long(n), "gradients of " + what);
                         });
      };
      const auto s_in = scores(in_split, in, in.spec), s_out = scores(out_split, out, out.spec);
      nlohmann::json per = nlohmann::json::array();
      const std::size_t J = o.eigenvectors.size();
      for (std::size_t k = 0; k < J; ++k) {
        std::vector<double> a, b;
        for (std::size_t i = k; i < s_in.size(); i += J) a.push_back(s_in[i]);
        for (std::size_t i = k; i < s_out.size(); i += J) b.push_back(s_out[i]);
        nlohmann::json d = detection(a, b);
        d["m"] = o.eigenvectors[k];
        per.push_back(d);
      }
      std::vector<double> top;
      for (std::size_t i = 0; i < std::min<std::size_t>(5, le.eigenvalues().size()); ++i)
        top.push_back(le.eigenvalues()[i]);
      j["local_ensemble"] = {
          {"by_eigenvectors", per},        {"curvature", o.ensemble_curvature},
          {"weights", o.ensemble_weights}, {"examples", fit.spec},
          {"gradient", o.gradient},        {"lanczos_iterations", le.iterations()},
          {"converged", le.converged()},   {"top_eigenvalues", top}};
    } else {  // laplace
      const LaplaceFlags& f = o.laplace;
      const IndexList fit = parse_index_list(f.examples, *task);
      bar.note("ood: Laplace posterior (" + f.structure + " " + f.curvature + " on " + f.weights +
               " weights) over " + fit.spec);
      laplace::FitReport report;
      auto post = laplace::fit_posterior(*model, task->split(fit.split), fit.indices,
                                         f.spec(o.checkpoint, double(fit.size()), o.batch, o.seed),
                                         &report);
      if (f.tuned_prior()) {
        const IndexList val = parse_index_list(f.val, *task);
        laplace::tune_prior_by_nll(*post, *model, task->split(val.split), val.indices,
                                   report.weights, LaplaceFlags::prior_grid());
      }
      auto probs = [&](const Split<T>& split, const IndexList& list, const std::string& what) {
        bar.restart();
        return laplace::probit(laplace::linearize(
            *post, *model, split, list.indices, report.weights, 64, [&](index_t done, index_t n) {
              bar.count(long(done), long(n), "Jacobians of " + what);
            }));
      };
      const auto p_in = probs(in_split, in, in.spec), p_out = probs(out_split, out, out.spec);
      nlohmann::json d = detection(metrics::one_minus_max_probability(p_in, K),
                                   metrics::one_minus_max_probability(p_out, K));
      d["in_confidence"] = mean_confidence(p_in, K);
      d["out_confidence"] = mean_confidence(p_out, K);
      const auto& prior = post->prior();
      d["prior_precision"] = prior.size() == 1 ? nlohmann::json(prior[0]) : nlohmann::json(prior);
      d["weights"] = f.weights, d["structure"] = f.structure, d["curvature"] = f.curvature;
      d["prior_by"] = f.tuned_prior() ? "val-nll on " + f.val : f.prior_precision;
      d["examples"] = fit.spec;
      j["laplace"] = d;
    }
    j[name == "local-ensemble" ? "local_ensemble_seconds" : name + "_seconds"] = seconds_since(ts);
  }
  if (!o.plot_out.empty()) {  // the local ensemble's AUROC against m, the other scores flat
    Series le{"local ensemble", {}, {}};
    for (const auto& d : j["local_ensemble"]["by_eigenvectors"])
      le.x.push_back(d["m"].get<double>()), le.y.push_back(d["auroc"].get<double>());
    std::vector<Series> lines{le};
    const double lo = le.x.front(), hi = le.x.back();
    const std::pair<const char*, const char*> flat[] = {
        {"maxprob", "maximum probability"}, {"entropy", "entropy"}, {"laplace", "Laplace"}};
    for (const auto& [key, label] : flat)
      if (j.contains(key)) {
        const double a = j[key]["auroc"];
        lines.push_back({label, {lo, hi}, {a, a}});
      }
    plot_lines(o.plot_out,
               model->name() + ": " + in.spec + " against " + j["out"].get<std::string>(),
               "eigenvectors m projected out", "AUROC", lines, false, true);
    j["plot_out"] = o.plot_out;
  }
  j["seconds"] = seconds_since(t0);
  bar.clear();
  std::printf("%s\n", rounded(j).dump().c_str());
  return 0;
}

}  // namespace

Runner add_ood(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "ood",
      "Score how well a classifier separates its test inputs from out-of-distribution ones "
      "(another data set, or a held-out class): maximum probability, entropy, local ensembles, "
      "Laplace");
  auto o = std::make_shared<Opts>();
  o->add_checkpoint_options(cmd);
  cmd->add_option("--ood", o->ood,
                  "The out-of-distribution data set (its --out examples); without it, --out "
                  "lists examples of --data (e.g. test:class:9)");
  cmd->add_option("--in", o->in, "In-distribution examples of --data")->capture_default_str();
  cmd->add_option("--out", o->out, "Out-of-distribution examples (of --ood, else of --data)")
      ->capture_default_str();
  cmd->add_option("--score", o->scores,
                  "Comma-separated: maxprob, entropy, local-ensemble, laplace")
      ->capture_default_str();
  auto* le = cmd->add_option_group("local-ensemble", "--score local-ensemble (Madras et al. 2020)");
  le->add_option("--eigenvectors", o->eigenvectors,
                 "Comma-separated m: top curvature eigenvectors projected out (0: the gradient's "
                 "norm alone)")
      ->delimiter(',')
      ->capture_default_str();
  le->add_option("--ensemble-curvature", o->ensemble_curvature, "hessian, ggn, ef or fisher")
      ->capture_default_str();
  le->add_option("--ensemble-examples", o->ensemble_examples,
                 "Training examples the curvature is measured on")
      ->capture_default_str();
  le->add_option("--ensemble-subsample", o->ensemble_subsample,
                 "Examples drawn (seeded) from --ensemble-examples (0: all)")
      ->capture_default_str();
  le->add_option("--ensemble-weights", o->ensemble_weights,
                 "all, last or layer names: the weights of the curvature and the gradients")
      ->capture_default_str();
  le->add_option("--gradient", o->gradient,
                 "predicted (the predicted class's logit) or min-class (the smallest score over "
                 "every logit's gradient)")
      ->capture_default_str();
  le->add_option("--lanczos-iterations", o->lanczos_iterations,
                 "Lanczos steps (0: max(2m, m + 20))")
      ->capture_default_str();
  auto* lp = cmd->add_option_group("laplace", "--score laplace: the posterior (as curv laplace)");
  o->laplace.add(lp);
  cmd->add_option("--batch", o->batch, "Examples per recorded batch")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed of the Lanczos start vector and sampled labels")
      ->capture_default_str();
  cmd->add_option("--precision", o->precision, "float32 or float64: the model's sweeps")
      ->capture_default_str();
  cmd->add_option("--plot-out", o->plot_out,
                  "PNG: the local ensemble's AUROC against m, beside the other scores'");
  return [o] {
    const std::vector<std::string> names = split_commas(o->scores);
    for (const std::string& n : names)
      check_one_of(n, {"maxprob", "entropy", "local-ensemble", "laplace"}, "ood", "--score");
    check_one_of(o->ensemble_curvature, {"hessian", "ggn", "ef", "fisher"}, "ood",
                 "--ensemble-curvature");
    check_one_of(o->gradient, {"predicted", "min-class"}, "ood", "--gradient");
    CURV_CHECK(!o->eigenvectors.empty() &&
                   *std::min_element(o->eigenvectors.begin(), o->eigenvectors.end()) >= 0,
               "ood: expected --eigenvectors m >= 0");
    check_one_of(o->precision, {"float32", "float64"}, "ood", "--precision");
    CURV_CHECK(o->batch >= 1 && o->ensemble_subsample >= 0,
               "ood: expected --batch >= 1 and --ensemble-subsample >= 0, found ", o->batch,
               " and ", o->ensemble_subsample);
    CURV_CHECK(o->plot_out.empty() ||
                   std::find(names.begin(), names.end(), "local-ensemble") != names.end(),
               "ood: --plot-out draws the local ensemble's AUROC against m: expected "
               "local-ensemble among --score, found '",
               o->scores, "'");
    check_writable(o->plot_out, "--plot-out");
    o->laplace.check();
    o->resolve_data("ood");
    return o->precision == "float64" ? run<double>(*o, names) : run<float>(*o, names);
  };
}

}  // namespace curv::cli
