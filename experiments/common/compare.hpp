// The protocol shared by the optimizer-comparison experiments (lenet-optimizers,
// transformer-optimizers): every optimizer is tuned over its documented learning-rate grid and
// the median over seeds of its best rate is reported — steps and training seconds until a
// held-out metric reaches its target, and the final value. Two tuning rules:
//   first   the grid runs on the first seed, and only the best rate on the others (cheap, but
//           a rate that was lucky on one seed wins);
//   median  every rate runs on every seed, and the rate with the best median is kept.
// "Best" is the fewest steps to the target, then the better final value. Curves go to CSV, the
// median seed's curves to PNG plots, results to JSON lines.
#pragma once

#include <CLI/CLI.hpp>

#include <map>
#include <string>
#include <vector>

#include "curv/data/task.hpp"
#include "curv/optim/registry.hpp"

namespace curv::experiments {

struct Comparison {
  std::string title;  // for the plots
  std::string model, config = "{}", data;
  TaskOptions task;    // e.g. the character LM's context
  std::string metric;  // a key of Task::evaluate, e.g. "test_accuracy"
  bool higher_is_better = true;
  double target = 0;  // steps/seconds are counted until the metric reaches it
  index_t epochs = 10, batch = 128, eval_every = 100, eval_batch = 500, limit = -1;
  std::vector<std::uint64_t> seeds{0, 1, 2};
  std::vector<std::string> optimizers;
  std::map<std::string, std::vector<double>> grids;   // learning rates per optimizer
  std::map<std::string, SecondOrderConfig> settings;  // per optimizer (damping etc.)
  double momentum = 0.9;               // sgd, and the momentum of kl/none-rescaled rules
  bool cosine = true;                  // learning rate × ½(1 + cos(π step/steps)) over the run
  index_t warmup = 0;                  // linear warm-up steps before the schedule
  std::map<std::string, double> clip;  // gradient-norm clipping per optimizer (absent: off)
  std::string out;
  std::string tuning = "first";  // "first" or "median" (above)
  bool replot = false;  // rebuild the summary and plots from out/curves/*.csv, training nothing
  bool resume = false;  // read back runs whose curve is already in out/curves; train the rest
};

// The command-line options every comparison program shares: --optimizers, --epochs, --seeds,
// --eval-every, --limit, --out, --target, --tuning, --replot, --resume, one --NAME-lrs grid per
// optimizer, and the second-order settings --damping, --kfac-damping, --kl-clip, --fallback-lr,
// --factors, --rescale and --unscheduled-clip (for kfac and ekfac) and --restart-scaling (ekfac).
// Call apply_options after parsing.
struct ComparisonOptions {
  std::map<std::string, std::vector<double>> grids;
  double damping = 0, kl_clip = 0, fallback_lr = 0;  // 0: the program's setting
  std::string factors, rescale, kfac_damping;        // empty: the program's setting
  bool unscheduled_clip = false;  // kfac-pytorch's KL clip (ν from the current rate)
  bool restart_scaling = false;   // ekfac: no scaling carried over to a new basis
};
void add_options(CLI::App& app, Comparison& c, ComparisonOptions& o);
void apply_options(Comparison& c, const ComparisonOptions& o);

// Runs the protocol and writes out/results.jsonl, out/curves/*.csv, out/*_vs_steps.png and
// out/*_vs_seconds.png; prints one JSON line per run and a summary table. Returns 0.
int run_comparison(const Comparison& c);

}  // namespace curv::experiments
