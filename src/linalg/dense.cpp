#include "curv/linalg/dense.hpp"

#include <cblas.h>
#include <lapacke.h>

#include <cmath>

#include "curv/core/error.hpp"

namespace curv::linalg {

void eigh(const double* a, index_t n, double* values, double* Q) {
  for (index_t i = 0; i < n * n; ++i)
    CURV_CHECK(std::isfinite(a[i]), "eigh: expected a finite symmetric matrix, found ", a[i],
               " at (", i / n, ",", i % n, ")");
  std::copy(a, a + n * n, Q);
  if (n == 0) return;
  // dsyevd: divide and conquer, the fastest LAPACK route to all eigenvectors.
  const lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', static_cast<lapack_int>(n), Q,
                                         static_cast<lapack_int>(n), values);
  CURV_CHECK(info == 0, "eigh: LAPACK dsyevd failed to converge on a ", n, "x", n, " matrix (info ",
             info, ")");
}

Eigenpairs eigh(const std::vector<double>& a, index_t n) {
  CURV_CHECK(static_cast<index_t>(a.size()) == n * n, "eigh: expected ", n * n, " entries, found ",
             a.size());
  std::vector<double> values(static_cast<std::size_t>(n)), Q(static_cast<std::size_t>(n * n));
  eigh(a.data(), n, values.data(), Q.data());
  Eigenpairs e;
  e.values = values;
  e.vectors.assign(static_cast<std::size_t>(n), std::vector<double>(static_cast<std::size_t>(n)));
  for (index_t j = 0; j < n; ++j)
    for (index_t i = 0; i < n; ++i) e.vectors[j][i] = Q[i * n + j];
  return e;
}

std::vector<double> cholesky(const std::vector<double>& a, index_t n, double shift) {
  CURV_CHECK(static_cast<index_t>(a.size()) == n * n, "cholesky: expected ", n * n,
             " entries, found ", a.size());
  std::vector<double> L = a;
  for (index_t i = 0; i < n; ++i) L[i * n + i] += shift;
  // The row-major lower factor L is, read column-major, the upper factor U = Lᵀ of the same
  // symmetric matrix: asking LAPACK for U in column-major order avoids the n² transposed copy
  // that LAPACKE's row-major interface makes on every call.
  const lapack_int info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', static_cast<lapack_int>(n),
                                         L.data(), static_cast<lapack_int>(n));
  CURV_CHECK(info >= 0, "cholesky: invalid argument ", -info);
  CURV_CHECK(info == 0,
             "cholesky: expected a positive definite matrix, found a non-positive pivot at row ",
             info - 1, " of ", n, " (raise the damping)");
  for (index_t i = 0; i < n; ++i)
    for (index_t j = i + 1; j < n; ++j) L[i * n + j] = 0;
  return L;
}

void cholesky_solve(const std::vector<double>& L, index_t n, double* B, index_t k) {
  CURV_CHECK(static_cast<index_t>(L.size()) == n * n, "cholesky_solve: expected ", n * n,
             " entries, found ", L.size());
  // B ← L⁻ᵀ L⁻¹ B by two triangular solves; CBLAS takes row-major operands as they are (no
  // copy, unlike LAPACKE's row-major dpotrs, which transposes the n × n factor on every call).
  cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, int(n), int(k),
              1.0, L.data(), int(n), B, int(k));
  cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasTrans, CblasNonUnit, int(n), int(k), 1.0,
              L.data(), int(n), B, int(k));
}

double cholesky_logdet(const std::vector<double>& L, index_t n) {
  double s = 0;
  for (index_t i = 0; i < n; ++i) s += std::log(L[i * n + i]);
  return 2 * s;
}

std::vector<double> solve_spd(const std::vector<double>& a, index_t n, const std::vector<double>& b,
                              double shift) {
  const std::vector<double> L = cholesky(a, n, shift);
  std::vector<double> x = b;
  cholesky_solve(L, n, x.data(), 1);
  return x;
}

}  // namespace curv::linalg
