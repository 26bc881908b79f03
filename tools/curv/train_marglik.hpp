// Online marginal-likelihood training inside `curv train` (--marglik, laplace/online.hpp): its
// options, the checks that keep it apart from what it replaces (weight decay) or cannot be
// replayed (trajectories), and what it adds to the run's summary.
#pragma once

#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include "curv/laplace/online.hpp"
#include "curv/train/run.hpp"

namespace curv::cli {

struct TrainMarglikOptions {
  bool on = false;
  laplace::OnlineMarglikOptions fit;
};
void add_train_marglik_options(CLI::App* cmd, TrainMarglikOptions& o);
// Throws a one-line curv::Error for a recipe the prior cannot join: weight decay (the fitted
// prior replaces it) or a recorded trajectory (a replay would not refit it).
void check_train_marglik(const TrainMarglikOptions& o, const Recipe& r, bool recording,
                         bool pruning);
// "marglik": the options, the last fit's log Z, δ (one per group, named) and σ, and every fit.
nlohmann::json marglik_summary(const laplace::OnlineMarglik<float>& m,
                               const TrainMarglikOptions& o);

}  // namespace curv::cli
