#include "curv/curvature/compose.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "curv/core/error.hpp"
#include "curv/curvature/kfac.hpp"
#include "curv/curvature/low_rank_operator.hpp"

namespace curv {

// ---------------------------------------------------------------------------------------------
// DiagonalOperator

DiagonalOperator::DiagonalOperator(std::vector<double> d, std::string name)
    : LinearOperator(index_t(d.size())), d_(std::move(d)), name_(std::move(name)) {
  for (double x : d_)
    CURV_CHECK(std::isfinite(x), name_, ": expected a finite diagonal, found ", x);
}

void DiagonalOperator::mv(const double* v, double* out) {
  for (std::size_t i = 0; i < d_.size(); ++i) out[i] = d_[i] * v[i];
}

void DiagonalOperator::inverse_root_mv(const double* v, double damping, double* out) {
  inverse_mv(v, damping, out);  // checks every d + λ > 0
  for (std::size_t i = 0; i < d_.size(); ++i) out[i] = v[i] / std::sqrt(d_[i] + damping);
}

void DiagonalOperator::inverse_mv(const double* v, double damping, double* out) {
  CURV_CHECK(damping >= 0, name_, ": expected a damping >= 0, found ", damping);
  for (std::size_t i = 0; i < d_.size(); ++i) {
    const double s = d_[i] + damping;
    CURV_CHECK(s > 0, name_, ": entry ", i, " of the damped diagonal is ", s,
               ", not invertible: raise the damping");
    out[i] = v[i] / s;
  }
}

std::vector<double> DiagonalOperator::inverse_diagonal(double damping) {
  std::vector<double> out(d_.size());
  const std::vector<double> ones(d_.size(), 1.0);
  inverse_mv(ones.data(), damping, out.data());
  return out;
}

double DiagonalOperator::logdet(double damping) {
  CURV_CHECK(damping >= 0, name_, ": expected a damping >= 0, found ", damping);
  double l = 0;
  for (double x : d_) l += std::log(x + damping);
  CURV_CHECK(std::isfinite(l), name_, ": the damped diagonal is singular: raise the damping");
  return l;
}

Eigenpairs DiagonalOperator::eigendecomposition() {
  std::vector<std::size_t> order(d_.size());
  std::iota(order.begin(), order.end(), std::size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return d_[a] < d_[b]; });
  Eigenpairs e;
  for (auto i : order) {
    e.values.push_back(d_[i]);
    e.vectors.emplace_back(d_.size(), 0.0);
    e.vectors.back()[i] = 1;
  }
  return e;
}

// ---------------------------------------------------------------------------------------------
// ScaledOperator

ScaledOperator::ScaledOperator(double scale, std::unique_ptr<LinearOperator> inner)
    : LinearOperator(inner->size()), scale_(scale), inner_(std::move(inner)) {
  CURV_CHECK(std::isfinite(scale) && scale > 0, "scaled ", inner_->name(),
             ": expected a scale > 0, found ", scale);
}

std::string ScaledOperator::name() const { return std::to_string(scale_) + "*" + inner_->name(); }

void ScaledOperator::mv(const double* v, double* out) {
  inner_->mv(v, out);
  for (index_t i = 0; i < size(); ++i) out[i] *= scale_;
}

void ScaledOperator::mm(const double* V, index_t k, double* out) {
  inner_->mm(V, k, out);
  for (index_t i = 0; i < k * size(); ++i) out[i] *= scale_;
}

void ScaledOperator::inverse_mv(const double* v, double damping, double* out) {
  inner_->inverse_mv(v, damping / scale_, out);
  for (index_t i = 0; i < size(); ++i) out[i] /= scale_;
}

std::vector<double> ScaledOperator::diagonal() {
  std::vector<double> d = inner_->diagonal();
  for (double& x : d) x *= scale_;
  return d;
}

double ScaledOperator::trace() { return scale_ * inner_->trace(); }

void ScaledOperator::inverse_root_mv(const double* v, double damping, double* out) {
  // (cM + λI)⁻¹ = (M + λ/c)⁻¹ / c: the inner root scaled by 1/√c.
  inner_->inverse_root_mv(v, damping / scale_, out);
  for (index_t i = 0; i < size(); ++i) out[i] /= std::sqrt(scale_);
}

std::vector<double> ScaledOperator::inverse_diagonal(double damping) {
  std::vector<double> d =
      inner_->inverse_diagonal(damping / scale_);  // (cM + λI)⁻¹ = (M + λ/c)⁻¹/c
  for (double& x : d) x /= scale_;
  return d;
}

double ScaledOperator::logdet(double damping) {
  return double(size()) * std::log(scale_) + inner_->logdet(damping / scale_);
}

Eigenpairs ScaledOperator::eigendecomposition() {
  Eigenpairs e = inner_->eigendecomposition();
  for (double& x : e.values) x *= scale_;
  return e;
}

// ---------------------------------------------------------------------------------------------
// SumOperator

namespace {

// An operator seen as scale·base, looking through scales and sums that have an exact form.
struct Seen {
  double scale = 1;
  LinearOperator* base = nullptr;
};

Seen see(LinearOperator* op) {
  Seen s;
  for (;;) {
    if (auto* x = dynamic_cast<ScaledOperator*>(op)) {
      s.scale *= x->scale(), op = &x->inner();
    } else if (auto* x = dynamic_cast<SumOperator*>(op); x && x->exact()) {
      op = x->exact();
    } else {
      s.base = op;
      return s;
    }
  }
}

// x.scale·x.base + diag(d) in one exact structure, or null with the reason in why.
std::unique_ptr<LinearOperator> plus(Seen x, std::vector<double> d, std::string& why) {
  if (auto* dx = dynamic_cast<DiagonalOperator*>(x.base)) {
    for (std::size_t i = 0; i < d.size(); ++i) d[i] += x.scale * dx->values()[i];
    return std::make_unique<DiagonalOperator>(std::move(d), "diag");
  }
  if (auto* k = dynamic_cast<KfacOperator*>(x.base)) return k->shifted(x.scale, d, &why);
  if (auto* l = dynamic_cast<LowRankOperator*>(x.base))
    return std::make_unique<LowRankOperator>(l->plus(x.scale, d));
  if (auto* m = dynamic_cast<DenseOperator*>(x.base)) {
    const index_t n = m->size();
    std::vector<double> a = m->matrix();
    for (double& v : a) v *= x.scale;
    for (index_t i = 0; i < n; ++i) a[std::size_t(i * n + i)] += d[std::size_t(i)];
    return std::make_unique<DenseOperator>(std::move(a), n, m->name());
  }
  why = x.base->name() + " has no structure a diagonal can be added to exactly";
  return nullptr;
}

// x.scale·x.base + y.scale·y.base in one exact structure, or null with the reason in why.
std::unique_ptr<LinearOperator> fold(Seen x, Seen y, std::string& why) {
  if (!dynamic_cast<DiagonalOperator*>(y.base)) std::swap(x, y);
  auto* dy = dynamic_cast<DiagonalOperator*>(y.base);
  if (!dy) {
    why = "neither part is diagonal";
    return nullptr;
  }
  std::vector<double> d = dy->values();
  for (double& v : d) v *= y.scale;
  return plus(x, std::move(d), why);
}

}  // namespace

std::unique_ptr<LinearOperator> plus_diagonal(LinearOperator& m, double scale,
                                              const std::vector<double>& d, std::string* why) {
  CURV_CHECK(index_t(d.size()) == m.size(), "plus_diagonal: expected ", m.size(),
             " diagonal entries (the operator's size), found ", d.size());
  Seen x = see(&m);
  x.scale *= scale;
  std::string reason;
  auto out = plus(x, d, reason);
  if (why) *why = reason;
  return out;
}

SumOperator::SumOperator(std::unique_ptr<LinearOperator> a, std::unique_ptr<LinearOperator> b)
    : LinearOperator(a->size()), a_(std::move(a)), b_(std::move(b)) {
  CURV_CHECK(a_->size() == b_->size(), "sum of ", a_->name(), " and ", b_->name(),
             ": expected operators of one size, found ", a_->size(), " and ", b_->size());
  exact_ = fold(see(a_.get()), see(b_.get()), why_not_);
  work_.resize(std::size_t(size()));
}

std::string SumOperator::name() const { return "sum(" + a_->name() + "," + b_->name() + ")"; }

void SumOperator::mv(const double* v, double* out) {
  a_->mv(v, out);
  b_->mv(v, work_.data());
  for (index_t i = 0; i < size(); ++i) out[i] += work_[std::size_t(i)];
}

void SumOperator::inverse_mv(const double* v, double damping, double* out) {
  if (!exact_)
    fail(name(), ": no exact inverse (", why_not_,
         "): solve (M + λI)x = v with conjugate gradient (curv::linalg::cg)");
  exact_->inverse_mv(v, damping, out);
}

std::vector<double> SumOperator::diagonal() {
  std::vector<double> d = a_->diagonal(), e = b_->diagonal();
  for (std::size_t i = 0; i < d.size(); ++i) d[i] += e[i];
  return d;
}

double SumOperator::trace() { return a_->trace() + b_->trace(); }

std::vector<double> SumOperator::inverse_diagonal(double damping) {
  if (!exact_)
    fail(name(), ": no exact inverse diagonal (", why_not_,
         "): estimate it with Hutchinson probes of CG solves (curv::linalg::hutchinson_diagonal)");
  return exact_->inverse_diagonal(damping);
}

double SumOperator::logdet(double damping) {
  if (!exact_)
    fail(name(), ": no exact log-determinant (", why_not_,
         "): estimate it with stochastic Lanczos quadrature (curv::linalg::slq, slq_logdet)");
  return exact_->logdet(damping);
}

Eigenpairs SumOperator::eigendecomposition() {
  if (!exact_)
    fail(name(), ": no exact eigendecomposition (", why_not_,
         "): compute extremal eigenpairs with Lanczos (curv::linalg::lanczos)");
  return exact_->eigendecomposition();
}

}  // namespace curv
