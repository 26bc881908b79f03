// The grid/seed protocol every optimizer comparison runs on: each optimizer over its
// learning-rate grid and the seeds, every run through run_training with the run recorder, then
// the chosen rate per optimizer, a summary table and plots. Two tuning rules:
//   first    the grid runs on the first seed, and only the best rate on the others (cheap, but a
//            rate that was lucky on one seed wins);
//   median   every rate runs on every seed, and the rate with the best median is kept.
// And two ways to call a rate best:
//   target   the fewest steps until the metric reaches the target, then the better final value;
//   final    the better final value.
// Output, in `out`:
//   curves/OPT-lrLR-seedS.csv    each run's curve (train/recorder.hpp); one that exists is done
//   runs/OPT-lrLR-seedS.jsonl    each run's full record: command, git commit, recipe, evaluations
//   results.jsonl                one line per run (steps and seconds to the target, final value),
//                                then the summary
//   METRIC_vs_steps.png, METRIC_vs_seconds.png   the chosen runs (the median seed's)
// skip_done reads back runs whose curve exists instead of training them; replot reads back
// every run and only redraws the summary and the plots.
#pragma once

#include <cmath>
#include <functional>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "curv/train/run.hpp"

namespace curv {

// One run of the grid, trained now or read back.
struct GridRun {
  std::string optimizer;
  double lr = 0;
  std::uint64_t seed = 0;
  std::vector<double> steps, seconds, values;  // the metric at each evaluation
  double steps_to_target = INFINITY, seconds_to_target = INFINITY, final_value = NAN;
  std::string failure;  // why the run failed ("" if it did not)
};

struct Protocol {
  std::string title;         // for the plots
  Recipe base;               // every run's recipe, before the grid point is filled in
  std::string metric;        // an evaluation metric, e.g. "test_accuracy"
  std::string metric_label;  // the plots' axis label ("": the metric's name)
  bool higher_is_better = true;
  double target = 0;  // steps and seconds are counted until the metric reaches it
  std::vector<std::uint64_t> seeds{0, 1, 2};
  std::uint64_t data_seed_offset = 1000;  // a run's data seed: its seed plus this
  std::vector<std::string> optimizers;
  std::map<std::string, std::vector<double>> grids;   // learning rates per optimizer
  std::map<std::string, SecondOrderConfig> settings;  // per optimizer (else base's)
  std::map<std::string, double> clip;                 // gradient-norm clipping per optimizer
  std::string tuning = "first";                       // first or median
  std::string select = "target";                      // target or final
  std::string out;
  bool replot = false, skip_done = false;
  bool log_y = false;  // plot the metric on a log scale
  // Called after each run trained now, with its model and optimizer; may add fields to its
  // results line.
  std::function<void(const GridRun&, const Model<float>&, const Optimizer<float>&,
                     const Task<float>&, nlohmann::json&)>
      after_run;
};

struct ProtocolResult {
  std::map<std::string, std::vector<GridRun>> chosen;  // per optimizer: the chosen rate's runs
  std::map<std::string, double> chosen_lr;
};

// Runs the protocol (or reads it back) and writes its outputs; prints one JSON line per run and
// the summary table. Throws curv::Error on a bad setting (tuning, select, an optimizer without
// a grid) before any run.
ProtocolResult run_protocol(const Protocol& p);

// The recipe of one grid point.
Recipe grid_recipe(const Protocol& p, const std::string& optimizer, double lr, std::uint64_t seed);

}  // namespace curv
