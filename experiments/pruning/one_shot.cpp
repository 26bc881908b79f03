// Experiment 1: WoodFisher's MNIST MLP (784-40-20-10, ReLU, no biases), pruned one-shot (R = 1,
// no fine-tuning) from 50 % to 98 % global sparsity by every method, with m = 100 and m = 1000
// per-example gradients and damping 1e-5 (the WoodFisher repository's MNIST protocol). First,
// the three forms of F⁻¹ — dense, one WoodFisher block, static M-FAC — are compared on the same
// F over fc2 and fc3 (1,000 weights: the dense form of all 32,360 would need 8 GB).
// Part "spread": the 95 %, m = 100 figure over three dense models and five draws of the examples,
// to show how much of a one-shot comparison is the model and the draw rather than the method.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "curv/core/rng.hpp"
#include "curv/curvature/gradients.hpp"
#include "curv/nn/checkpoint.hpp"
#include "curv/prune/obs.hpp"
#include "curv/prune/prune.hpp"
#include "curv/report/plot.hpp"
#include "curv/train/run.hpp"
#include "pruning.hpp"

namespace curv::experiments {
namespace {

const std::vector<double> kSparsities{0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98};
const std::vector<index_t> kGrads{100, 1000};
constexpr double kDamping = 1e-5;
const char* const kFactoredLabel = "kfac-obs (factored, π off)";

// The dense model, WoodFisher's MNIST recipe: inputs standardized by the training set's mean and
// deviation (without it the background pixels' weights see no gradient and every method prunes
// them for free), SGD at 0.001 with momentum 0.5, batch 64, 25 epochs (94.2 % here; WoodFisher's
// checkpoint: 93.97 %, the same recipe: its exponential decay only starts at epoch 120).
Recipe mlp_recipe() {
  Recipe r;
  r.model = "mlp", r.config = R"({"widths":[784,40,20,10],"bias":false})", r.data = "mnist";
  r.task.standardize = true;
  r.optimizer = "sgd", r.lr = 0.001, r.momentum = 0.5, r.batch = 64, r.epochs = 25;
  r.evaluate = {"test:all"}, r.eval_batch = 1000;
  return r;
}

// n distinct training examples drawn with the seed (a partial Fisher–Yates shuffle).
std::vector<index_t> draw(index_t pool, index_t n, std::uint64_t seed) {
  std::vector<index_t> all(static_cast<std::size_t>(pool));
  for (index_t i = 0; i < pool; ++i) all[std::size_t(i)] = i;
  Rng rng(seed);
  for (index_t i = 0; i < n; ++i)
    std::swap(all[std::size_t(i)],
              all[std::size_t(i + index_t(rng.below(std::uint64_t(pool - i))))]);
  all.resize(std::size_t(n));
  return all;
}

void agreement(const std::string& checkpoint, const std::vector<index_t>& examples,
               const std::string& rows) {
  auto model = load_checkpoint<double>(checkpoint);
  TaskOptions standardized;
  standardized.standardize = true;
  auto task = make_task<double>("mnist", model->loss(), standardized);
  const std::string subset = "fc2.weight,fc3.weight";
  std::vector<double> w;
  for (const char* name : {"fc2.weight", "fc3.weight"}) {
    const ParamInfo& p = model->params().info(model->params().find(name));
    w.insert(w.end(), model->params().data() + p.offset,
             model->params().data() + p.offset + p.shape.numel());
  }
  const auto d = index_t(w.size());
  for (index_t m : kGrads) {
    GradientOptions g;
    g.subset = subset;
    GradientStream<double> stream(*model, task->split("train"),
                                  std::vector<index_t>(examples.begin(), examples.begin() + m), g);
    std::vector<double> G;
    stream.run([&](const GradientBlock<double>& b) {
      G.insert(G.end(), b.data, b.data + b.rows * b.columns);
    });
    const auto dense = dense_fisher_inverse(G, m, d, kDamping);
    const auto block = block_fisher_inverse(G, m, d, kDamping, d);
    const auto mfac = mfac_fisher_inverse(G, m, d, kDamping);
    const std::vector<std::uint8_t> all(static_cast<std::size_t>(d), 1);
    for (double s : kSparsities) {
      const auto k = index_t(std::llround(s * double(d)));
      const auto Q = lowest_scores(obs_scores(w, *dense), k, all);
      const auto ref = woodfisher_update(w, Q, *dense);
      nlohmann::json row = {{"part", "agreement"}, {"m", m}, {"sparsity", s}, {"weights", d}};
      for (const auto* F : {block.get(), mfac.get()}) {
        const auto q = lowest_scores(obs_scores(w, *F), k, all);
        const auto u = woodfisher_update(w, q, *F);
        double diff = 0;
        for (index_t i = 0; i < d; ++i)
          diff = std::max(diff, std::abs(u[std::size_t(i)] - ref[std::size_t(i)]));
        const std::string name = F == block.get() ? "block" : "mfac";
        row[name + "_same_weights"] = q == Q;
        row[name + "_max_update_difference"] = diff;
      }
      append_row(rows, row);
    }
  }
}

struct Method {
  std::string label, method;
  bool layer_blocks = false;
  index_t recomputations = 1;
  std::vector<index_t> grads{100, 1000};
  // kfac-obs: (A + √λI) ⊗ (G + √λI), the WoodFisher repository's K-FAC pruner (π off), instead
  // of A ⊗ G + λI.
  bool factored = false;

  PruneOptions options(double sparsity, index_t m) const {
    PruneOptions o;
    o.method = method, o.sparsity = sparsity, o.grads = m, o.damping = kDamping;
    o.layer_blocks = layer_blocks, o.recomputations = recomputations;
    if (factored) o.kfac_damping = KfacDamping::Factored, o.kfac_pi = false;
    return o;
  }
};

void tables_and_plots(const PruningSettings& s, const std::vector<nlohmann::json>& rows) {
  // The table: test accuracy (%) per method and m, one column per sparsity; then the agreement.
  std::ofstream md(s.out + "/one-shot.md");
  md << "| method | m |";
  for (double sp : kSparsities) md << " " << 100 * sp << " % |";
  md << "\n|---|---|";
  for (std::size_t i = 0; i < kSparsities.size(); ++i) md << "---|";
  md << "\n";
  std::vector<std::pair<std::string, index_t>> keys;
  for (const auto& r : rows)
    if (r["part"] == "one-shot") {
      const std::pair<std::string, index_t> key{r["method"], r["m"]};
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
    }
  for (const auto& [method, m] : keys) {
    md << "| " << method << " | " << (m == 0 ? std::string("–") : std::to_string(m)) << " |";
    for (double sp : kSparsities)
      for (const auto& r : rows)
        if (r["part"] == "one-shot" && r["method"] == method && r["m"] == m &&
            r["sparsity"] == sp) {
          char b[32];
          std::snprintf(b, sizeof b, " %.2f |", 100 * r["test_accuracy"].get<double>());
          md << b;
        }
    md << "\n";
  }
  md << "\n| m | sparsity | block: same weights | block: max update difference | "
        "mfac: same weights | mfac: max update difference |\n|---|---|---|---|---|---|\n";
  for (const auto& r : rows)
    if (r["part"] == "agreement") {
      char b[160];
      std::snprintf(b, sizeof b, "| %d | %g %% | %s | %.1e | %s | %.1e |\n", r["m"].get<int>(),
                    100 * r["sparsity"].get<double>(), r["block_same_weights"] ? "yes" : "no",
                    r["block_max_update_difference"].get<double>(),
                    r["mfac_same_weights"] ? "yes" : "no",
                    r["mfac_max_update_difference"].get<double>());
      md << b;
    }
  // Accuracy vs sparsity, one plot per m; magnitude (no curvature) on both.
  for (index_t m : kGrads) {
    std::map<std::string, Series> by;
    for (const auto& r : rows)
      if (r["part"] == "one-shot" && (r["m"] == m || r["m"] == 0)) {
        Series& x = by[r["method"]];
        x.label = r["method"];
        x.x.push_back(100 * r["sparsity"].get<double>());
        x.y.push_back(100 * r["test_accuracy"].get<double>());
      }
    std::vector<Series> series;
    for (auto& [k, v] : by) series.push_back(v);
    if (series.empty()) continue;
    plot_lines(s.out + "/one-shot-m" + std::to_string(m) + ".png",
               "MNIST MLP 784-40-20-10, one-shot, m = " + std::to_string(m), "global sparsity (%)",
               "test accuracy (%)", series);
  }
}

// The spread behind one number: at 95 % with m = 100 (the protocol's single figure), every method
// on three dense models (recipe seeds 0, 1, 2) and five draws of the 100 gradients' examples each.
const std::vector<std::uint64_t> kSpreadModels{0, 1, 2}, kSpreadDraws{1, 2, 3, 4, 5};

void spread_table(const PruningSettings& s, const std::vector<nlohmann::json>& rows) {
  std::ofstream md(s.out + "/one-shot-spread.md");
  md << "| method | median | min | max | runs |\n|---|---|---|---|---|\n";
  std::vector<std::string> labels;
  for (const auto& r : rows)
    if (r["part"] == "spread" &&
        std::find(labels.begin(), labels.end(), r["method"]) == labels.end())
      labels.push_back(r["method"]);
  for (const std::string& label : labels) {
    std::vector<double> acc;
    for (const auto& r : rows)
      if (r["part"] == "spread" && r["method"] == label)
        acc.push_back(100 * r["test_accuracy"].get<double>());
    char b[160];
    std::snprintf(b, sizeof b, "| %s | %.2f | %.2f | %.2f | %zu |\n", label.c_str(), median(acc),
                  *std::min_element(acc.begin(), acc.end()),
                  *std::max_element(acc.begin(), acc.end()), acc.size());
    md << b;
  }
  std::vector<double> dense;
  for (const auto& r : rows)
    if (r["part"] == "spread-dense") dense.push_back(100 * r["test_accuracy"].get<double>());
  if (!dense.empty()) {
    char b[120];
    std::snprintf(b, sizeof b, "\nDense models: %.2f (%.2f–%.2f) %%.\n", median(dense),
                  *std::min_element(dense.begin(), dense.end()),
                  *std::max_element(dense.begin(), dense.end()));
    md << b;
  }
}

}  // namespace

void one_shot_spread(const PruningSettings& s) {
  const std::string rows_path = s.out + "/one-shot-spread.jsonl";
  if (s.replot) return spread_table(s, read_rows(rows_path));
  std::filesystem::remove(rows_path);
  const std::vector<Method> methods{{"magnitude", "magnitude"},
                                    {"obd (diagonal EF)", "obd"},
                                    {"kfac-obs", "kfac-obs"},
                                    {kFactoredLabel, "kfac-obs", false, 1, {100}, true},
                                    {"woodfisher (layer blocks)", "woodfisher", true},
                                    {"woodfisher (B = 128)", "woodfisher"},
                                    {"mfac", "mfac"}};
  for (const std::uint64_t seed : kSpreadModels) {
    Recipe r = mlp_recipe();
    r.seed = r.data_seed = seed;
    auto model = make_recipe_model<float>(r);
    auto task = make_recipe_task<float>(r, *model);
    auto opt = make_recipe_optimizer<float>(r);
    const RunSummary run = run_training(r, *task, *model, *opt);
    append_row(rows_path, {{"part", "spread-dense"},
                           {"seed", seed},
                           {"test_accuracy", run.evaluations.back().metrics.at("test_accuracy")}});
    const std::vector<float> dense(model->params().data(),
                                   model->params().data() + model->params().size());
    const IndexList test = parse_index_list("test:all", *task);
    for (const std::uint64_t d : kSpreadDraws) {
      const std::vector<index_t> examples = draw(task->split("train").size(), 100, d);
      for (const Method& method : methods) {
        if (method.method == "magnitude" && d != kSpreadDraws.front()) continue;
        std::copy(dense.begin(), dense.end(), model->params().data());
        model->params().set_mask({});
        prune(*model, task->split("train"), examples, method.options(0.95, 100));
        append_row(rows_path,
                   {{"part", "spread"},
                    {"method", method.label},
                    {"seed", seed},
                    {"draw", d},
                    {"test_accuracy", task->evaluate(*model, test, 1000).at("test_accuracy")}});
      }
    }
  }
  spread_table(s, read_rows(rows_path));
}

void one_shot_mlp(const PruningSettings& s) {
  const std::string rows_path = s.out + "/one-shot.jsonl";
  if (s.replot) return tables_and_plots(s, read_rows(rows_path));
  std::filesystem::remove(rows_path);
  const Recipe r = mlp_recipe();
  auto model = make_recipe_model<float>(r);
  auto task = make_recipe_task<float>(r, *model);
  auto opt = make_recipe_optimizer<float>(r);
  const RunSummary run = run_training(r, *task, *model, *opt);
  const double dense_accuracy = run.evaluations.back().metrics.at("test_accuracy");
  const std::string checkpoint = s.out + "/mlp-dense.safetensors";
  save_checkpoint(*model, checkpoint);
  append_row(rows_path, {{"part", "dense"}, {"test_accuracy", dense_accuracy}});

  const std::vector<index_t> examples = draw(task->split("train").size(), 1000, 1);
  agreement(checkpoint, examples, rows_path);

  const std::vector<float> dense(model->params().data(),
                                 model->params().data() + model->params().size());
  const IndexList test = parse_index_list("test:all", *task);
  const std::vector<Method> methods{
      {"magnitude", "magnitude"},
      {"obd (diagonal EF)", "obd"},
      {"kfac-obs", "kfac-obs"},
      {kFactoredLabel, "kfac-obs", false, 1, {100, 1000}, true},
      {"woodfisher (layer blocks)", "woodfisher", true},
      {"woodfisher (B = 128)", "woodfisher"},
      {"mfac", "mfac"},
      // Beyond the protocol: F estimated again in 16 steps.
      {"woodfisher (layer blocks), R = 16", "woodfisher", true, 16, {1000}},
      {"mfac, R = 16", "mfac", false, 16, {1000}}};
  for (const Method& method : methods)
    for (index_t m : method.grads) {
      if (method.method == "magnitude" && m != kGrads.front()) continue;
      for (double sparsity : kSparsities) {
        std::copy(dense.begin(), dense.end(), model->params().data());
        model->params().set_mask({});
        const PruneReport p =
            prune(*model, task->split("train"), examples, method.options(sparsity, m));
        const Metrics after = task->evaluate(*model, test, 1000);
        append_row(rows_path, {{"part", "one-shot"},
                               {"method", method.label},
                               {"m", method.method == "magnitude" ? 0 : m},
                               {"sparsity", sparsity},
                               {"achieved", p.sparsity},
                               {"test_accuracy", after.at("test_accuracy")},
                               {"seconds", p.seconds}});
      }
    }
  tables_and_plots(s, read_rows(rows_path));
}

}  // namespace curv::experiments
