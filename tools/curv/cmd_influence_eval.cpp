// curv influence-eval: the ground truths influence scores are measured against
// (influence/retrain.hpp, docs/methods/influence.md).
//   --optimum  Newton's method on L(θ) = (1/N) Σ ℓₙ + (wd/2)‖θ‖² over --train-subset from the
//              checkpoint, to ‖∇L‖ <= --tolerance, saved to --save: the θ* that influence
//              functions linearize around (an SGD checkpoint is only near it).
//   --loo      for each query, the --top training examples with the largest and the smallest
//              scores in --scores (a [queries, train] .npy from curv influence); each of them is
//              left out and the model retrained from θ* by Newton's method, and the actual change
//              m(z'; θ₋z) − m(z'; θ*) is set against the predicted s(z, z')/N: Pearson and
//              Spearman correlations per query and over all pairs.
//   --lds      the linear datamodeling score: --subsets random subsets S of --fraction of the
//              training set, the model retrained on each (its own mean loss, from θ*), and per
//              query the Spearman correlation over the subsets between the predicted output
//              −Σ_{z∈S} s(z, z') (the full model's plus Σ_{z∉S} s/N, up to a constant) and the
//              actual one; the LDS is their mean over the queries. --retrain recipe trains a
//              network from scratch on each subset by the checkpoint's recorded recipe instead
//              (influence/retrain_recipe.hpp), --retrain-seeds models per subset averaged.
//              --retrain warm, for networks: from the checkpoint by --steps of SGD in one fixed
//              data order, the full objective once and each reduced one with the same draws
//              (influence/retrain_warm.hpp); the change is measured from the full run's end.
//   --pbrf     as --loo, against the proximal Bregman response function (Bae et al. 2022) of
//              each example, with λ = wd + --damping: what influence functions linearize,
//              solved by --steps of SGD from the checkpoint.
// --select-by F chooses the --loo/--pbrf examples by F's scores alone, so every --scores file is
// measured on the same retrainings.
// Newton's retraining is for convex models (logistic regression): it needs a positive definite
// Hessian, and starts at the minimum --optimum finds.
// Prints a JSON line; --pairs writes every (query, train or subset, predicted, actual) as CSV.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "checkpoint_input.hpp"
#include "checks.hpp"
#include "commands.hpp"
#include "curv/curvature/data.hpp"
#include "curv/curvature/model_operators.hpp"
#include "curv/data/index_list.hpp"
#include "curv/influence/retrain.hpp"
#include "curv/influence/retrain_recipe.hpp"
#include "curv/influence/retrain_warm.hpp"
#include "curv/io/npy.hpp"
#include "curv/linalg/dense.hpp"
#include "curv/metrics/metrics.hpp"
#include "curv/nn/checkpoint.hpp"
#include "curv/report/plot.hpp"
#include "curv/train/recorder.hpp"
#include "influence_eval.hpp"
#include "progress.hpp"
#include "provenance.hpp"

namespace curv::cli {

namespace {

using Opts = InfluenceEvalOptions;

// Writes rows to F.tmp and renames it to F when done, so a failed run leaves no partial file.
class CsvOut {
 public:
  CsvOut(const std::string& path, const char* header) : path_(path) {
    if (path_.empty()) return;
    f_.open(path_ + ".tmp");
    f_ << header << '\n';
  }
  bool open() const { return f_.is_open(); }
  std::ofstream& row() { return f_; }
  void finish() {
    if (!f_.is_open()) return;
    f_.close();
    CURV_CHECK(f_.good(), "--pairs '", path_, "': writing failed");
    std::rename((path_ + ".tmp").c_str(), path_.c_str());
  }

 private:
  std::string path_;
  std::ofstream f_;
};

// z = (H̄ + wd·I)⁻¹ r with H̄ the mean-loss Hessian at θ* over the training set, formed densely
// once: every leave-one-out Hessian differs from it by O(1/N), so CG needs a few iterations.
linalg::Preconditioner dense_preconditioner(Model<double>& model, const Split<double>& split,
                                            const std::vector<index_t>& train, double wd,
                                            index_t batch) {
  CurvatureData<double> data(model, split, train, batch);
  ModelOperator<double> H(data, ModelCurvature::Hessian, ParamSubset::all(model.params().info()));
  const index_t P = H.size();
  auto L = std::make_shared<std::vector<double>>(linalg::cholesky(materialize(H), P, wd));
  return [L, P](const double* r, double* z) {
    std::copy(r, r + P, z);
    linalg::cholesky_solve(*L, P, z, 1);
  };
}

int run(const Opts& o) {
  const auto t0 = std::chrono::steady_clock::now();
  Progress progress;
  auto model = load_checkpoint<double>(o.in.checkpoint, o.in.model, o.in.config);
  auto task = make_task<double>(o.in.data, model->loss(), o.in.task);
  task->check_model(*model);
  const IndexList train = parse_index_list(o.train, *task);
  const Split<double>& split = task->split(train.split);
  const index_t N = index_t(train.size()), P = model->params().size();
  const double wd = o.weight_decay >= 0 ? o.weight_decay : recorded_weight_decay(o.in.checkpoint);
  influence::NewtonOptions newton;
  newton.weight_decay = wd, newton.total = N, newton.gradient_tolerance = o.tolerance;
  newton.batch = o.batch;
  nlohmann::json info = {{"model", model->name()}, {"parameters", P},
                         {"train", train.spec},    {"train_count", N},
                         {"weight_decay", wd},     {"tolerance", o.tolerance}};

  if (o.mislabel) return mislabel(o, *task, train, info, t0);
  if (o.optimum) {
    progress.note("influence-eval: Newton's method on the training objective");
    const auto r = influence::newton_minimize(*model, split, train.indices, newton);
    CURV_CHECK(r.converged, "influence-eval: Newton's method stopped at ‖∇L‖ = ", r.gradient_norm,
               " after ", r.steps, " steps, above --tolerance ", o.tolerance,
               " (is the model convex?)");
    auto meta = carried_metadata(o.in.checkpoint);
    meta["curv.optimum"] = nlohmann::json{
        {"train", train.spec},
        {"weight_decay", wd},
        {"gradient_norm",
         r.gradient_norm}}.dump();
    save_checkpoint(*model, o.save, meta);
    info["method"] = "optimum", info["steps"] = r.steps, info["products"] = r.products;
    info["gradient_norm"] = r.gradient_norm, info["objective"] = r.objective;
    info["save"] = o.save, info["seconds"] = seconds_since(t0);
    std::printf("%s\n", info.dump().c_str());
    return 0;
  }

  // --loo
  const IndexList queries = parse_index_list(o.queries, *task);
  const Split<double>& query_split = task->split(queries.split);
  const index_t Q = index_t(queries.size());
  // One [Q, N] matrix per --scores file (--lds evaluates several against the same retrainings).
  std::vector<std::vector<double>> all_scores;
  // A [Q, N] score matrix from the file `path` that `option` names, its shape checked.
  const auto score_matrix = [&](const std::string& path, const char* option) {
    const NpyArray file = read_npy(path);
    CURV_CHECK(file.shape == (std::vector<std::int64_t>{Q, N}), option, " '", path,
               "': expected a [", Q, ", ", N, "] score matrix for --queries ", queries.spec,
               " and --train-subset ", train.spec, ", found shape ", shape_string(file.shape));
    return file.to_double();
  };
  for (const std::string& f : o.scores) all_scores.push_back(score_matrix(f, "--scores"));
  CURV_CHECK(o.lds || 2 * o.top <= N, "influence-eval: expected 2 × --top <= ", N,
             " training examples, found --top ", o.top);
  const Measurement m = Measurement::parse(o.measurement);

  // Newton's retraining: θ* must be the minimum the scores linearize around.
  const bool by_recipe = o.retrain == "recipe", by_newton = o.retrain == "newton" && !o.pbrf;
  double at_start = 0;
  if (by_newton) {
    influence::NewtonOptions check = newton;
    check.max_steps = 0;
    at_start = influence::newton_minimize(*model, split, train.indices, check).gradient_norm;
    CURV_CHECK(at_start <= 100 * o.tolerance, "influence-eval: ", o.in.checkpoint,
               " is not at the training objective's minimum (‖∇L‖ = ", at_start,
               "): run curv influence-eval --optimum --save F first and score at F");
    info["gradient_norm_at_start"] = at_start;
  }

  // --loo, --pbrf: per score file (or the --select-by file) and query, the top and bottom --top
  // training examples (positions in the train list); each example in their union is retrained
  // without once, for every file.
  const std::size_t F = all_scores.size();
  std::vector<double> selection;
  if (!o.select_by.empty()) {
    selection = score_matrix(o.select_by, "--select-by");
    info["select_by"] = o.select_by;
  }
  std::vector<std::vector<std::vector<index_t>>> chosen(F);
  std::set<index_t> removed;
  for (std::size_t f = 0; f < F && !o.lds; ++f) {
    chosen[f].resize(std::size_t(Q));
    for (index_t q = 0; q < Q; ++q) {
      const std::vector<double>& Sf = selection.empty() ? all_scores[f] : selection;
      std::vector<index_t> order(static_cast<std::size_t>(N));
      for (index_t n = 0; n < N; ++n) order[std::size_t(n)] = n;
      std::sort(order.begin(), order.end(), [&](index_t a, index_t b) {
        return Sf[std::size_t(q * N + a)] > Sf[std::size_t(q * N + b)];
      });
      auto& c = chosen[f][std::size_t(q)];
      c.assign(order.begin(), order.begin() + o.top);
      c.insert(c.end(), order.end() - o.top, order.end());
      removed.insert(c.begin(), c.end());
    }
  }

  if (by_newton) {
    progress.note("influence-eval: the dense Hessian at θ* for the Newton steps' preconditioner");
    CURV_CHECK(P <= o.dense_limit,
               "influence-eval: the preconditioner forms the Hessian densely: "
               "expected at most --dense-limit ",
               o.dense_limit, " parameters, found ", P);
    newton.preconditioner = dense_preconditioner(*model, split, train.indices, wd, o.batch);
  }
  info["scores"] = o.scores, info["measurement"] = m.name();
  info["queries"] = queries.spec, info["query_count"] = Q;
  info["setup_seconds"] = seconds_since(t0);
  // Retrains on each kept list (indices in the train split) from θ*, with progress.
  const auto retrain = [&](const std::vector<std::vector<index_t>>& kept, const char* what) {
    const auto r =
        influence::retrain_outcomes(*model, split, kept, query_split, queries.indices, m, newton,
                                    [&](index_t i) { progress.count(i, long(kept.size()), what); });
    progress.clear();
    info["newton_steps"] = r.steps, info["hessian_products"] = r.products;
    info["worst_newton_steps"] = r.worst_steps;
    info["worst_gradient_norm"] = r.worst_gradient_norm;
    return r.change;
  };

  if (o.lds) {
    // Each subset's positions in the train list are kept for scoring every file.
    const index_t K = index_t(std::llround(o.fraction * double(N)));
    const auto subsets = influence::random_subsets(N, K, o.subsets, o.seed);
    std::vector<std::vector<index_t>> kept;
    for (const auto& subset : subsets) {
      kept.emplace_back();
      for (index_t i : subset) kept.back().push_back(train.indices[std::size_t(i)]);
    }
    newton.total = K;  // each subset's model is trained on its own mean loss
    std::vector<std::vector<double>> change;
    if (by_recipe) {
      change = recipe_change(o, *model, query_split, kept, queries, m, info, progress);
    } else if (by_newton) {
      change = retrain(kept, "influence-eval: retraining on each subset");
    } else {  // warm: each subset is the full set with its complement weighted 0
      std::vector<std::vector<index_t>> out;
      for (const auto& subset : subsets) {
        std::vector<bool> in(static_cast<std::size_t>(N), false);
        for (index_t i : subset) in[std::size_t(i)] = true;
        out.emplace_back();
        for (index_t n = 0; n < N; ++n)
          if (!in[std::size_t(n)]) out.back().push_back(train.indices[std::size_t(n)]);
      }
      change = warm_change(o, wd, train, out, queries, m, info, progress);
    }
    std::vector<std::vector<double>> act(static_cast<std::size_t>(Q));  // [query][subset]
    for (const auto& c : change)
      for (index_t q = 0; q < Q; ++q) act[std::size_t(q)].push_back(c[std::size_t(q)]);

    CsvOut pairs(o.pairs, "scores,query,subset,predicted,actual");
    nlohmann::json results = nlohmann::json::array();
    for (std::size_t f = 0; f < all_scores.size(); ++f) {
      const std::vector<double>& Sf = all_scores[f];
      // A query whose predictions or outcomes do not vary has no rank correlation: left out of
      // the mean and counted.
      double sum = 0;
      index_t counted = 0;
      nlohmann::json per_query = nlohmann::json::array();
      std::vector<Series> plotted;
      for (index_t q = 0; q < Q; ++q) {
        std::vector<double> pred;
        for (std::size_t t = 0; t < subsets.size(); ++t) {
          double p = 0;
          for (index_t i : subsets[t]) p -= Sf[std::size_t(q * N + i)];
          pred.push_back(p / double(N));
          if (pairs.open())
            pairs.row() << o.scores[f] << ',' << queries.indices[std::size_t(q)] << ',' << t << ','
                        << pred.back() << ',' << act[std::size_t(q)][t] << '\n';
        }
        const double rho = metrics::spearman(pred, act[std::size_t(q)]);
        per_query.push_back({{"query", queries.indices[std::size_t(q)]}, {"spearman", rho}});
        if (std::isfinite(rho)) sum += rho, ++counted;
        if (q < 6)
          plotted.push_back({"test " + std::to_string(queries.indices[std::size_t(q)]), pred,
                             act[std::size_t(q)], true});
      }
      CURV_CHECK(counted > 0, "influence-eval: --scores '", o.scores[f],
                 "': no query's predictions and outcomes varied over the ", o.subsets,
                 " subsets: no rank correlation to average");
      if (!o.plot.empty() && f == 0) {
        plot_lines(o.plot, "Subsets: actual against predicted change of the query's " + m.name(),
                   "predicted: −(Σ of s over S)/N", "actual (retrained on S)", plotted);
        info["plot"] = o.plot;
      }
      results.push_back({{"scores", o.scores[f]},
                         {"lds", sum / double(counted)},
                         {"queries_counted", counted},
                         {"per_query", per_query}});
    }
    pairs.finish();
    info["method"] = "lds", info["subsets"] = o.subsets, info["fraction"] = o.fraction;
    info["subset_size"] = K, info["seed"] = o.seed, info["results"] = results;
    if (!o.pairs.empty()) info["pairs"] = o.pairs;
    info["seconds"] = seconds_since(t0);
    std::printf("%s\n", info.dump().c_str());
    return 0;
  }

  // actual[z][q]: m(z'_q; θ₋z) − m(z'_q; θ*) (Newton), the same from the full run's end (warm),
  // or m(z'_q; θ_z) − m(z'_q; θ*) with θ_z z's Bregman response (--pbrf).
  std::vector<std::vector<double>> change;
  if (by_newton) {
    std::vector<std::vector<index_t>> kept;
    for (index_t z : removed) {
      kept.emplace_back();
      kept.back().reserve(std::size_t(N - 1));
      for (index_t n = 0; n < N; ++n)
        if (n != z) kept.back().push_back(train.indices[std::size_t(n)]);
    }
    change = retrain(kept, "influence-eval: retraining without each example");
  } else {
    std::vector<std::vector<index_t>> sets;
    for (index_t z : removed) sets.push_back({train.indices[std::size_t(z)]});
    change = warm_change(o, wd, train, sets, queries, m, info, progress);
  }
  std::map<index_t, std::vector<double>> actual;
  std::size_t i = 0;
  for (index_t z : removed) actual[z] = change[i++];

  CsvOut pairs(o.pairs, "scores,query,train,predicted,actual");
  nlohmann::json results = nlohmann::json::array();
  for (std::size_t f = 0; f < F; ++f) {
    std::vector<double> all_pred, all_act;
    double pearson_sum = 0, spearman_sum = 0;  // over the queries (pearson throws when undefined)
    nlohmann::json per_query = nlohmann::json::array();
    std::vector<Series> plotted;
    for (index_t q = 0; q < Q; ++q) {
      std::vector<double> pred, act;
      for (index_t z : chosen[f][std::size_t(q)]) {
        pred.push_back(all_scores[f][std::size_t(q * N + z)] / double(N));
        act.push_back(actual[z][std::size_t(q)]);
        if (pairs.open())
          pairs.row() << o.scores[f] << ',' << queries.indices[std::size_t(q)] << ','
                      << train.indices[std::size_t(z)] << ',' << pred.back() << ',' << act.back()
                      << '\n';
      }
      plotted.push_back(
          {"test " + std::to_string(queries.indices[std::size_t(q)]), pred, act, true});
      const double pearson = metrics::pearson(pred, act), spearman = metrics::spearman(pred, act);
      per_query.push_back({{"query", queries.indices[std::size_t(q)]},
                           {"pearson", pearson},
                           {"spearman", spearman}});
      pearson_sum += pearson, spearman_sum += spearman;
      all_pred.insert(all_pred.end(), pred.begin(), pred.end());
      all_act.insert(all_act.end(), act.begin(), act.end());
    }
    if (!o.plot.empty() && f == 0) {
      // Koh & Liang's figure: actual against predicted change, one colour per query, and y = x.
      const auto [lo, hi] = std::minmax_element(all_pred.begin(), all_pred.end());
      const auto [alo, ahi] = std::minmax_element(all_act.begin(), all_act.end());
      const double a = std::min(*lo, *alo), b = std::max(*hi, *ahi);
      plotted.push_back({"y = x", {a, b}, {a, b}, false});
      plot_lines(o.plot,
                 std::string(o.pbrf ? "Bregman response" : "Leave-one-out") +
                     ": actual against predicted change of the query's " + m.name(),
                 "predicted s/N", o.pbrf ? "actual (response function)" : "actual (retrained)",
                 plotted);
      info["plot"] = o.plot;
    }
    // Over all pairs, each query's scale weighs in; the per-query means weigh queries alike.
    results.push_back({{"scores", o.scores[f]},
                       {"pearson", metrics::pearson(all_pred, all_act)},
                       {"spearman", metrics::spearman(all_pred, all_act)},
                       {"mean_query_pearson", pearson_sum / double(Q)},
                       {"mean_query_spearman", spearman_sum / double(Q)},
                       {"per_query", per_query}});
  }
  pairs.finish();
  info["method"] = o.pbrf ? "pbrf" : "loo", info["top"] = o.top;
  info["retrainings"] = removed.size(), info["results"] = results;
  if (!o.pairs.empty()) info["pairs"] = o.pairs;
  info["seconds"] = seconds_since(t0);
  std::printf("%s\n", info.dump().c_str());
  return 0;
}

}  // namespace

Runner add_influence_eval(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "influence-eval",
      "Ground truths for influence scores: the exact optimum, leave-one-out retraining, "
      "the linear datamodeling score (docs/methods/influence.md)");
  auto o = std::make_shared<Opts>();
  o->in.add_checkpoint_options(cmd);
  cmd->add_flag("--optimum", o->optimum,
                "Newton's method to the training objective's minimum, saved to --save");
  cmd->add_flag("--loo", o->loo,
                "Leave-one-out retraining of each query's --top most and least influential "
                "examples against --scores");
  cmd->add_flag("--pbrf", o->pbrf,
                "Each query's --top most and least influential examples against their proximal "
                "Bregman response (networks; λ = weight decay + --damping)");
  cmd->add_flag("--lds", o->lds,
                "The linear datamodeling score of --scores: retraining on --subsets random "
                "subsets");
  cmd->add_flag("--mislabel", o->mislabel,
                "Mislabel detection: AUC of each --scores self-influence against the labels the "
                "checkpoint's --label-noise replaced");
  cmd->add_option("--train-subset", o->train, "The training set (an index list)")
      ->capture_default_str();
  cmd->add_option("--queries", o->queries,
                  "--loo, --lds: the queries the scores were computed for");
  cmd->add_option("--scores", o->scores,
                  "--loo, --lds: the [queries, train] .npy of curv influence (several, "
                  "comma-separated, share the retrainings)")
      ->delimiter(',');
  cmd->add_option("--select-by", o->select_by,
                  "--loo, --pbrf: choose the examples by this [queries, train] .npy alone, so "
                  "every --scores file is measured on the same retrainings");
  cmd->add_option("--top", o->top, "--loo: examples per query from each end of its scores")
      ->capture_default_str();
  cmd->add_option("--subsets", o->subsets, "--lds: random training subsets retrained on")
      ->capture_default_str();
  cmd->add_option("--fraction", o->fraction, "--lds: each subset's share of the training set")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "--lds: the subsets' random seed")->capture_default_str();
  cmd->add_option("--retrain", o->retrain,
                  "--loo, --lds: newton (convex models, from the optimum), warm (networks: "
                  "--steps of SGD from the checkpoint, the full run's draws shared) or recipe "
                  "(--lds: from scratch by the checkpoint's recorded training recipe)")
      ->capture_default_str();
  cmd->add_option("--steps", o->warm.steps, "--retrain warm, --pbrf: SGD steps per run")
      ->capture_default_str();
  cmd->add_option("--lr", o->warm.lr, "--retrain warm, --pbrf: SGD's fixed learning rate")
      ->capture_default_str();
  cmd->add_option("--momentum", o->warm.momentum, "--retrain warm, --pbrf: SGD's momentum")
      ->capture_default_str();
  cmd->add_option("--retrain-batch", o->warm.batch, "--retrain warm, --pbrf: examples per step")
      ->capture_default_str();
  cmd->add_option("--data-seed", o->warm.data_seed,
                  "--retrain warm, --pbrf: the one data order every run takes")
      ->capture_default_str();
  cmd->add_option("--average-last", o->warm.average_last,
                  "--retrain warm, --pbrf: end each run at the mean of its last K iterates (0: "
                  "at its last)")
      ->capture_default_str();
  cmd->add_option("--damping", o->warm.damping,
                  "--pbrf: λ beyond the weight decay (the estimators' own)")
      ->capture_default_str();
  cmd->add_option("--precision", o->precision,
                  "--retrain warm, --pbrf: float32 or float64, the runs' dtype")
      ->capture_default_str();
  cmd->add_option("--retrain-seeds", o->retrain_seeds,
                  "--lds --retrain recipe: models per subset, averaged (seeds shared by every "
                  "subset)")
      ->capture_default_str();
  cmd->add_option("--measurement", o->measurement,
                  "--loo, --lds: the queries' scalar, loss or margin")
      ->capture_default_str();
  cmd->add_option("--weight-decay", o->weight_decay,
                  "wd of the training objective (default: the checkpoint's recorded recipe, "
                  "else 0)");
  cmd->add_option("--tolerance", o->tolerance, "Newton's method: ‖∇L‖ to reach")
      ->capture_default_str();
  cmd->add_option("--batch", o->batch, "Examples per recorded batch")->capture_default_str();
  cmd->add_option("--dense-limit", o->dense_limit,
                  "--loo, --lds: the largest P whose Hessian is formed densely (P² doubles)")
      ->capture_default_str();
  cmd->add_option("--save", o->save, "--optimum: the checkpoint at the minimum");
  cmd->add_option("--pairs", o->pairs,
                  "--loo, --lds: every (query, train or subset, predicted, actual) as CSV");
  cmd->add_option("--plot", o->plot, "--loo, --lds: a PNG of actual against predicted changes");
  return [o, cmd] {
    o->in.resolve_data("influence-eval");
    const int modes = int(o->optimum) + int(o->loo) + int(o->lds) + int(o->mislabel) + int(o->pbrf);
    CURV_CHECK(modes == 1,
               "influence-eval: expected one of --optimum, --loo, --pbrf, --lds or --mislabel, "
               "found ",
               modes == 0 ? "none" : std::to_string(modes));
    CURV_CHECK(!o->optimum || !o->save.empty(), "influence-eval: --optimum needs --save FILE");
    const char* mode = o->loo ? "--loo" : o->pbrf ? "--pbrf" : "--lds";
    CURV_CHECK(o->optimum || o->mislabel || (!o->queries.empty() && !o->scores.empty()),
               "influence-eval: ", mode, " needs --queries and --scores");
    CURV_CHECK(!o->mislabel || !o->scores.empty(),
               "influence-eval: --mislabel needs --scores (self-influence from curv influence "
               "--self)");
    for (const std::string& f : o->scores) check_readable(f, "--scores", "an .npy file");
    CURV_CHECK(o->subsets >= 2, "influence-eval: expected --subsets >= 2, found ", o->subsets);
    CURV_CHECK(o->fraction > 0 && o->fraction < 1,
               "influence-eval: expected --fraction in (0, 1), found ", o->fraction);
    const Measurement m = Measurement::parse(o->measurement);
    CURV_CHECK(m.kind == Measurement::Kind::Loss || m.kind == Measurement::Kind::Margin,
               "influence-eval: expected --measurement loss or margin, found '", o->measurement,
               "'");
    CURV_CHECK(o->weight_decay >= 0 || cmd->count("--weight-decay") == 0,
               "influence-eval: expected --weight-decay >= 0, found ", o->weight_decay);
    CURV_CHECK(o->tolerance > 0, "influence-eval: expected --tolerance > 0, found ", o->tolerance);
    CURV_CHECK(o->retrain == "newton" || o->retrain == "recipe" || o->retrain == "warm",
               "influence-eval: expected --retrain newton, warm or recipe, found '", o->retrain,
               "'");
    CURV_CHECK(!o->pbrf || cmd->count("--retrain") == 0,
               "influence-eval: --pbrf solves its own response function, found --retrain ",
               o->retrain);
    CURV_CHECK(o->select_by.empty() || o->loo || o->pbrf,
               "influence-eval: --select-by is for --loo and --pbrf");
    if (!o->select_by.empty()) check_readable(o->select_by, "--select-by", "an .npy file");
    check_one_of(o->precision, {"float32", "float64"}, "influence-eval", "--precision");
    CURV_CHECK(o->warm.steps >= 1, "influence-eval: expected --steps >= 1, found ", o->warm.steps);
    CURV_CHECK(o->warm.lr > 0, "influence-eval: expected --lr > 0, found ", o->warm.lr);
    CURV_CHECK(o->warm.momentum >= 0 && o->warm.momentum < 1,
               "influence-eval: expected --momentum in [0, 1), found ", o->warm.momentum);
    CURV_CHECK(o->warm.batch >= 1, "influence-eval: expected --retrain-batch >= 1, found ",
               o->warm.batch);
    CURV_CHECK(o->warm.damping >= 0, "influence-eval: expected --damping >= 0, found ",
               o->warm.damping);
    CURV_CHECK(o->retrain != "recipe" || o->lds,
               "influence-eval: --retrain recipe is for --lds, found ",
               o->loo       ? "--loo"
               : o->pbrf    ? "--pbrf"
               : o->optimum ? "--optimum"
                            : "--mislabel");
    CURV_CHECK(o->retrain_seeds >= 1, "influence-eval: expected --retrain-seeds >= 1, found ",
               o->retrain_seeds);
    CURV_CHECK(o->top >= 1, "influence-eval: expected --top >= 1, found ", o->top);
    CURV_CHECK(o->batch >= 1, "influence-eval: expected --batch >= 1, found ", o->batch);
    check_writable(o->save, "--save");
    check_writable(o->pairs, "--pairs");
    check_writable(o->plot, "--plot");
    return run(*o);
  };
}

}  // namespace curv::cli
