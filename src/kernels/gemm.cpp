#include "curv/kernels/gemm.hpp"

#include <cblas.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <utility>
#include <vector>

#include "curv/kernels/parallel.hpp"

namespace curv {
namespace {
CBLAS_TRANSPOSE cb(Trans t) { return t == Trans::No ? CblasNoTrans : CblasTrans; }
}  // namespace

// record_gemms's log: off (one relaxed load per GEMM) except while a benchmark records.
namespace {
std::atomic<bool> recording{false};
std::mutex record_mutex;
std::vector<GemmCall> recorded;
}  // namespace

template <>
void gemm<float>(Trans ta, Trans tb, index_t m, index_t n, index_t k, float alpha, const float* a,
                 index_t lda, const float* b, index_t ldb, float beta, float* c, index_t ldc) {
  if (m == 0 || n == 0) return;
  if (recording.load(std::memory_order_relaxed)) {
    std::lock_guard<std::mutex> lock(record_mutex);
    recorded.push_back({ta, tb, m, n, k, lda, ldb, ldc, beta != 0.0f});
  }
  cblas_sgemm(CblasRowMajor, cb(ta), cb(tb), int(m), int(n), int(k), alpha, a, int(lda), b,
              int(ldb), beta, c, int(ldc));
}

template <>
void gemm<double>(Trans ta, Trans tb, index_t m, index_t n, index_t k, double alpha,
                  const double* a, index_t lda, const double* b, index_t ldb, double beta,
                  double* c, index_t ldc) {
  if (m == 0 || n == 0) return;
  cblas_dgemm(CblasRowMajor, cb(ta), cb(tb), int(m), int(n), int(k), alpha, a, int(lda), b,
              int(ldb), beta, c, int(ldc));
}

std::vector<GemmCall> record_gemms(const std::function<void()>& f) {
  {
    std::lock_guard<std::mutex> lock(record_mutex);
    recorded.clear();
  }
  recording = true;
  try {
    f();
  } catch (...) {
    recording = false;
    throw;
  }
  recording = false;
  std::lock_guard<std::mutex> lock(record_mutex);
  return std::exchange(recorded, {});
}

GemmReplay::GemmReplay(std::vector<GemmCall> calls) : calls_(std::move(calls)) {
  // Scratch as large as the largest operand: stored rows × leading dimension.
  std::size_t a = 0, b = 0, c = 0;
  for (const GemmCall& g : calls_) {
    a = std::max(a, std::size_t((g.ta == Trans::No ? g.m : g.k) * g.lda));
    b = std::max(b, std::size_t((g.tb == Trans::No ? g.k : g.n) * g.ldb));
    c = std::max(c, std::size_t(g.m * g.ldc));
  }
  a_.assign(a, 0.5f), b_.assign(b, 0.25f), c_.assign(c, 0.0f);
}

void GemmReplay::operator()() {
  for (const GemmCall& g : calls_)
    cblas_sgemm(CblasRowMajor, cb(g.ta), cb(g.tb), int(g.m), int(g.n), int(g.k), 1.0f, a_.data(),
                int(g.lda), b_.data(), int(g.ldb), g.accumulate ? 1.0f : 0.0f, c_.data(),
                int(g.ldc));
}

double GemmReplay::multiply_adds() const {
  double n = 0;
  for (const GemmCall& g : calls_) n += double(g.m) * double(g.n) * double(g.k);
  return n;
}

namespace {

void blas_syrk(index_t n, index_t k, float alpha, const float* a, float beta, float* c,
               index_t ldc) {
  cblas_ssyrk(CblasRowMajor, CblasLower, CblasTrans, int(n), int(k), alpha, a, int(n), beta, c,
              int(ldc));
}
void blas_syrk(index_t n, index_t k, double alpha, const double* a, double beta, double* c,
               index_t ldc) {
  cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, int(n), int(k), alpha, a, int(n), beta, c,
              int(ldc));
}

// BLAS threads a syrk over its n columns, so a factor a few hundred wide over tens of thousands
// of rows (KFC's patches: LeNet-5's conv1 is 26 wide over 784 rows per image) runs on one core.
// Such updates are split over the rows instead: each share into its own n×n scratch, summed in
// a fixed order, so a run is reproducible for a given thread count.
template <class T>
void syrk_split_rows(index_t n, index_t k, T alpha, const T* a, T beta, T* c, index_t ldc) {
  constexpr index_t kNarrow = 256, kMinRows = 4096;
  const index_t threads = tbb::this_task_arena::max_concurrency();
  if (threads < 2 || n >= kNarrow || k < 2 * kMinRows) {
    blas_syrk(n, k, alpha, a, beta, c, ldc);
    return;
  }
  const index_t parts = std::min(threads, k / kMinRows), rows = (k + parts - 1) / parts;
  std::vector<T> scratch(static_cast<std::size_t>((parts - 1) * n * n));
  {
    const BlasSerial serial;
    parallel_for(parts, 1, [&](index_t begin, index_t end) {
      for (index_t p = begin; p < end; ++p) {
        const index_t r0 = p * rows, m = std::min(rows, k - r0);
        if (p == 0)
          blas_syrk(n, m, alpha, a, beta, c, ldc);
        else
          blas_syrk(n, m, alpha, a + r0 * n, T(0), scratch.data() + (p - 1) * n * n, n);
      }
    });
  }
  for (index_t p = 1; p < parts; ++p) {
    const T* s = scratch.data() + (p - 1) * n * n;
    for (index_t i = 0; i < n; ++i)
      for (index_t j = 0; j <= i; ++j) c[i * ldc + j] += s[i * n + j];
  }
}

}  // namespace

template <>
void syrk_lower<float>(index_t n, index_t k, float alpha, const float* a, float beta, float* c,
                       index_t ldc) {
  syrk_split_rows(n, k, alpha, a, beta, c, ldc);
}
template <>
void syrk_lower<double>(index_t n, index_t k, double alpha, const double* a, double beta, double* c,
                        index_t ldc) {
  syrk_split_rows(n, k, alpha, a, beta, c, ldc);
}

template <class T>
void mirror_triangle(T* m, index_t n, bool from_lower) {
  constexpr index_t tile = 64;  // two 64×64 double tiles fit in L1
  for (index_t i0 = 0; i0 < n; i0 += tile)
    for (index_t j0 = 0; j0 <= i0; j0 += tile) {  // tiles on or below the diagonal
      const index_t i1 = std::min(i0 + tile, n), j1 = std::min(j0 + tile, n);
      for (index_t i = i0; i < i1; ++i)
        for (index_t j = j0; j < std::min(j1, i); ++j) {
          if (from_lower)
            m[j * n + i] = m[i * n + j];
          else
            m[i * n + j] = m[j * n + i];
        }
    }
}
template void mirror_triangle<float>(float*, index_t, bool);
template void mirror_triangle<double>(double*, index_t, bool);

template <>
void axpy<float>(index_t n, float alpha, const float* x, float* y) {
  cblas_saxpy(int(n), alpha, x, 1, y, 1);
}
template <>
void axpy<double>(index_t n, double alpha, const double* x, double* y) {
  cblas_daxpy(int(n), alpha, x, 1, y, 1);
}

template <>
double dot<float>(index_t n, const float* x, const float* y) {
  return cblas_dsdot(int(n), x, 1, y, 1);
}
template <>
double dot<double>(index_t n, const double* x, const double* y) {
  return cblas_ddot(int(n), x, 1, y, 1);
}

}  // namespace curv
