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

namespace detail {
// Puts a TBB worker in the flush-to-zero mode while a FlushDenormals lives (one per chunk).
class WorkerFloatMode {
 public:
  WorkerFloatMode();
  ~WorkerFloatMode();
  WorkerFloatMode(const WorkerFloatMode&) = delete;
  WorkerFloatMode& operator=(const WorkerFloatMode&) = delete;

 private:
  unsigned saved_ = 0;
  bool restore_ = false;
};
}  // namespace detail

// f(begin, end) over [0, n), split across threads in chunks of at least `grain`.
template <class F>
void parallel_for(index_t n, index_t grain, F&& f) {
  if (n <= grain) {
    if (n > 0) f(index_t(0), n);
    return;
  }
  tbb::parallel_for(tbb::blocked_range<index_t>(0, n, grain),
                    [&](const tbb::blocked_range<index_t>& r) {
                      const detail::WorkerFloatMode mode;
                      f(r.begin(), r.end());
                    });
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

// Flushes subnormal floats to zero (x86 FTZ and DAZ) on the calling thread, and in every chunk
// of parallel_for, while alive; then restores the calling thread's mode. Meant for a program's
// main thread, one at a time. A training run whose weights or gradients drift into subnormal
// range otherwise slows several-fold with no change in its result worth having; PyTorch's
// torch.set_flush_denormal is the same switch. OpenBLAS's own threads (serial-code GEMMs) keep
// their mode. Off by default: results stay IEEE-exact.
class FlushDenormals {
 public:
  FlushDenormals();
  ~FlushDenormals();
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;

 private:
  unsigned previous_ = 0;
};

// Threads BLAS uses when called from serial code; set_blas_threads(0) restores the default.
int blas_threads();
void set_blas_threads(int n);

}  // namespace curv
