// M-FAC low-rank-plus-identity operators. Everything rests on Woodbury's identity for
// F = λI + (1/m) GᵀG:
//     F⁻¹ = (I − Gᵀ (mλI + K)⁻¹ G) / λ,    K = G Gᵀ (m × m),
// so the d-dimensional work is a product with G or Gᵀ and the rest is m × m algebra.
#include "curv/curvature/lowrank.hpp"

#include <cblas.h>
#include <lapacke.h>

#include <cmath>

#include "curv/core/error.hpp"

namespace curv {

namespace {

void check_damping(const char* who, double damping) {
  CURV_CHECK(std::isfinite(damping) && damping > 0, who,
             ": expected a finite damping λ > 0, found ", damping);
}

// The operators' λ is built in; a second damping would have to be folded into every vᵢ, so it is
// refused rather than ignored.
void check_no_extra(const char* who, const char* what, double extra) {
  CURV_CHECK(extra == 0, who, ": expected ", what,
             " damping 0 (λ is fixed at construction; set_damping "
             "changes it for mfac-dynamic), found ",
             extra);
}

void check_finite(const char* who, const double* g, index_t d, index_t row) {
  for (index_t k = 0; k < d; ++k)
    if (!std::isfinite(g[k])) {
      if (row >= 0)
        fail(who, ": expected finite gradients, found ", g[k], " at gradient ", row, ", index ", k);
      fail(who, ": expected a finite gradient, found ", g[k], " at index ", k);
    }
}

// Lower Cholesky factor in place of the leading n × n block (row stride ld) of a; throws if a
// pivot fails, which for mλI + K with λ > 0 only rounding can cause.
void potrf_lower(const char* who, double* a, index_t n, index_t ld) {
  if (n == 0) return;
  const lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', lapack_int(n), a, lapack_int(ld));
  CURV_CHECK(info == 0, who,
             ": expected mλI + GGᵀ to be positive definite, found a failed Cholesky pivot (info ",
             info, "); raise the damping");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// StaticMfac
//
// M-FAC computes vᵢ = F_{i−1}⁻¹ gᵢ by a recursion over i (Sherman–Morrison one gradient at a
// time). The same vectors come from one Cholesky factorization LLᵀ = mλI + K: with W = L⁻¹G,
//     vᵢ = (L_ii / λ) wᵢ   and   m + gᵢᵀvᵢ = L_ii² / λ,
// because row i of L⁻¹G removes from gᵢ exactly its components along g₁…g_{i−1} as measured by
// F_{i−1}. LAPACK's blocked factorization and a triangular solve (BLAS-3) replace the O(m³)
// scalar recursion and its O(d m²) vector updates, with Cholesky's backward stability.

StaticMfac::StaticMfac(std::vector<double> gradients, index_t m, index_t d, double damping)
    : LinearOperator(d), m_(m), d_(d), lambda_(damping), V_(std::move(gradients)) {
  const char* who = "mfac-static";
  CURV_CHECK(m >= 1 && d >= 1, who,
             ": expected at least one gradient of dimension ≥ 1, found m = ", m, ", d = ", d);
  CURV_CHECK(static_cast<index_t>(V_.size()) == m * d, who, ": expected m·d = ", m, "·", d, " = ",
             m * d, " gradient values, found ", V_.size());
  check_damping(who, damping);
  for (index_t i = 0; i < m; ++i) check_finite(who, V_.data() + i * d, d, i);

  // Diagonal and trace of F are read off G now, since G is about to be overwritten.
  diagonal_.assign(static_cast<std::size_t>(d), 0.0);
  for (index_t i = 0; i < m; ++i) {
    const double* g = V_.data() + i * d;
    for (index_t k = 0; k < d; ++k) diagonal_[k] += g[k] * g[k];
  }
  for (double& x : diagonal_) x = damping + x / double(m);

  // K = G Gᵀ (lower triangle), O(d m²).
  L_.assign(static_cast<std::size_t>(m * m), 0.0);
  cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, int(m), int(d), 1.0, V_.data(), int(d), 0.0,
              L_.data(), int(m));
  double sum_k = 0;
  for (index_t i = 0; i < m; ++i) sum_k += L_[i * m + i];
  trace_ = double(d) * damping + sum_k / double(m);
  for (index_t i = 0; i < m; ++i) L_[i * m + i] += double(m) * damping;
  potrf_lower(who, L_.data(), m, m);
  for (index_t i = 0; i < m; ++i)
    for (index_t j = i + 1; j < m; ++j) L_[i * m + j] = 0;

  // V = diag(L_ii / λ) L⁻¹ G, O(d m²).
  cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, int(m), int(d), 1.0,
              L_.data(), int(m), V_.data(), int(d));
  den_.resize(static_cast<std::size_t>(m));
  // det F = λ^d Πᵢ (m + gᵢᵀvᵢ)/m: each Sherman–Morrison step multiplies det by 1 + gᵢᵀvᵢ/m (the
  // matrix determinant lemma applied one gradient at a time).
  logdet_ = double(d) * std::log(damping);
  for (index_t i = 0; i < m; ++i) {
    const double l = L_[i * m + i];
    cblas_dscal(int(d), l / damping, V_.data() + i * d, 1);
    den_[i] = l * l / damping;
    logdet_ += std::log(den_[i] / double(m));
  }
}

void StaticMfac::mv(const double* v, double* out) {
  // G = λ L diag(1/L_ii) V, so F v = λv + (1/m) Gᵀ(G v) without keeping G.
  const int m = int(m_), d = int(d_);
  std::vector<double> y(static_cast<std::size_t>(m_));
  cblas_dgemv(CblasRowMajor, CblasNoTrans, m, d, 1.0, V_.data(), d, v, 1, 0.0, y.data(), 1);
  for (index_t i = 0; i < m_; ++i) y[i] *= lambda_ / L_[i * m_ + i];
  cblas_dtrmv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, m, L_.data(), m, y.data(),
              1);  // y = G v
  cblas_dtrmv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, m, L_.data(), m, y.data(), 1);
  for (index_t i = 0; i < m_; ++i) y[i] *= lambda_ / L_[i * m_ + i];
  for (index_t k = 0; k < d_; ++k) out[k] = lambda_ * v[k];
  cblas_dgemv(CblasRowMajor, CblasTrans, m, d, 1.0 / double(m_), V_.data(), d, y.data(), 1, 1.0,
              out, 1);
}

void StaticMfac::apply_inverse(const double* x, double* out) const {
  // F⁻¹x = x/λ − Σᵢ vᵢ (vᵢᵀx) / (m + gᵢᵀvᵢ): two passes over V.
  const int m = int(m_), d = int(d_);
  std::vector<double> y(static_cast<std::size_t>(m_));
  cblas_dgemv(CblasRowMajor, CblasNoTrans, m, d, 1.0, V_.data(), d, x, 1, 0.0, y.data(), 1);
  for (index_t i = 0; i < m_; ++i) y[i] /= den_[i];
  for (index_t k = 0; k < d_; ++k) out[k] = x[k] / lambda_;
  cblas_dgemv(CblasRowMajor, CblasTrans, m, d, -1.0, V_.data(), d, y.data(), 1, 1.0, out, 1);
}

void StaticMfac::inverse_mv(const double* v, double damping, double* out) {
  check_no_extra("mfac-static", "inverse_mv", damping);
  apply_inverse(v, out);
}

std::vector<double> StaticMfac::solve(const std::vector<double>& x) const {
  CURV_CHECK(static_cast<index_t>(x.size()) == d_, "mfac-static: expected a vector of length ", d_,
             ", found ", x.size());
  std::vector<double> out(x.size());
  apply_inverse(x.data(), out.data());
  return out;
}

double StaticMfac::logdet(double damping) {
  check_no_extra("mfac-static", "logdet", damping);
  return logdet_;
}

double StaticMfac::inverse_entry(index_t k, index_t l) const {
  CURV_CHECK(k >= 0 && k < d_ && l >= 0 && l < d_, "mfac-static: expected indices in [0,", d_,
             "), found (", k, ", ", l, ")");
  double s = k == l ? 1.0 / lambda_ : 0.0;
  for (index_t i = 0; i < m_; ++i) s -= V_[i * d_ + k] * V_[i * d_ + l] / den_[i];
  return s;
}

std::vector<double> StaticMfac::inverse_diagonal() const {
  std::vector<double> out(static_cast<std::size_t>(d_), 1.0 / lambda_);
  // Row by row, so V is streamed once in memory order.
  for (index_t i = 0; i < m_; ++i) {
    const double* v = V_.data() + i * d_;
    const double c = 1.0 / den_[i];
    for (index_t k = 0; k < d_; ++k) out[k] -= c * v[k] * v[k];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// DynamicMfac
//
// Slots 0..m−1 hold the window's gradients; K = GGᵀ and M = (mλI + K)⁻¹ are kept over the
// occupied slots, with M's rows and columns of empty slots zero so that the BLAS calls can run
// over the leading n × n block. Replacing slot r is a removal followed by an addition:
//   removal   (Schur complement of M_rr)   M ← M − M_{:r} M_{r:} / M_rr, then row/column r = 0;
//   addition  (bordered inverse)           with b = K_{:r} (b_r = 0), c = mλ + K_rr, u = M b,
//             s = c − bᵀu > 0:             M ← M + uuᵀ/s,  M_{:r} = M_{r:} = −u/s,  M_rr = 1/s.
// Each is O(m²). K's new row is exact (fresh dot products); only M accumulates rounding, which
// the periodic refactorization discards.

DynamicMfac::DynamicMfac(index_t d, index_t m, double damping, index_t refresh_every)
    : LinearOperator(d),
      d_(d),
      m_(m),
      lambda_(damping),
      refresh_every_(refresh_every < 0 ? m : refresh_every) {
  CURV_CHECK(m >= 1 && d >= 1,
             "mfac-dynamic: expected capacity m ≥ 1 and dimension d ≥ 1, found m = ", m,
             ", d = ", d);
  check_damping("mfac-dynamic", damping);
  G_.assign(static_cast<std::size_t>(m * d), 0.0);
  K_.assign(static_cast<std::size_t>(m * m), 0.0);
  M_.assign(static_cast<std::size_t>(m * m), 0.0);
  u_.assign(static_cast<std::size_t>(m), 0.0);
  b_.assign(static_cast<std::size_t>(m), 0.0);
}

void DynamicMfac::push(const std::vector<double>& g) {
  CURV_CHECK(static_cast<index_t>(g.size()) == d_, "mfac-dynamic: expected a gradient of length ",
             d_, ", found ", g.size());
  push(g.data());
}

void DynamicMfac::push(const double* g) {
  // Validated before anything changes, so a rejected gradient leaves the window as it was.
  check_finite("mfac-dynamic", g, d_, -1);
  const index_t r = next_;
  if (n_ == m_)
    remove_slot(r);
  else
    ++n_;  // while filling, r == n_ − 1 after this
  std::copy(g, g + d_, G_.begin() + r * d_);
  // The new row and column of K: dot products with every occupied slot, O(d n).
  cblas_dgemv(CblasRowMajor, CblasNoTrans, int(n_), int(d_), 1.0, G_.data(), int(d_), g, 1, 0.0,
              b_.data(), 1);
  for (index_t j = 0; j < n_; ++j) K_[r * m_ + j] = K_[j * m_ + r] = b_[j];
  next_ = (r + 1) % m_;
  ++pushes_;
  if (refresh_every_ > 0 && ++since_refresh_ >= refresh_every_)
    refactorize();
  else
    add_slot(r);
}

void DynamicMfac::remove_slot(index_t r) {
  const index_t m = m_;
  const double p = M_[r * m + r];
  for (index_t j = 0; j < n_; ++j) u_[j] = M_[j * m + r];
  cblas_dger(CblasRowMajor, int(n_), int(n_), -1.0 / p, u_.data(), 1, u_.data(), 1, M_.data(),
             int(m));
  // Mathematically already zero; set exactly so the slot drops out of every product.
  for (index_t j = 0; j < n_; ++j) M_[r * m + j] = M_[j * m + r] = 0;
}

void DynamicMfac::add_slot(index_t r) {
  const index_t m = m_;
  for (index_t j = 0; j < n_; ++j) b_[j] = K_[r * m + j];
  b_[r] = 0;
  const double c = double(m) * lambda_ + K_[r * m + r];
  cblas_dgemv(CblasRowMajor, CblasNoTrans, int(n_), int(n_), 1.0, M_.data(), int(m), b_.data(), 1,
              0.0, u_.data(), 1);
  const double s = c - cblas_ddot(int(n_), b_.data(), 1, u_.data(), 1);
  // s ≥ mλ in exact arithmetic (a Schur complement of mλI + K); far below that, cancellation has
  // eaten the update and the exact route is taken instead.
  if (!(s > 0.5 * double(m) * lambda_) || !std::isfinite(s)) {
    refactorize();
    return;
  }
  cblas_dger(CblasRowMajor, int(n_), int(n_), 1.0 / s, u_.data(), 1, u_.data(), 1, M_.data(),
             int(m));
  for (index_t j = 0; j < n_; ++j) M_[r * m + j] = M_[j * m + r] = -u_[j] / s;
  M_[r * m + r] = 1.0 / s;
}

void DynamicMfac::refactorize() {
  since_refresh_ = 0;
  const index_t m = m_, n = n_;
  std::fill(M_.begin(), M_.end(), 0.0);
  if (n == 0) return;
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j <= i; ++j) M_[i * m + j] = K_[i * m + j];
  for (index_t i = 0; i < n; ++i) M_[i * m + i] += double(m) * lambda_;
  potrf_lower("mfac-dynamic", M_.data(), n, m);
  const lapack_int info =
      LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', lapack_int(n), M_.data(), lapack_int(m));
  CURV_CHECK(info == 0,
             "mfac-dynamic: expected an invertible Cholesky factor, found LAPACK dpotri info ",
             info);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < i; ++j) M_[j * m + i] = M_[i * m + j];
}

void DynamicMfac::set_damping(double damping) {
  check_damping("mfac-dynamic", damping);
  lambda_ = damping;
  refactorize();
}

void DynamicMfac::mv(const double* v, double* out) {
  for (index_t k = 0; k < d_; ++k) out[k] = lambda_ * v[k];
  if (n_ == 0) return;
  cblas_dgemv(CblasRowMajor, CblasNoTrans, int(n_), int(d_), 1.0, G_.data(), int(d_), v, 1, 0.0,
              u_.data(), 1);
  cblas_dgemv(CblasRowMajor, CblasTrans, int(n_), int(d_), 1.0 / double(m_), G_.data(), int(d_),
              u_.data(), 1, 1.0, out, 1);
}

void DynamicMfac::inverse_mv(const double* v, double damping, double* out) {
  check_no_extra("mfac-dynamic", "inverse_mv", damping);
  // F⁻¹v = (v − Gᵀ M G v) / λ.
  const int n = int(n_), d = int(d_), m = int(m_);
  std::copy(v, v + d_, out);
  if (n_ > 0) {
    cblas_dgemv(CblasRowMajor, CblasNoTrans, n, d, 1.0, G_.data(), d, v, 1, 0.0, b_.data(), 1);
    cblas_dsymv(CblasRowMajor, CblasLower, n, 1.0, M_.data(), m, b_.data(), 1, 0.0, u_.data(), 1);
    cblas_dgemv(CblasRowMajor, CblasTrans, n, d, -1.0, G_.data(), d, u_.data(), 1, 1.0, out, 1);
  }
  cblas_dscal(d, 1.0 / lambda_, out, 1);
}

std::vector<double> DynamicMfac::solve(const std::vector<double>& x) {
  CURV_CHECK(static_cast<index_t>(x.size()) == d_, "mfac-dynamic: expected a vector of length ", d_,
             ", found ", x.size());
  std::vector<double> out(x.size());
  inverse_mv(x.data(), 0.0, out.data());
  return out;
}

std::vector<double> DynamicMfac::diagonal() {
  std::vector<double> out(static_cast<std::size_t>(d_), 0.0);
  for (index_t i = 0; i < n_; ++i) {
    const double* g = G_.data() + i * d_;
    for (index_t k = 0; k < d_; ++k) out[k] += g[k] * g[k];
  }
  for (double& x : out) x = lambda_ + x / double(m_);
  return out;
}

double DynamicMfac::trace() {
  double s = 0;
  for (index_t i = 0; i < n_; ++i) s += K_[i * m_ + i];
  return double(d_) * lambda_ + s / double(m_);
}

double DynamicMfac::logdet(double damping) {
  check_no_extra("mfac-dynamic", "logdet", damping);
  // Matrix determinant lemma: det F = λ^d det(I + K/(mλ)) = λ^d det(mλI + K) / (mλ)^n.
  std::vector<double> A(static_cast<std::size_t>(n_ * n_));
  for (index_t i = 0; i < n_; ++i)
    for (index_t j = 0; j <= i; ++j) A[i * n_ + j] = K_[i * m_ + j];
  for (index_t i = 0; i < n_; ++i) A[i * n_ + i] += double(m_) * lambda_;
  potrf_lower("mfac-dynamic", A.data(), n_, n_);
  double s = double(d_) * std::log(lambda_) - double(n_) * std::log(double(m_) * lambda_);
  for (index_t i = 0; i < n_; ++i) s += 2 * std::log(A[i * n_ + i]);
  return s;
}

}  // namespace curv
