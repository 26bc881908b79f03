#include "curv/kernels/parallel.hpp"

#include <cblas.h>

#include <atomic>

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

namespace curv {

int blas_threads() { return openblas_get_num_threads(); }

void set_blas_threads(int n) {
  static const int default_threads = openblas_get_num_threads();
  openblas_set_num_threads(n > 0 ? n : default_threads);
}

namespace {

// MXCSR's flush-to-zero (bit 15) and denormals-are-zero (bit 6).
constexpr unsigned kFlushBits = 0x8040;

unsigned float_mode() {
#if defined(__SSE__)
  return _mm_getcsr();
#else
  return 0;
#endif
}

void set_float_mode(unsigned mode) {
#if defined(__SSE__)
  _mm_setcsr(mode);
#else
  (void)mode;
#endif
}

std::atomic<int> flush_requests{0};

}  // namespace

namespace detail {

WorkerFloatMode::WorkerFloatMode() {
  if (flush_requests.load(std::memory_order_relaxed) == 0) return;
  saved_ = float_mode();
  set_float_mode(saved_ | kFlushBits);
  restore_ = true;
}

WorkerFloatMode::~WorkerFloatMode() {
  if (restore_) set_float_mode(saved_);
}

}  // namespace detail

FlushDenormals::FlushDenormals() : previous_(float_mode()) {
  flush_requests.fetch_add(1);
  set_float_mode(previous_ | kFlushBits);
}

FlushDenormals::~FlushDenormals() {
  flush_requests.fetch_sub(1);
  set_float_mode(previous_);
}

BlasSerial::BlasSerial() : previous_(openblas_get_num_threads()) {
  if (previous_ != 1) openblas_set_num_threads(1);
}

BlasSerial::~BlasSerial() {
  if (previous_ != 1) openblas_set_num_threads(previous_);
}

}  // namespace curv
