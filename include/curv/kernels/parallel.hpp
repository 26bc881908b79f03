// The threading policy: TBB for elementwise work and per-example loops above a grain size;
// OpenBLAS (a pthread build that knows nothing of TBB) keeps its own threads only when called
// from serial code. Inside a TBB region, BlasSerial makes BLAS single-threaded so the two pools
// never oversubscribe the cores.
#pragma once

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "curv/core/shape.hpp"

namespace curv {

// Elementwise loops shorter than this run serially: thread start-up would cost more.
inline constexpr index_t kElementwiseGrain = 1 << 15;

// f(begin, end) over [0, n), split across threads in chunks of at least `grain`.
template <class F>
void parallel_for(index_t n, index_t grain, F&& f) {
  if (n <= grain) {
    if (n > 0) f(index_t(0), n);
    return;
  }
  tbb::parallel_for(tbb::blocked_range<index_t>(0, n, grain),
                    [&](const tbb::blocked_range<index_t>& r) { f(r.begin(), r.end()); });
}

// Makes BLAS single-threaded for its lifetime (then restores the previous thread count).
class BlasSerial {
 public:
  BlasSerial();
  ~BlasSerial();
  BlasSerial(const BlasSerial&) = delete;
  BlasSerial& operator=(const BlasSerial&) = delete;

 private:
  int previous_;
};

// Threads BLAS uses when called from serial code; set_blas_threads(0) restores the default.
int blas_threads();
void set_blas_threads(int n);

}  // namespace curv
