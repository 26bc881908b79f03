// Timing helpers shared by the benchmark subcommands.
#pragma once

#include <functional>
#include <vector>

#include "curv/core/shape.hpp"

namespace curv::cli {

// Runs every job once per round, interleaved, so load on the machine hits all of them alike;
// returns each job's median time in seconds (after two warm-up rounds).
std::vector<double> side_by_side(const std::vector<std::function<void()>>& jobs, int rounds);
// The same, returning every round's times: times[job][round].
std::vector<std::vector<double>> side_by_side_rounds(const std::vector<std::function<void()>>& jobs,
                                                     int rounds);
// The median over rounds of times[a][r] / times[b][r]: a ratio that a slow stretch of the
// machine, hitting both jobs of a round alike, leaves unchanged.
double median_ratio(const std::vector<std::vector<double>>& times, std::size_t a, std::size_t b);
double median(std::vector<double> v);

void bench_training(int rounds);

void bench_curvature(index_t batch, int rounds);
// Streamed, projected per-example gradients of LeNet-5 against their floor.
void bench_gradients(index_t examples, index_t k, int rounds);
// Static M-FAC OBS (all scores and one update) on LeNet-5 against its floor.
void bench_prune(index_t m, int rounds);
// Laplace's last-layer fit and GLM predictives on LeNet-5 against their floors; the all-weights
// predictive on `all_examples` test images.
void bench_laplace(int rounds, index_t all_examples);

}  // namespace curv::cli
