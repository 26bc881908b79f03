// Timing helpers shared by the benchmark subcommands.
#pragma once

#include <functional>
#include <vector>

#include "curv/core/shape.hpp"

namespace curv::cli {

// Runs every job once per round, interleaved, so load on the machine hits all of them alike;
// returns each job's median time in seconds (after two warm-up rounds).
std::vector<double> side_by_side(const std::vector<std::function<void()>>& jobs, int rounds);

void bench_training(int rounds);

void bench_curvature(index_t batch, int rounds);

}  // namespace curv::cli
