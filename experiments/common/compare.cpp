#include "compare.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>

#include "curv/kernels/parallel.hpp"
#include "curv/train/trainer.hpp"
#include "plot.hpp"

namespace curv::experiments {
namespace {

namespace fs = std::filesystem;

struct Run {
  std::string optimizer;
  double lr = 0;
  std::uint64_t seed = 0;
  std::vector<double> steps, seconds, values;
  double steps_to_target = INFINITY, seconds_to_target = INFINITY, final_value = NAN;
  std::string failure;
};

// out/curves/OPT-lrLR-seedS.csv, relative to the output directory.
std::string curve_file(const std::string& name, double lr, std::uint64_t seed) {
  char file[160];
  std::snprintf(file, sizeof file, "/curves/%s-lr%g-seed%llu.csv", name.c_str(), lr,
                static_cast<unsigned long long>(seed));
  return file;
}

bool reached(const Comparison& c, double v) {
  return c.higher_is_better ? v >= c.target : v <= c.target;
}
bool better(const Comparison& c, double a, double b) {
  if (std::isnan(b)) return !std::isnan(a);
  return c.higher_is_better ? a > b : a < b;
}

Run train_one(const Comparison& c, const Task<float>& task, const std::string& name, double lr,
              std::uint64_t seed) {
  Run r;
  r.optimizer = name, r.lr = lr, r.seed = seed;
  auto model = make_model<float>(c.model, c.config);
  Rng init(seed);
  model->init(init);
  const auto it = c.settings.find(name);
  SecondOrderConfig cfg = it == c.settings.end() ? SecondOrderConfig{} : it->second;
  cfg.seed = seed;
  auto opt = make_optimizer<float>(name, lr, c.momentum, false, cfg);
  auto evaluate = [&](const TrainLoop<float>& loop) {
    const double v = task.evaluate(*model, c.eval_batch).at(c.metric);
    r.steps.push_back(double(loop.steps())), r.seconds.push_back(loop.seconds()),
        r.values.push_back(v);
    if (reached(c, v) && std::isinf(r.steps_to_target))
      r.steps_to_target = double(loop.steps()), r.seconds_to_target = loop.seconds();
  };
  try {
    const auto clip = c.clip.find(name);
    TrainLoop<float> loop(*model, *opt, task, c.batch, seed + 1000,
                          clip == c.clip.end() ? 0.0 : clip->second);
    const index_t total = loop.steps_per_epoch() * c.epochs;
    Schedule schedule;
    schedule.kind = c.cosine ? Schedule::Kind::Cosine : Schedule::Kind::Constant;
    schedule.base_lr = lr, schedule.total_steps = total, schedule.warmup_steps = c.warmup;
    evaluate(loop);
    while (loop.steps() < total) {
      loop.step(schedule.lr(loop.steps()));
      if (loop.steps() % c.eval_every == 0 || loop.steps() == total) evaluate(loop);
    }
    r.final_value = r.values.back();
  } catch (const Error& e) {
    r.failure =
        name + " lr " + std::to_string(lr) + ": " + e.what();  // a diverged grid point is a result
  }
  return r;
}

// A run's curve read back from the CSV the protocol wrote (for --replot); a missing file reads
// as a failed run.
Run load_run(const Comparison& c, const std::string& name, double lr, std::uint64_t seed) {
  Run r;
  r.optimizer = name, r.lr = lr, r.seed = seed;
  std::ifstream f(c.out + curve_file(name, lr, seed));
  std::string line;
  std::getline(f, line);
  while (std::getline(f, line)) {
    double st = 0, sec = 0, v = 0;
    if (std::sscanf(line.c_str(), "%lf,%lf,%lf", &st, &sec, &v) != 3) continue;
    r.steps.push_back(st), r.seconds.push_back(sec), r.values.push_back(v);
    if (reached(c, v) && std::isinf(r.steps_to_target))
      r.steps_to_target = st, r.seconds_to_target = sec;
  }
  if (r.values.empty())
    r.failure = "no curve";
  else
    r.final_value = r.values.back();
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty()      ? NAN
         : v.size() % 2 ? v[v.size() / 2]
                        : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// Steps to the target per run; a failed run never reaches it.
std::vector<double> steps_of(const std::vector<Run>& runs) {
  std::vector<double> v;
  for (const auto& r : runs) v.push_back(r.failure.empty() ? r.steps_to_target : INFINITY);
  return v;
}

// The median final value, a failed run counting as the worst; NaN if most runs failed.
double median_final(const Comparison& c, const std::vector<Run>& runs) {
  std::vector<double> v;
  for (const auto& r : runs)
    v.push_back(r.failure.empty() ? r.final_value : c.higher_is_better ? -INFINITY : INFINITY);
  const double m = median(v);
  return std::isfinite(m) ? m : NAN;
}

nlohmann::json finite_or_null(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

}  // namespace

void add_options(CLI::App& app, Comparison& c, ComparisonOptions& o) {
  app.add_option("--optimizers", c.optimizers, "Which to run")->capture_default_str();
  app.add_option("--epochs", c.epochs, "Epochs per run")->capture_default_str();
  app.add_option("--seeds", c.seeds,
                 "Seeds (with --tuning first, the first tunes the learning rate)")
      ->capture_default_str();
  app.add_option("--eval-every", c.eval_every, "Steps between held-out evaluations")
      ->capture_default_str();
  app.add_option("--limit", c.limit, "Use only the first N training examples")
      ->capture_default_str();
  app.add_option("--out", c.out, "Output directory")->capture_default_str();
  app.add_option("--target", c.target,
                 "Level of " + c.metric + " whose steps and seconds are counted")
      ->capture_default_str();
  app.add_option("--tuning", c.tuning,
                 "first: the grid on the first seed, the best rate on the others; median: "
                 "every rate on every seed, the best median wins")
      ->capture_default_str();
  app.add_flag("--replot", c.replot,
               "Rebuild the summary and plots from the curves of earlier runs");
  app.add_flag("--resume", c.resume,
               "Read back runs whose curves are already in the output directory; train the rest");
  for (const auto& name : c.optimizers) {
    std::string grid;
    for (double lr : c.grids.at(name)) {
      char v[32];
      std::snprintf(v, sizeof v, "%s%g", grid.empty() ? "" : " ", lr);
      grid += v;
    }
    app.add_option("--" + name + "-lrs", o.grids[name],
                   name + " learning-rate grid (" + grid + ")");
  }
  app.add_option("--damping", o.damping, "kfac/ekfac damping λ, both (0: the program's)");
  app.add_option("--kfac-damping", o.kfac_damping,
                 "kfac/ekfac damping form: eigen or factored (empty: the program's)");
  app.add_option("--kl-clip", o.kl_clip, "kfac/ekfac KL clip κ, both (0: the program's)");
  app.add_option("--fallback-lr", o.fallback_lr,
                 "kfac/ekfac: Adam's rate for parameters outside linear/conv layers");
  app.add_option("--factors", o.factors,
                 "kfac/ekfac output factor: ef, mc or ggn (empty: the program's)");
  app.add_option("--rescale", o.rescale,
                 "kfac/ekfac step sizing: kl, none or qmodel (empty: the program's)");
  app.add_flag("--unscheduled-clip", o.unscheduled_clip,
               "kfac/ekfac: kfac-pytorch's KL clip, ν from the current rate");
  app.add_flag("--restart-scaling", o.restart_scaling,
               "ekfac: restart the scaling at each new basis (no carry-over)");
}

void apply_options(Comparison& c, const ComparisonOptions& o) {
  CURV_CHECK(c.tuning == "first" || c.tuning == "median", "unknown tuning rule '", c.tuning,
             "': expected first (the first seed tunes) or median (every rate on every seed)");
  for (const auto& [name, grid] : o.grids)
    if (!grid.empty()) c.grids[name] = grid;
  for (const char* name : {"kfac", "ekfac"}) {
    auto it = c.settings.find(name);
    if (it == c.settings.end()) continue;
    if (o.damping > 0) it->second.damping = o.damping;
    if (o.kl_clip > 0) it->second.kl_clip = o.kl_clip;
    if (!o.kfac_damping.empty()) it->second.kfac_damping = parse_kfac_damping(o.kfac_damping);
    if (o.fallback_lr > 0) it->second.fallback_lr = o.fallback_lr;
    if (!o.factors.empty()) it->second.factors = parse_factor_kind(o.factors);
    if (!o.rescale.empty()) it->second.rescale = o.rescale;
    if (o.unscheduled_clip) it->second.scheduled_clip = false;
    if (o.restart_scaling) it->second.carry_scaling = false;
  }
}

int run_comparison(const Comparison& c) {
  const FlushDenormals flush;  // subnormal weights would slow a run several-fold, not change it
  TaskOptions topt = c.task;
  topt.limit = c.limit;
  const auto probe = make_model<float>(c.model, c.config);
  auto task = make_task<float>(c.data, probe->loss(), topt);
  task->check_model(*probe);
  fs::create_directories(c.out + "/curves");
  std::ofstream results(c.out + "/results.jsonl", std::ios::app);
  auto log = [&](const Run& r, const std::string& phase) {
    nlohmann::json j = {{"phase", phase},
                        {"optimizer", r.optimizer},
                        {"lr", r.lr},
                        {"seed", r.seed},
                        {"steps_to_target", finite_or_null(r.steps_to_target)},
                        {"seconds_to_target", finite_or_null(r.seconds_to_target)},
                        {"final", finite_or_null(r.final_value)},
                        {"seconds", r.seconds.empty() ? 0.0 : r.seconds.back()}};
    if (!r.failure.empty()) j["failure"] = r.failure;
    std::printf("%s\n", j.dump().c_str());
    std::fflush(stdout);
    results << j.dump() << "\n" << std::flush;
    std::ofstream f(c.out + curve_file(r.optimizer, r.lr, r.seed));
    f << "step,seconds," << c.metric << "\n";
    for (std::size_t i = 0; i < r.values.size(); ++i)
      f << r.steps[i] << "," << r.seconds[i] << "," << r.values[i] << "\n";
  };

  // A run trained now and logged, or read back from its curve (--replot, or --resume when the
  // curve exists).
  auto get = [&](const std::string& name, double lr, std::uint64_t seed, const std::string& phase) {
    if (c.replot || (c.resume && fs::exists(c.out + curve_file(name, lr, seed))))
      return load_run(c, name, lr, seed);
    Run r = train_one(c, *task, name, lr, seed);
    log(r, phase);
    return r;
  };

  std::vector<Series> by_steps, by_seconds;
  nlohmann::json summary = {{"metric", c.metric}, {"target", c.target}};
  std::printf(
      "\n| optimizer | lr | steps to %s %g (median) | seconds to it (median) | final %s (median) | "
      "seeds |\n|---|---|---|---|---|---|\n",
      c.metric.c_str(), c.target, c.metric.c_str());
  std::string table;
  for (const auto& name : c.optimizers) {
    std::vector<Run> runs;  // the chosen rate's runs, one per seed
    double best_lr = NAN;
    if (c.tuning == "first") {
      Run best;
      for (double lr : c.grids.at(name)) {
        Run r = get(name, lr, c.seeds.front(), "tune");
        if (!r.failure.empty()) continue;
        const bool take = best.values.empty() || r.steps_to_target < best.steps_to_target ||
                          (r.steps_to_target == best.steps_to_target &&
                           better(c, r.final_value, best.final_value));
        if (take) best = r;
      }
      if (!best.values.empty()) {
        best_lr = best.lr, runs.push_back(best);
        for (std::size_t s = 1; s < c.seeds.size(); ++s)
          runs.push_back(get(name, best.lr, c.seeds[s], "seed"));
      }
    } else {
      double best_steps = INFINITY, best_final = NAN;
      for (double lr : c.grids.at(name)) {
        std::vector<Run> at_lr;
        for (auto seed : c.seeds) at_lr.push_back(get(name, lr, seed, "grid"));
        const double ms = median(steps_of(at_lr)), mf = median_final(c, at_lr);
        if (std::isnan(mf)) continue;  // failed on most seeds
        const bool take = std::isnan(best_lr) || ms < best_steps ||
                          (ms == best_steps && better(c, mf, best_final));
        if (take) best_lr = lr, best_steps = ms, best_final = mf, runs = std::move(at_lr);
      }
    }
    if (runs.empty()) {
      summary["optimizers"][name] = {{"failure", "every learning rate of the grid failed"}};
      continue;
    }
    const std::vector<double> steps = steps_of(runs);
    std::vector<double> secs, finals;
    for (const auto& r : runs) {
      secs.push_back(r.failure.empty() ? r.seconds_to_target : INFINITY);
      finals.push_back(r.failure.empty() ? r.final_value : NAN);
    }
    const double ms = median(steps), mt = median(secs), mf = median_final(c, runs);
    summary["optimizers"][name] = {{"lr", best_lr},
                                   {"median_steps_to_target", finite_or_null(ms)},
                                   {"median_seconds_to_target", finite_or_null(mt)},
                                   {"median_final", finite_or_null(mf)},
                                   {"steps_to_target", steps},
                                   {"finals", finals}};
    char row[256];
    std::snprintf(row, sizeof row, "| %s | %g | %s | %s | %.4f | %zu |\n", name.c_str(), best_lr,
                  std::isfinite(ms) ? std::to_string(long(ms)).c_str() : "not reached",
                  std::isfinite(mt) ? std::to_string(mt).substr(0, 6).c_str() : "-", mf,
                  runs.size());
    table += row;
    std::printf("%s", row);
    // The run whose steps-to-target is the median represents the optimizer in the plots.
    std::vector<std::size_t> idx(runs.size());
    std::iota(idx.begin(), idx.end(), std::size_t(0));
    std::sort(idx.begin(), idx.end(), [&](auto a, auto b) { return steps[a] < steps[b]; });
    const Run& rep = runs[idx[idx.size() / 2]];
    char label[64];
    std::snprintf(label, sizeof label, "%s lr %g", name.c_str(), best_lr);
    by_steps.push_back({label, rep.steps, rep.values});
    by_seconds.push_back({label, rep.seconds, rep.values});
  }
  summary["table"] = table;
  if (!c.replot) results << summary.dump() << "\n";
  std::printf("%s\n", summary.dump().c_str());
  if (!by_steps.empty()) {
    plot_lines(c.out + "/" + c.metric + "_vs_steps.png", c.title, "step", c.metric, by_steps, false,
               c.higher_is_better);
    plot_lines(c.out + "/" + c.metric + "_vs_seconds.png", c.title, "seconds (training only)",
               c.metric, by_seconds, false, c.higher_is_better);
  }
  return 0;
}

}  // namespace curv::experiments
