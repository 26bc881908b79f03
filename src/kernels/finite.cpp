#include "curv/kernels/finite.hpp"

#include <atomic>

#include "curv/kernels/parallel.hpp"

namespace curv {

namespace {

// One chunk: 16 lanes of partial sums, each its own dependency chain, so the compiler keeps them
// in vector registers without reassociating a single sum (which it may not do for floats).
template <class T>
bool chunk_finite(const T* x, index_t n) {
  constexpr int kLanes = 16;
  T lanes[kLanes] = {};
  index_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) lanes[j] += x[i + j] * T(0);
  T screen = 0;
  for (; i < n; ++i) screen += x[i] * T(0);
  for (int j = 0; j < kLanes; ++j) screen += lanes[j];
  return screen == T(0);
}

}  // namespace

template <class T>
bool all_finite(const T* x, index_t n) {
  std::atomic<bool> finite{true};
  parallel_for(n, index_t(1) << 16, [&](index_t b, index_t e) {
    if (finite.load(std::memory_order_relaxed) && !chunk_finite(x + b, e - b))
      finite.store(false, std::memory_order_relaxed);
  });
  return finite.load();
}

template bool all_finite<float>(const float*, index_t);
template bool all_finite<double>(const double*, index_t);

}  // namespace curv
