#include "curv/linalg/operator.hpp"

#include <cblas.h>
#include <lapacke.h>

#include <cmath>
#include <numeric>

#include "curv/core/error.hpp"
#include "curv/linalg/dense.hpp"

namespace curv {

void LinearOperator::mm(const double* V, index_t k, double* out) {
  for (index_t j = 0; j < k; ++j) mv(V + j * size_, out + j * size_);
}

void LinearOperator::inverse_mm(const double* V, index_t k, double damping, double* out) {
  for (index_t j = 0; j < k; ++j) inverse_mv(V + j * size_, damping, out + j * size_);
}

void LinearOperator::lacks(const char* capability, const char* instead) const {
  fail("operator '", name(), "' has no ", capability, "; ", instead);
}

void LinearOperator::inverse_mv(const double*, double, double*) {
  lacks("inverse_mv", "solve with conjugate gradient or LiSSA instead (curv::linalg::cg, lissa)");
}

std::vector<double> LinearOperator::diagonal() {
  lacks("diagonal",
        "estimate it with Hutchinson probes instead (curv::linalg::hutchinson_diagonal)");
}

double LinearOperator::trace() {
  const std::vector<double> d = diagonal();
  return std::accumulate(d.begin(), d.end(), 0.0);
}

double LinearOperator::logdet(double) {
  lacks("logdet", "estimate it with stochastic Lanczos quadrature instead (curv::linalg::slq)");
}

std::vector<double> LinearOperator::inverse_diagonal(double) {
  lacks("inverse_diagonal",
        "estimate it with Hutchinson probes of CG solves instead "
        "(curv::linalg::hutchinson_diagonal)");
}

void LinearOperator::inverse_root_mv(const double*, double, double*) {
  lacks("inverse_root_mv", "use a dense, diagonal or Kronecker structure to sample from it");
}

Eigenpairs LinearOperator::eigendecomposition() {
  lacks("eigendecomposition", "compute extremal eigenpairs with Lanczos or Arnoldi instead");
}

std::vector<double> materialize(LinearOperator& op) {
  const index_t n = op.size();
  // Columns in chunks, so operators with a batched mm use it without an n² identity up front.
  const index_t chunk = std::min<index_t>(n, 64);
  std::vector<double> M(static_cast<std::size_t>(n * n)), E(static_cast<std::size_t>(chunk * n)),
      C(static_cast<std::size_t>(chunk * n));
  for (index_t j0 = 0; j0 < n; j0 += chunk) {
    const index_t k = std::min(chunk, n - j0);
    std::fill(E.begin(), E.end(), 0.0);
    for (index_t j = 0; j < k; ++j) E[j * n + j0 + j] = 1;
    op.mm(E.data(), k, C.data());
    for (index_t j = 0; j < k; ++j)
      for (index_t i = 0; i < n; ++i) M[i * n + j0 + j] = C[j * n + i];
  }
  return M;
}

DenseOperator::DenseOperator(std::vector<double> matrix, index_t n, std::string name)
    : LinearOperator(n), a_(std::move(matrix)), name_(std::move(name)) {
  CURV_CHECK(static_cast<index_t>(a_.size()) == n * n, "dense operator: expected ", n * n,
             " entries for a ", n, "x", n, " matrix, found ", a_.size());
}

void DenseOperator::mv(const double* v, double* out) {
  const int n = static_cast<int>(size());
  cblas_dgemv(CblasRowMajor, CblasNoTrans, n, n, 1.0, a_.data(), n, v, 1, 0.0, out, 1);
}

void DenseOperator::mm(const double* V, index_t k, double* out) {
  const int n = static_cast<int>(size());
  // out (k,n) = V (k,n) Aᵀ, and A is symmetric.
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(k), n, n, 1.0, V, n,
              a_.data(), n, 0.0, out, n);
}

void DenseOperator::inverse_mv(const double* v, double damping, double* out) {
  const index_t n = size();
  const std::vector<double> x = linalg::solve_spd(a_, n, std::vector<double>(v, v + n), damping);
  std::copy(x.begin(), x.end(), out);
}

std::vector<double> DenseOperator::diagonal() {
  const index_t n = size();
  std::vector<double> d(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) d[i] = a_[i * n + i];
  return d;
}

double DenseOperator::logdet(double damping) {
  const index_t n = size();
  return linalg::cholesky_logdet(linalg::cholesky(a_, n, damping), n);
}

void DenseOperator::inverse_root_mv(const double* v, double damping, double* out) {
  // x = L⁻ᵀ v: Cov(L⁻ᵀ ε) = L⁻ᵀ L⁻¹ = (L Lᵀ)⁻¹.
  // Samplers call it once per draw with one λ: the factor is kept.
  const index_t n = size();
  if (damping != root_damping_) {
    root_damping_ = -1;  // invalid until factored
    root_factor_ = linalg::cholesky(a_, n, damping);
    root_damping_ = damping;
  }
  for (index_t i = 0; i < n; ++i)
    CURV_CHECK(root_factor_[std::size_t(i * n + i)] != 0, name_,
               ": expected an invertible Cholesky factor, found a zero pivot at row ", i);
  std::copy(v, v + n, out);
  // CBLAS takes the row-major factor as it is; LAPACKE's row-major dtrtrs would copy and
  // transpose all n² entries on every draw.
  cblas_dtrsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, int(n), root_factor_.data(),
              int(n), out, 1);
}

std::vector<double> DenseOperator::inverse_diagonal(double damping) {
  // [(A + λI)⁻¹]ᵢᵢ = ‖L⁻¹eᵢ‖², L the Cholesky factor: one triangular inverse.
  const index_t n = size();
  std::vector<double> L = linalg::cholesky(a_, n, damping);
  const lapack_int info =
      LAPACKE_dtrtri(LAPACK_ROW_MAJOR, 'L', 'N', lapack_int(n), L.data(), lapack_int(n));
  CURV_CHECK(info == 0, name_, ": expected an invertible Cholesky factor, found info ", info);
  std::vector<double> d(static_cast<std::size_t>(n), 0.0);
  for (index_t r = 0; r < n; ++r)
    for (index_t i = 0; i <= r; ++i) d[std::size_t(i)] += L[r * n + i] * L[r * n + i];
  return d;
}

Eigenpairs DenseOperator::eigendecomposition() { return linalg::eigh(a_, size()); }

}  // namespace curv
