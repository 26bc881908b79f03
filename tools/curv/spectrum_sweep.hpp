// curv spectrum --batch-sweep: the largest eigenvalue of mini-batch curvature for a list of batch
// sizes (spectra/batch_sweep.hpp), averaged over independent batches, with the linear and spiked
// laws fitted to the means, and the largest stable learning rates the means predict. Prints a
// table, then one JSON line with `sweep` and `fit`.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "curvature_input.hpp"

namespace curv::cli {

struct SweepFlags {
  std::string sizes;  // "16,32,…,full": empty when no sweep is asked for
  index_t batches = 10;
  std::string plot;
  std::string preconditioner = "none";  // or "adam": D^{-1/2} M_B D^{-1/2}
  double momentum = 0.9;                // β of the heavy-ball (sgd) or β₁ (adam) rate rule
  double adam_eps = 1e-8;
  void add(CLI::App* cmd);
  // Which flags belong to the sweep alone (refused without --batch-sweep).
  static std::vector<std::string> own_flags();
};

// The sweep over `in`'s examples (the pool; all of the training split unless --examples is
// given), each batch's λ_max by `iterations` Lanczos steps to `tolerance`.
template <class T>
int run_batch_sweep(const CurvatureInput& in, const SweepFlags& flags, index_t iterations,
                    double tolerance);

}  // namespace curv::cli
