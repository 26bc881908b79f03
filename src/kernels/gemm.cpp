#include "curv/kernels/gemm.hpp"

#include <cblas.h>

namespace curv {
namespace {
CBLAS_TRANSPOSE cb(Trans t) { return t == Trans::No ? CblasNoTrans : CblasTrans; }
}  // namespace

template <>
void gemm<float>(Trans ta, Trans tb, index_t m, index_t n, index_t k, float alpha, const float* a,
                 index_t lda, const float* b, index_t ldb, float beta, float* c, index_t ldc) {
  if (m == 0 || n == 0) return;
  cblas_sgemm(CblasRowMajor, cb(ta), cb(tb), int(m), int(n), int(k), alpha, a, int(lda), b, int(ldb),
              beta, c, int(ldc));
}

template <>
void gemm<double>(Trans ta, Trans tb, index_t m, index_t n, index_t k, double alpha,
                  const double* a, index_t lda, const double* b, index_t ldb, double beta,
                  double* c, index_t ldc) {
  if (m == 0 || n == 0) return;
  cblas_dgemm(CblasRowMajor, cb(ta), cb(tb), int(m), int(n), int(k), alpha, a, int(lda), b, int(ldb),
              beta, c, int(ldc));
}

template <>
void syrk_lower<float>(index_t n, index_t k, float alpha, const float* a, float beta, float* c, index_t ldc) {
  cblas_ssyrk(CblasRowMajor, CblasLower, CblasTrans, int(n), int(k), alpha, a, int(n), beta, c, int(ldc));
}
template <>
void syrk_lower<double>(index_t n, index_t k, double alpha, const double* a, double beta, double* c, index_t ldc) {
  cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, int(n), int(k), alpha, a, int(n), beta, c, int(ldc));
}

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
