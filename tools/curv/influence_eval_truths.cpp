// curv influence-eval's ground truths that retrain from scratch or warm, and its mislabel ranking
// (influence_eval.hpp).
#include <algorithm>
#include <filesystem>
#include <string>

#include "curv/influence/retrain.hpp"
#include "curv/influence/retrain_recipe.hpp"
#include "curv/io/npy.hpp"
#include "curv/metrics/metrics.hpp"
#include "curv/nn/checkpoint.hpp"
#include "curv/report/plot.hpp"
#include "curv/train/recorder.hpp"
#include "influence_eval.hpp"
#include "provenance.hpp"

namespace curv::cli {

std::string shape_string(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::vector<std::vector<double>> recipe_change(const InfluenceEvalOptions& o,
                                               const Model<double>& model,
                                               const Split<double>& query_split,
                                               const std::vector<std::vector<index_t>>& kept,
                                               const IndexList& queries, const Measurement& m,
                                               nlohmann::json& info, Progress& progress) {
  const auto meta = carried_metadata(o.in.checkpoint);
  const auto recorded = meta.find("curv.recipe");
  CURV_CHECK(recorded != meta.end(), "influence-eval: --retrain recipe needs the recipe ",
             o.in.checkpoint, " was trained with (curv train records it), found none");
  const Recipe r = recipe_from_json(nlohmann::json::parse(recorded->second));
  auto task = make_task<float>(o.in.data, model.loss(), o.in.task);
  const index_t models = index_t(kept.size()) * o.retrain_seeds;
  auto out = influence::recipe_outcomes<float>(
      r, *task, kept, task->split(queries.split), queries.indices, m, o.retrain_seeds,
      [&](index_t i) {
        progress.count(i, long(models), "influence-eval: training on each subset");
      });
  progress.clear();
  const auto base = influence::measurement_values(model, query_split, queries.indices, m);
  for (auto& v : out.values)
    for (std::size_t q = 0; q < v.size(); ++q) v[q] -= base[q];
  info["retrain"] = "recipe", info["retrain_seeds"] = o.retrain_seeds;
  info["training_steps"] = out.steps, info["training_seconds"] = out.seconds;
  info["recipe"] = nlohmann::json::parse(recorded->second);
  return out.values;
}

namespace {

template <class T>
std::vector<std::vector<double>> warm_change_as(const InfluenceEvalOptions& o, double wd,
                                                const IndexList& train,
                                                const std::vector<std::vector<index_t>>& removed,
                                                const IndexList& queries, const Measurement& m,
                                                nlohmann::json& info, Progress& progress) {
  auto model = load_checkpoint<T>(o.in.checkpoint, o.in.model, o.in.config);
  auto task = make_task<T>(o.in.data, model->loss(), o.in.task);
  influence::WarmOptions w = o.warm;
  w.weight_decay = wd;
  const auto tick = [&](index_t i) {
    progress.count(i, long(removed.size()) + (o.pbrf ? 0 : 1),
                   o.pbrf ? "influence-eval: each example's Bregman response"
                          : "influence-eval: warm retraining without each example");
  };
  const auto out =
      o.pbrf ? influence::bregman_response(*model, task->split(train.split), train.indices, removed,
                                           task->split(queries.split), queries.indices, m, w, tick)
             : influence::warm_leave_out(*model, task->split(train.split), train.indices, removed,
                                         task->split(queries.split), queries.indices, m, w, tick);
  progress.clear();
  info["retrain"] = o.pbrf ? "pbrf" : "warm";
  info["steps"] = w.steps, info["lr"] = w.lr, info["momentum"] = w.momentum;
  info["retrain_batch"] = w.batch, info["data_seed"] = w.data_seed;
  info["average_last"] = w.average_last;
  info["precision"] = o.precision;
  if (o.pbrf) info["damping"] = w.damping, info["lambda"] = wd + w.damping;
  info["training_steps"] = out.steps, info["training_seconds"] = out.seconds;
  info[o.pbrf ? "largest_drift" : "reference_drift"] = out.drift;
  return out.change;
}

}  // namespace

std::vector<std::vector<double>> warm_change(const InfluenceEvalOptions& o, double wd,
                                             const IndexList& train,
                                             const std::vector<std::vector<index_t>>& removed,
                                             const IndexList& queries, const Measurement& m,
                                             nlohmann::json& info, Progress& progress) {
  return o.precision == "float64"
             ? warm_change_as<double>(o, wd, train, removed, queries, m, info, progress)
             : warm_change_as<float>(o, wd, train, removed, queries, m, info, progress);
}

int mislabel(const InfluenceEvalOptions& o, const Task<double>& task, const IndexList& train,
             nlohmann::json& info, std::chrono::steady_clock::time_point t0) {
  const std::vector<index_t>& relabeled = task.relabeled(train.split);
  CURV_CHECK(!relabeled.empty(), "influence-eval: --mislabel needs relabeled examples in the ",
             train.split,
             " split: a checkpoint trained with --label-noise (and no --data, so its labels are "
             "rebuilt), or --test-label-noise for test; found none");
  const index_t N = index_t(train.size());
  std::vector<bool> positive(static_cast<std::size_t>(N));
  index_t positives = 0;
  for (index_t n = 0; n < N; ++n) {
    positive[std::size_t(n)] =
        std::binary_search(relabeled.begin(), relabeled.end(), train.indices[std::size_t(n)]);
    positives += positive[std::size_t(n)];
  }
  CURV_CHECK(positives > 0 && positives < N, "influence-eval: --mislabel needs both relabeled and ",
             "clean examples in --train-subset ", train.spec, ", found ", positives, " of ", N,
             " relabeled");
  nlohmann::json results = nlohmann::json::array();
  std::vector<Series> curves;
  for (const std::string& f : o.scores) {
    const NpyArray file = read_npy(f);
    CURV_CHECK(file.shape == std::vector<std::int64_t>{N}, "--scores '", f, "': expected the [", N,
               "] self-influence of --train-subset ", train.spec,
               " (curv influence --self), found shape ", shape_string(file.shape));
    const std::vector<double> score = file.to_double();
    std::vector<double> clean, flipped;
    for (index_t n = 0; n < N; ++n)
      (positive[std::size_t(n)] ? flipped : clean).push_back(score[std::size_t(n)]);
    // Highest self-influence first: the order a person would inspect the data in.
    std::vector<index_t> order(static_cast<std::size_t>(N));
    for (index_t n = 0; n < N; ++n) order[std::size_t(n)] = n;
    std::stable_sort(order.begin(), order.end(), [&](index_t a, index_t b) {
      return score[std::size_t(a)] > score[std::size_t(b)];
    });
    Series curve{std::filesystem::path(f).stem().string(), {0}, {0}, false};
    std::vector<double> found_at(static_cast<std::size_t>(N));  // after inspecting k + 1
    index_t found = 0;
    for (index_t k = 0; k < N; ++k) {
      found += positive[std::size_t(order[std::size_t(k)])];
      found_at[std::size_t(k)] = double(found) / double(positives);
      if ((k + 1) % std::max<index_t>(1, N / 200) == 0 || k + 1 == N)
        curve.x.push_back(double(k + 1) / double(N)), curve.y.push_back(found_at[std::size_t(k)]);
    }
    nlohmann::json at = nlohmann::json::object();
    for (const auto& [name, p] : {std::pair{"5%", 0.05}, {"10%", 0.1}, {"20%", 0.2}}) {
      const index_t k = std::max<index_t>(1, index_t(std::llround(p * double(N))));
      at[name] = found_at[std::size_t(k - 1)];
    }
    curves.push_back(std::move(curve));
    results.push_back({{"scores", f},
                       {"auc", metrics::detection(clean, flipped).auroc},
                       {"found_after_inspecting", at}});
  }
  if (!o.plot.empty()) {
    curves.push_back({"random order", {0, 1}, {0, 1}, false});
    plot_lines(o.plot, "Mislabel detection by self-influence", "fraction of the data inspected",
               "fraction of the relabeled examples found", curves, false, true);
    info["plot"] = o.plot;
  }
  info["method"] = "mislabel", info["relabeled"] = positives, info["results"] = results;
  info["seconds"] = seconds_since(t0);
  std::printf("%s\n", info.dump().c_str());
  return 0;
}
}  // namespace curv::cli
