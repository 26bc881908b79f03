// Experiments 2 and 3, pruning while LeNet-5 trains (prune/schedule.hpp), three seeds each.
//   gradual  4 dense epochs (SGD, momentum 0.9, cosine from 0.05), then three stages of two
//            epochs at a constant 0.01: Zhu & Gupta's cubic schedule over the first epoch
//            (a pruning step every 20 steps) to 90 %, 95 % and then 98 %, the second epoch
//            fine-tuning; the test accuracy at each stage's end. 10 epochs in all. Magnitude,
//            OBD (diagonal EF), WoodFisher (B = 128) and M-FAC, m = 256, λ = 1e-5.
//   acdc     30 epochs (--acdc-epochs), SGD with momentum 0.9, cosine from 0.05: dense; AC/DC
//            (warm-up 10 %, phases 5 %, last compressed phase ≥ 15 %, momentum restarted at each
//            decompression) and its twin run with a dense last phase; gradual magnitude (10 % to
//            60 % of the budget, 20 pruning steps); at 90 % and 95 %.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "curv/prune/schedule.hpp"
#include "curv/report/plot.hpp"
#include "curv/train/run.hpp"
#include "pruning.hpp"

namespace curv::experiments {
namespace {

Recipe lenet(const PruningSettings& s, int seed) {
  Recipe r;
  r.model = "lenet5", r.data = s.data, r.optimizer = "sgd", r.momentum = 0.9, r.batch = 128;
  r.evaluate = {"test:all"}, r.eval_batch = 1000;
  r.seed = std::uint64_t(seed), r.data_seed = std::uint64_t(seed);
  return r;
}

std::string pct(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", 100 * x);
  return b;
}

// "median (min–max)" of a metric over the rows that match.
template <class Match>
std::string spread(const std::vector<nlohmann::json>& rows, const std::string& key, Match match) {
  std::vector<double> xs;
  for (const auto& r : rows)
    if (match(r) && r.contains(key)) xs.push_back(r[key].get<double>());
  if (xs.empty()) return "–";
  const auto [lo, hi] = std::minmax_element(xs.begin(), xs.end());
  return pct(median(xs)) + " (" + pct(*lo) + "–" + pct(*hi) + ")";
}

const std::vector<std::string> kGradualMethods{"magnitude", "obd", "woodfisher", "mfac"};
const std::vector<double> kStages{0.9, 0.95, 0.98};

void gradual_report(const PruningSettings& s, const std::vector<nlohmann::json>& rows) {
  std::ofstream md(s.out + "/gradual-" + s.data + ".md");
  md << "| method | dense | 90 % | 95 % | 98 % |\n|---|---|---|---|---|\n";
  std::vector<Series> series;
  for (const std::string& m : kGradualMethods) {
    md << "| " << m << " | "
       << spread(rows, "test_accuracy", [&](const auto& r) { return r["part"] == "dense"; });
    Series line{m, {}, {}};
    for (double target : kStages) {
      auto match = [&](const auto& r) {
        return r["part"] == "gradual" && r["method"] == m && r["sparsity"] == target;
      };
      md << " | " << spread(rows, "test_accuracy", match);
      std::vector<double> xs;
      for (const auto& r : rows)
        if (match(r)) xs.push_back(r["test_accuracy"].get<double>());
      if (!xs.empty()) line.x.push_back(100 * target), line.y.push_back(100 * median(xs));
    }
    md << " |\n";
    series.push_back(line);
  }
  plot_lines(s.out + "/gradual-" + s.data + ".png",
             "LeNet-5 " + s.data + ", gradual pruning (median of seeds)", "sparsity (%)",
             "test accuracy (%)", series);
}

}  // namespace

void gradual_lenet(const PruningSettings& s) {
  const std::string rows_path = s.out + "/gradual-" + s.data + ".jsonl";
  if (s.replot) return gradual_report(s, read_rows(rows_path));
  std::filesystem::remove(rows_path);
  for (int seed : s.seeds) {
    Recipe dense = lenet(s, seed);
    dense.epochs = 4, dense.lr = 0.05, dense.schedule.kind = Schedule::Kind::Cosine;
    auto model = make_recipe_model<float>(dense);
    auto task = make_recipe_task<float>(dense, *model);
    {
      auto opt = make_recipe_optimizer<float>(dense);
      const RunSummary run = run_training(dense, *task, *model, *opt);
      append_row(rows_path,
                 {{"part", "dense"},
                  {"seed", seed},
                  {"test_accuracy", run.evaluations.back().metrics.at("test_accuracy")}});
    }
    ParamStore<float>& ps = model->params();
    const std::vector<float> trained(ps.data(), ps.data() + ps.size());
    const Split<float>& train = task->split("train");
    std::vector<index_t> all(static_cast<std::size_t>(train.size()));
    for (index_t i = 0; i < train.size(); ++i) all[std::size_t(i)] = i;
    for (const std::string& method : kGradualMethods) {
      std::copy(trained.begin(), trained.end(), ps.data());
      ps.set_mask({});
      Recipe stage = lenet(s, seed);
      stage.epochs = 2, stage.lr = 0.01;
      auto opt = make_recipe_optimizer<float>(stage);  // one optimizer through the stages
      const index_t per_epoch = train.size() / stage.batch;
      double before = 0, seconds = 0;
      for (std::size_t k = 0; k < kStages.size(); ++k) {
        GradualSchedule g;
        g.initial = before, g.final = kStages[k], g.start = 0, g.end = per_epoch, g.every = 20;
        PruneOptions o;
        o.method = method, o.grads = 256, o.damping = 1e-5;
        GradualPruning<float> hook(*model, train, all, g, o,
                                   std::uint64_t(seed) * 100 + std::uint64_t(k));
        stage.data_seed = std::uint64_t(seed) * 100 + std::uint64_t(k) + 1;
        RunHooks<float> hooks;
        hooks.hooks = {&hook};
        const RunSummary run = run_training(stage, *task, *model, *opt, hooks);
        seconds += hook.seconds();
        append_row(rows_path,
                   {{"part", "gradual"},
                    {"seed", seed},
                    {"method", method},
                    {"sparsity", kStages[k]},
                    {"achieved", prunable_sparsity(ps).global},
                    {"test_accuracy", run.evaluations.back().metrics.at("test_accuracy")},
                    {"pruning_seconds", seconds}});
        before = kStages[k];
      }
    }
  }
  gradual_report(s, read_rows(rows_path));
}

namespace {

// "acdc": the sparse model (and the dense model at the last decompressed phase's end); "acdc
// twin": the identical run with a dense last phase, AC/DC's dense model fine-tuned.
const std::vector<std::string> kAcdcRuns{"dense", "acdc", "acdc twin", "gradual magnitude"};
const std::vector<double> kAcdcSparsities{0.9, 0.95};

std::string acdc_name(const PruningSettings& s) {
  return s.out + "/acdc-" + s.data + "-" + std::to_string(s.acdc_epochs) + "ep";
}

void acdc_report(const PruningSettings& s, const std::vector<nlohmann::json>& rows) {
  std::ofstream md(acdc_name(s) + ".md");
  md << "| sparsity | dense (" << s.acdc_epochs
     << " epochs) | AC/DC sparse | AC/DC dense, fine-tuned | AC/DC dense at the last D phase | "
        "gradual magnitude |\n"
     << "|---|---|---|---|---|---|\n";
  auto run = [](const std::string& name, double sp) {
    return [=](const nlohmann::json& r) {
      return r["part"] == "acdc" && r["run"] == name && (name == "dense" || r["sparsity"] == sp);
    };
  };
  for (double sp : kAcdcSparsities)
    md << "| " << pct(sp) << " % | " << spread(rows, "test_accuracy", run("dense", sp)) << " | "
       << spread(rows, "test_accuracy", run("acdc", sp)) << " | "
       << spread(rows, "test_accuracy", run("acdc twin", sp)) << " | "
       << spread(rows, "dense_twin_test_accuracy", run("acdc", sp)) << " | "
       << spread(rows, "test_accuracy", run("gradual magnitude", sp)) << " |\n";
  // Seed 0's curves, one plot per sparsity.
  for (double sp : kAcdcSparsities) {
    std::vector<Series> series;
    for (const std::string& name : kAcdcRuns)
      for (const auto& r : rows)
        if (run(name, sp)(r) && r["seed"] == s.seeds.front() && r.contains("curve")) {
          Series line{name, {}, {}};
          for (const auto& p : r["curve"])
            line.x.push_back(p[0].get<double>()), line.y.push_back(100 * p[1].get<double>());
          series.push_back(line);
        }
    if (!series.empty())
      plot_lines(acdc_name(s) + "-" + pct(sp).substr(0, 2) + ".png",
                 "LeNet-5 " + s.data + ", " + pct(sp) + " % sparse, seed " +
                     std::to_string(s.seeds.front()),
                 "epoch", "test accuracy (%)", series, false, true);
  }
}

}  // namespace

void acdc_lenet(const PruningSettings& s) {
  const std::string rows_path = acdc_name(s) + ".jsonl";
  if (s.replot) return acdc_report(s, read_rows(rows_path));
  std::filesystem::remove(rows_path);
  for (int seed : s.seeds)
    for (const std::string& name : kAcdcRuns)
      for (double sp : kAcdcSparsities) {
        if (name == "dense" && sp != kAcdcSparsities.front()) continue;
        Recipe r = lenet(s, seed);
        r.epochs = s.acdc_epochs, r.lr = 0.05, r.schedule.kind = Schedule::Kind::Cosine;
        auto model = make_recipe_model<float>(r);
        auto task = make_recipe_task<float>(r, *model);
        auto opt = make_recipe_optimizer<float>(r);
        const Split<float>& train = task->split("train");
        const index_t total = r.epochs * (train.size() / r.batch);
        std::unique_ptr<AcdcPruning<float>> acdc;
        std::unique_ptr<GradualPruning<float>> gradual;
        RunHooks<float> hooks;
        if (name == "acdc" || name == "acdc twin") {
          AcdcSchedule a = make_acdc_schedule(sp, total, total / 10, total / 20, total * 15 / 100);
          a.dense_finish = name == "acdc twin";
          acdc = std::make_unique<AcdcPruning<float>>(*model, train, a, /*reset_momentum=*/true);
          hooks.hooks = {acdc.get()};
        } else if (name == "gradual magnitude") {
          GradualSchedule g;
          g.final = sp, g.start = total / 10, g.end = total * 6 / 10;
          g.every = (g.end - g.start) / 20;
          PruneOptions o;
          gradual = std::make_unique<GradualPruning<float>>(*model, train, std::vector<index_t>{},
                                                            g, o, std::uint64_t(seed));
          hooks.hooks = {gradual.get()};
        }
        nlohmann::json curve = nlohmann::json::array();
        hooks.on_evaluation = [&](const Evaluation& e) {
          curve.push_back({e.epoch, e.metrics.at("test_accuracy")});
        };
        r.eval_every = train.size() / r.batch / 2;
        const RunSummary run = run_training(r, *task, *model, *opt, hooks);
        nlohmann::json row = {{"part", "acdc"},
                              {"seed", seed},
                              {"run", name},
                              {"epochs", r.epochs},
                              {"sparsity", name == "dense" ? 0.0 : sp},
                              {"achieved", prunable_sparsity(model->params()).global},
                              {"test_accuracy", run.evaluations.back().metrics.at("test_accuracy")},
                              {"curve", curve}};
        if (name == "acdc") {  // the dense model at the last decompressed phase's end
          ParamStore<float>& ps = model->params();
          ps.set_mask({});
          std::copy(acdc->dense_twin().begin(), acdc->dense_twin().end(), ps.data());
          row["dense_twin_test_accuracy"] =
              task->evaluate(*model, parse_index_list("test:all", *task), 1000).at("test_accuracy");
        }
        append_row(rows_path, row);
      }
  acdc_report(s, read_rows(rows_path));
}

}  // namespace curv::experiments
