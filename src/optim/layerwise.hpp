// What the layer-wise rules (LARS, LAMB) share, internal to the library: which tensors take a
// trust ratio, the ratio itself, and per-tensor norms whose sum does not depend on threads.
#pragma once

#include <algorithm>
#include <array>
#include <vector>

#include "curv/kernels/parallel.hpp"
#include "curv/nn/params.hpp"

namespace curv::detail {

// Tensors of one dimension or none (biases, norm gains and shifts) keep ρ = 1 and no weight
// decay in the LARS and LAMB reference implementations: their norm says nothing about a layer's
// scale, and decaying a gain toward zero fights the normalization it belongs to.
inline bool takes_trust_ratio(const ParamInfo& info, bool exclude_1d) {
  return !exclude_1d || info.shape.rank() > 1;
}

// ρ = η·weight_norm / denominator, or 1 where that is undefined or would freeze the tensor
// (a zero weight, e.g. a zero-initialized layer, or a zero denominator).
inline double trust_ratio(double trust, double weight_norm, double denominator) {
  return weight_norm > 0 && denominator > 0 ? trust * weight_norm / denominator : 1.0;
}

// The sums partial(lo, hi) returns over [0, n), taken in fixed blocks of kElementwiseGrain in
// parallel and added in block order: the same bits on any thread count, so a recorded run
// replays exactly. partial may also write to its block (LAMB updates its moments there).
template <std::size_t K, class F>
std::array<double, K> blockwise_sums(index_t n, F&& partial) {
  const index_t block = kElementwiseGrain, blocks = (n + block - 1) / block;
  std::vector<std::array<double, K>> sums(static_cast<std::size_t>(blocks));
  parallel_for(blocks, 1, [&](index_t lo, index_t hi) {
    for (index_t b = lo; b < hi; ++b)
      sums[std::size_t(b)] = partial(b * block, std::min(n, (b + 1) * block));
  });
  std::array<double, K> total{};
  for (const auto& s : sums)
    for (std::size_t k = 0; k < K; ++k) total[k] += s[k];
  return total;
}

}  // namespace curv::detail
