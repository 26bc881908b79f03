// curv train --schedule curvature: the learning rate (and SGD's momentum) from Lanczos on the
// batch Hessian every T steps (spectra/rate_learner.hpp), shaped by --curvature-decay.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "curv/spectra/rate_learner.hpp"
#include "curv/train/run.hpp"

namespace curv::cli {

struct CurvatureRateFlags {
  spectra::RateLearnerOptions learner;
  std::string decay = "cosine";  // the schedule shape the learned peak is multiplied by
  bool fixed_momentum = false;
  std::string peak = "latest";  // latest: each measurement's rate; lowest: never raised

  void add(CLI::App* cmd);
  // The flags given without --schedule curvature are refused; T, iterations, the fraction and the
  // cap are checked, and the optimizer must have heavy-ball momentum when it is learned. Sets the
  // recipe's schedule kind to the decay and its peak to 1, so the schedule is the shape alone.
  void check(const CLI::App& cmd, Recipe& r, bool curvature_schedule);
  // The learner for a run on `examples` of `train`, or null without --schedule curvature.
  std::unique_ptr<spectra::LanczosRateLearner<float>> make(
      const Split<float>& train, const std::vector<index_t>& examples) const;
  bool on = false;
};

}  // namespace curv::cli
