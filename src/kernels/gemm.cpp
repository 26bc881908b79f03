#include "curv/kernels/gemm.hpp"

#include <cblas.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <vector>

#include "curv/kernels/parallel.hpp"

namespace curv {
namespace {
CBLAS_TRANSPOSE cb(Trans t) { return t == Trans::No ? CblasNoTrans : CblasTrans; }
}  // namespace

template <>
void gemm<float>(Trans ta, Trans tb, index_t m, index_t n, index_t k, float alpha, const float* a,
                 index_t lda, const float* b, index_t ldb, float beta, float* c, index_t ldc) {
  if (m == 0 || n == 0) return;
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
