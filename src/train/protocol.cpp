#include "curv/train/protocol.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>

#include "curv/kernels/parallel.hpp"
#include "curv/report/plot.hpp"
#include "curv/train/recorder.hpp"

namespace curv {
namespace {

namespace fs = std::filesystem;

std::string run_name(const std::string& optimizer, double lr, std::uint64_t seed) {
  char name[160];
  std::snprintf(name, sizeof name, "%s-lr%g-seed%llu", optimizer.c_str(), lr,
                static_cast<unsigned long long>(seed));
  return name;
}

bool reached(const Protocol& p, double v) {
  return p.higher_is_better ? v >= p.target : v <= p.target;
}
bool better(const Protocol& p, double a, double b) {
  if (std::isnan(b)) return !std::isnan(a);
  return p.higher_is_better ? a > b : a < b;
}

void add_point(const Protocol& p, GridRun& g, double step, double seconds, double v) {
  g.steps.push_back(step), g.seconds.push_back(seconds), g.values.push_back(v);
  if (reached(p, v) && std::isinf(g.steps_to_target))
    g.steps_to_target = step, g.seconds_to_target = seconds;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return NAN;
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// Steps to the target per run; a failed run never reaches it.
std::vector<double> steps_of(const std::vector<GridRun>& runs) {
  std::vector<double> v;
  for (const auto& r : runs) v.push_back(r.failure.empty() ? r.steps_to_target : INFINITY);
  return v;
}

// The median final value, a failed run counting as the worst; NaN if most runs failed.
double median_final(const Protocol& p, const std::vector<GridRun>& runs) {
  std::vector<double> v;
  for (const auto& r : runs)
    v.push_back(r.failure.empty() ? r.final_value : p.higher_is_better ? -INFINITY : INFINITY);
  const double m = median(v);
  return std::isfinite(m) ? m : NAN;
}

// Whether run a is better than b under the protocol's rule (for one seed or medians).
bool preferred(const Protocol& p, double steps_a, double final_a, double steps_b, double final_b) {
  if (p.select == "final") return better(p, final_a, final_b);
  return steps_a < steps_b || (steps_a == steps_b && better(p, final_a, final_b));
}

nlohmann::json finite_or_null(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

// A run read back from its curve (and its log, when there is one, for a failure).
GridRun read_back(const Protocol& p, const std::string& name, double lr, std::uint64_t seed) {
  GridRun g;
  g.optimizer = name, g.lr = lr, g.seed = seed;
  const std::string stem = run_name(name, lr, seed);
  const std::string curve = p.out + "/curves/" + stem + ".csv";
  if (!fs::exists(curve)) {
    g.failure = "no curve";
    return g;
  }
  const Curve c = read_curve(curve);
  if (c.has(p.metric)) {
    const auto st = c.column("step"), sec = c.column("seconds"), v = c.column(p.metric);
    for (std::size_t i = 0; i < v.size(); ++i) add_point(p, g, st[i], sec[i], v[i]);
  }
  std::ifstream log(p.out + "/runs/" + stem + ".jsonl");
  for (std::string line; std::getline(log, line);) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.value("event", "") == "failure") g.failure = j.value("error", "failed");
  }
  if (g.values.empty() && g.failure.empty()) g.failure = "no evaluation in " + curve;
  if (!g.values.empty()) g.final_value = g.values.back();
  return g;
}

}  // namespace

Recipe grid_recipe(const Protocol& p, const std::string& optimizer, double lr, std::uint64_t seed) {
  Recipe r = p.base;
  r.optimizer = optimizer, r.lr = lr, r.seed = seed, r.data_seed = seed + p.data_seed_offset;
  const auto s = p.settings.find(optimizer);
  if (s != p.settings.end()) r.second_order = s->second;
  const auto c = p.clip.find(optimizer);
  r.clip_norm = c == p.clip.end() ? 0.0 : c->second;
  return r;
}

ProtocolResult run_protocol(const Protocol& p) {
  CURV_CHECK(p.tuning == "first" || p.tuning == "median", "unknown tuning rule '", p.tuning,
             "': expected first (the first seed tunes) or median (every rate on every seed)");
  CURV_CHECK(p.select == "target" || p.select == "final", "unknown selection rule '", p.select,
             "': expected target (fewest steps to it) or final (the best final value)");
  CURV_CHECK(!p.seeds.empty(), "protocol: expected at least one seed, found none");
  for (const auto& name : p.optimizers)
    CURV_CHECK(p.grids.count(name) && !p.grids.at(name).empty(), "protocol: expected a ",
               "learning-rate grid for ", name, ", found none");
  const FlushDenormals flush;  // subnormal weights would slow a run several-fold, not change it
  std::unique_ptr<Task<float>> task;
  if (!p.replot) {  // the data, and the recipe's index lists, checked before anything is written
    const auto probe = make_model<float>(p.base.model, p.base.config);
    task = make_recipe_task<float>(p.base, *probe);
    parse_index_list(p.base.examples, *task);
    for (const auto& spec : p.base.evaluate) parse_index_list(spec, *task);
  }
  fs::create_directories(p.out + "/curves");
  fs::create_directories(p.out + "/runs");
  std::ofstream results(p.out + "/results.jsonl", std::ios::app);

  auto train = [&](const std::string& name, double lr, std::uint64_t seed,
                   const std::string& phase) {
    GridRun g;
    g.optimizer = name, g.lr = lr, g.seed = seed;
    const Recipe r = grid_recipe(p, name, lr, seed);
    const std::string stem = run_name(name, lr, seed), log = p.out + "/runs/" + stem + ".jsonl";
    fs::remove(log);  // a run trained again replaces its record
    RunRecorder rec(p.out + "/curves/" + stem + ".csv", log, r,
                    {{"grid", {{"optimizer", name}, {"lr", lr}, {"seed", seed}}}});
    nlohmann::json line = {{"phase", phase}, {"optimizer", name}, {"lr", lr}, {"seed", seed}};
    try {
      auto model = make_recipe_model<float>(r);
      auto opt = make_recipe_optimizer<float>(r);
      RunHooks<float> hooks;
      hooks.on_evaluation = [&](const Evaluation& e) {
        rec.evaluation(e);
        const auto it = e.metrics.find(p.metric);
        CURV_CHECK(it != e.metrics.end(), "protocol: expected metric '", p.metric,
                   "' among the evaluations, found none");
        CURV_CHECK(std::isfinite(it->second), p.metric, " became ", it->second, " at step ",
                   e.step);
        add_point(p, g, double(e.step), e.seconds, it->second);
      };
      run_training(r, *task, *model, *opt, hooks);
      g.final_value = g.values.back();
      if (p.after_run) p.after_run(g, *model, *opt, *task, line);
    } catch (const Error& e) {
      g.failure = name + " lr " + std::to_string(lr) + ": " + e.what();  // a diverged grid point
    }
    line["steps_to_target"] = finite_or_null(g.steps_to_target);
    line["seconds_to_target"] = finite_or_null(g.seconds_to_target);
    line["final"] = finite_or_null(g.final_value);
    line["seconds"] = g.seconds.empty() ? 0.0 : g.seconds.back();
    if (g.failure.empty())
      rec.finish(line);
    else
      line["failure"] = g.failure, rec.failure(g.failure);
    std::printf("%s\n", line.dump().c_str());
    std::fflush(stdout);
    results << line.dump() << "\n" << std::flush;
    return g;
  };
  auto get = [&](const std::string& name, double lr, std::uint64_t seed, const std::string& phase) {
    const bool done = fs::exists(p.out + "/curves/" + run_name(name, lr, seed) + ".csv");
    if (p.replot || (p.skip_done && done)) return read_back(p, name, lr, seed);
    return train(name, lr, seed, phase);
  };

  ProtocolResult result;
  std::vector<Series> by_steps, by_seconds;
  nlohmann::json summary = {{"metric", p.metric}, {"target", p.target}};
  char head[256];
  std::snprintf(head, sizeof head,
                "| optimizer | lr | steps to %s %g (median) | seconds to it (median) | final %s "
                "(median) | seeds |\n|---|---|---|---|---|---|\n",
                p.metric.c_str(), p.target, p.metric.c_str());
  std::string table = head;
  for (const auto& name : p.optimizers) {
    std::vector<GridRun> runs;  // the chosen rate's runs, one per seed
    double best_lr = NAN;
    if (p.tuning == "first") {
      GridRun best;
      for (double lr : p.grids.at(name)) {
        GridRun g = get(name, lr, p.seeds.front(), "tune");
        if (!g.failure.empty()) continue;
        if (best.values.empty() ||
            preferred(p, g.steps_to_target, g.final_value, best.steps_to_target, best.final_value))
          best = g;
      }
      if (!best.values.empty()) {
        best_lr = best.lr, runs.push_back(best);
        for (std::size_t s = 1; s < p.seeds.size(); ++s)
          runs.push_back(get(name, best.lr, p.seeds[s], "seed"));
      }
    } else {
      double best_steps = INFINITY, best_final = NAN;
      for (double lr : p.grids.at(name)) {
        std::vector<GridRun> at_lr;
        for (auto seed : p.seeds) at_lr.push_back(get(name, lr, seed, "grid"));
        const double ms = median(steps_of(at_lr)), mf = median_final(p, at_lr);
        if (std::isnan(mf)) continue;  // failed on most seeds
        if (std::isnan(best_lr) || preferred(p, ms, mf, best_steps, best_final))
          best_lr = lr, best_steps = ms, best_final = mf, runs = std::move(at_lr);
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
    const double ms = median(steps), mt = median(secs), mf = median_final(p, runs);
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
    // The run whose steps-to-target is the median represents the optimizer in the plots.
    std::vector<std::size_t> idx(runs.size());
    std::iota(idx.begin(), idx.end(), std::size_t(0));
    std::sort(idx.begin(), idx.end(), [&](auto a, auto b) { return steps[a] < steps[b]; });
    const GridRun& rep = runs[idx[idx.size() / 2]];
    char label[64];
    std::snprintf(label, sizeof label, "%s lr %g", name.c_str(), best_lr);
    by_steps.push_back({label, rep.steps, rep.values});
    by_seconds.push_back({label, rep.seconds, rep.values});
    result.chosen[name] = runs;
    result.chosen_lr[name] = best_lr;
  }
  summary["table"] = table;
  std::printf("\n%s\n", table.c_str());
  if (!p.replot) results << summary.dump() << "\n";
  std::printf("%s\n", summary.dump().c_str());
  if (!by_steps.empty()) {
    const bool low = p.higher_is_better;  // rising curves end top right: legend bottom right
    const std::string y = p.metric_label.empty() ? p.metric : p.metric_label;
    // The y-range fits the last 90 % of the run: the first evaluations (chance accuracy, the
    // initial loss) would squash the region where the optimizers differ.
    plot_lines(p.out + "/" + p.metric + "_vs_steps.png", p.title, "step", y, by_steps, p.log_y,
               low, 0.1);
    plot_lines(p.out + "/" + p.metric + "_vs_seconds.png", p.title, "seconds (training only)", y,
               by_seconds, p.log_y, low, 0.1);
  }
  return result;
}

}  // namespace curv
