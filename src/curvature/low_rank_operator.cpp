#include "curv/curvature/low_rank_operator.hpp"

#include <cblas.h>
#include <lapacke.h>

#include <cmath>

#include "curv/core/error.hpp"

namespace curv {

LowRankOperator::LowRankOperator(std::vector<double> U, index_t m, index_t n, double c,
                                 std::vector<double> d, std::string name)
    : LinearOperator(n), U_(std::move(U)), m_(m), c_(c), d_(std::move(d)), name_(std::move(name)) {
  CURV_CHECK(m >= 1 && n >= 1, name_, ": expected a (m, n) factor with m, n >= 1, found (", m, ", ",
             n, ")");
  CURV_CHECK(index_t(U_.size()) == m * n, name_, ": expected m·n = ", m * n,
             " factor values, found ", U_.size());
  CURV_CHECK(std::isfinite(c) && c > 0, name_, ": expected a scale c > 0, found ", c);
  if (d_.empty()) d_.assign(std::size_t(n), 0.0);
  CURV_CHECK(index_t(d_.size()) == n, name_, ": expected a diagonal of ", n, " entries, found ",
             d_.size());
  for (double x : d_)
    CURV_CHECK(std::isfinite(x) && x >= 0, name_, ": expected diagonal entries >= 0, found ", x);
  for (double x : U_) CURV_CHECK(std::isfinite(x), name_, ": expected a finite factor, found ", x);
  t_.resize(std::size_t(m));
}

void LowRankOperator::mv(const double* v, double* out) {
  const index_t n = size();
  cblas_dgemv(CblasRowMajor, CblasNoTrans, int(m_), int(n), 1.0, U_.data(), int(n), v, 1, 0.0,
              t_.data(), 1);  // t = U v
  for (index_t i = 0; i < n; ++i) out[i] = d_[std::size_t(i)] * v[i];
  cblas_dgemv(CblasRowMajor, CblasTrans, int(m_), int(n), c_, U_.data(), int(n), t_.data(), 1, 1.0,
              out, 1);
}

void LowRankOperator::factorize(double damping) {
  if (damping == factored_for_) return;
  CURV_CHECK(std::isfinite(damping) && damping >= 0, name_, ": expected a damping >= 0, found ",
             damping);
  const index_t n = size();
  Dinv_.resize(std::size_t(n));
  for (index_t i = 0; i < n; ++i) {
    const double s = d_[std::size_t(i)] + damping;
    CURV_CHECK(s > 0, name_, ": entry ", i, " of the damped diagonal is ", s,
               ", not invertible: expected a damping > 0");
    Dinv_[std::size_t(i)] = 1 / s;
  }
  // K = I/c + U D⁻¹ Uᵀ, through W = U D^{-1/2}.
  std::vector<double> W(U_);
  for (index_t r = 0; r < m_; ++r)
    for (index_t i = 0; i < n; ++i) W[std::size_t(r * n + i)] *= std::sqrt(Dinv_[std::size_t(i)]);
  L_.assign(std::size_t(m_ * m_), 0.0);
  cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, int(m_), int(n), 1.0, W.data(), int(n), 0.0,
              L_.data(), int(m_));
  for (index_t r = 0; r < m_; ++r) L_[std::size_t(r * m_ + r)] += 1 / c_;
  const lapack_int info =
      LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', lapack_int(m_), L_.data(), lapack_int(m_));
  CURV_CHECK(info == 0, name_, ": expected I/c + U D⁻¹ Uᵀ to be positive definite, found a failed ",
             "Cholesky pivot (info ", info, ")");
  logdet_K_ = 0;
  for (index_t r = 0; r < m_; ++r) logdet_K_ += 2 * std::log(L_[std::size_t(r * m_ + r)]);
  factored_for_ = damping;
}

std::vector<double> LowRankOperator::inverse_diagonal(double damping) {
  factorize(damping);
  const index_t n = size();
  std::vector<double> Z(U_);  // L⁻¹U, (m, n)
  cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, int(m_), int(n),
              1.0, L_.data(), int(m_), Z.data(), int(n));
  std::vector<double> d(Dinv_);
  for (index_t r = 0; r < m_; ++r)
    for (index_t i = 0; i < n; ++i) {
      const double z = Z[std::size_t(r * n + i)];
      d[std::size_t(i)] -= Dinv_[std::size_t(i)] * Dinv_[std::size_t(i)] * z * z;
    }
  return d;
}

void LowRankOperator::inverse_mv(const double* v, double damping, double* out) {
  factorize(damping);
  const index_t n = size();
  for (index_t i = 0; i < n; ++i) out[i] = Dinv_[std::size_t(i)] * v[i];  // D⁻¹v
  cblas_dgemv(CblasRowMajor, CblasNoTrans, int(m_), int(n), 1.0, U_.data(), int(n), out, 1, 0.0,
              t_.data(), 1);
  LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'L', lapack_int(m_), 1, L_.data(), lapack_int(m_), t_.data(), 1);
  // out = D⁻¹(v − Uᵀ K⁻¹ U D⁻¹ v)
  std::vector<double> u(std::size_t(n), 0.0);
  cblas_dgemv(CblasRowMajor, CblasTrans, int(m_), int(n), 1.0, U_.data(), int(n), t_.data(), 1, 0.0,
              u.data(), 1);
  for (index_t i = 0; i < n; ++i) out[i] -= Dinv_[std::size_t(i)] * u[std::size_t(i)];
}

std::vector<double> LowRankOperator::diagonal() {
  std::vector<double> diag(d_);
  const index_t n = size();
  for (index_t r = 0; r < m_; ++r)
    for (index_t i = 0; i < n; ++i) {
      const double u = U_[std::size_t(r * n + i)];
      diag[std::size_t(i)] += c_ * u * u;
    }
  return diag;
}

double LowRankOperator::trace() {
  double t = 0;
  for (double x : diagonal()) t += x;
  return t;
}

double LowRankOperator::logdet(double damping) {
  factorize(damping);
  double l = double(m_) * std::log(c_) + logdet_K_;
  for (double x : Dinv_) l -= std::log(x);
  return l;
}

LowRankOperator LowRankOperator::plus(double scale, const std::vector<double>& extra) const {
  CURV_CHECK(index_t(extra.size()) == size(), name_, ": expected a diagonal of ", size(),
             " entries to add, found ", extra.size());
  std::vector<double> d(d_);
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = scale * d[i] + extra[i];
  return LowRankOperator(U_, m_, size(), scale * c_, std::move(d), name_);
}

}  // namespace curv
