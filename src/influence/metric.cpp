#include "curv/influence/metric.hpp"

#include <algorithm>
#include <cmath>

#include "curv/core/error.hpp"
#include "curv/kernels/gemm.hpp"
#include "curv/linalg/dense.hpp"
#include "curv/linalg/linear_solvers.hpp"

namespace curv::influence {

Inverse parse_inverse(const std::string& name) {
  if (name == "exact") return Inverse::Exact;
  if (name == "cg") return Inverse::Cg;
  if (name == "lissa") return Inverse::Lissa;
  fail("influence: expected an inverse among exact, cg, lissa, found '", name, "'");
}

const char* inverse_name(Inverse kind) {
  switch (kind) {
    case Inverse::Exact:
      return "exact";
    case Inverse::Cg:
      return "cg";
    case Inverse::Lissa:
      return "lissa";
  }
  return "?";
}

namespace {

double dot(const double* a, const double* b, index_t n) {
  double s = 0;
  for (index_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

// ‖b − (A + λI)x‖ / ‖b‖ with A·x already in ax.
double relative_residual(const double* b, const double* x, const double* ax, double damping,
                         index_t n) {
  double r2 = 0;
  for (index_t i = 0; i < n; ++i) {
    const double r = b[i] - ax[i] - damping * x[i];
    r2 += r * r;
  }
  const double nb = std::sqrt(dot(b, b, n));
  return nb > 0 ? std::sqrt(r2) / nb : 0;
}

}  // namespace

void ScoreMetric::quadratic(const double* rows, index_t k, double* out) {
  const index_t P = size();
  std::vector<double> m(std::size_t(k * P));
  apply(rows, k, m.data());
  for (index_t i = 0; i < k; ++i) out[i] = dot(rows + i * P, m.data() + i * P, P);
}

InverseMetric::InverseMetric(LinearOperator& H, const InverseOptions& options)
    : ScoreMetric(H.size()), H_(H), o_(options) {
  CURV_CHECK(o_.damping >= 0, "influence: expected a damping λ >= 0, found ", o_.damping);
  CURV_CHECK(o_.kind != Inverse::Exact || H.size() <= o_.exact_limit,
             "influence: the exact inverse forms H densely: expected at most ", o_.exact_limit,
             " parameters, found ", H.size(), " (use cg or lissa)");
  CURV_CHECK(o_.kind != Inverse::Lissa || o_.lissa_scale > 0,
             "influence: lissa needs a scale s above λ_max(H + λI), found ", o_.lissa_scale);
}

std::string InverseMetric::name() const {
  return std::string("(") + H_.name() + " + λI)⁻¹ by " + inverse_name(o_.kind);
}

void InverseMetric::apply(const double* B, index_t k, double* X) {
  const index_t P = size();
  switch (o_.kind) {
    case Inverse::Exact: {
      if (factor_.empty()) {
        dense_ = materialize(H_);
        report_.products += P;
        // A Hessian from R-operator products is symmetric to rounding: factor its symmetric part.
        for (index_t i = 0; i < P; ++i)
          for (index_t j = 0; j < i; ++j) {
            const double s = 0.5 * (dense_[i * P + j] + dense_[j * P + i]);
            dense_[i * P + j] = dense_[j * P + i] = s;
          }
        try {
          factor_ = linalg::cholesky(dense_, P, o_.damping);
        } catch (const Error& e) {
          fail("influence: exact inverse: H + λI with λ = ", o_.damping,
               " is not positive definite (", e.what(), "); raise the damping or use the GGN");
        }
      }
      // cholesky_solve works on B (P, k): solve on the transpose of the k rows.
      std::vector<double> Bt(std::size_t(P * k));
      for (index_t q = 0; q < k; ++q)
        for (index_t i = 0; i < P; ++i) Bt[i * k + q] = B[q * P + i];
      linalg::cholesky_solve(factor_, P, Bt.data(), k);
      for (index_t q = 0; q < k; ++q)
        for (index_t i = 0; i < P; ++i) X[q * P + i] = Bt[i * k + q];
      // Checked against the dense H it was factored from: one GEMM, no model products.
      std::vector<double> HX(std::size_t(k * P));
      gemm<double>(Trans::No, Trans::No, k, P, P, 1.0, X, dense_.data(), 0.0, HX.data());
      for (index_t q = 0; q < k; ++q)
        report_.worst_residual =
            std::max(report_.worst_residual,
                     relative_residual(B + q * P, X + q * P, HX.data() + q * P, o_.damping, P));
      return;
    }
    case Inverse::Cg: {
      linalg::CgOptions c;
      c.damping = o_.damping, c.tolerance = o_.tolerance, c.max_iterations = o_.max_iterations;
      for (index_t q = 0; q < k; ++q) {
        const auto res = linalg::cg(H_, std::span<const double>(B + q * P, std::size_t(P)), c);
        CURV_CHECK(res.converged, "influence: cg did not reach a relative residual of ",
                   o_.tolerance, " for right-hand side ", q, " within ", o_.max_iterations,
                   " iterations (it reached ", res.relative_residual,
                   "): raise --max-iterations or the damping");
        std::copy(res.x.begin(), res.x.end(), X + q * P);
        // CG's relative_residual is the true one of the x it returns, checked with one product.
        report_.products += res.iterations + 1;
        report_.worst_residual = std::max(report_.worst_residual, res.relative_residual);
      }
      return;
    }
    case Inverse::Lissa: {
      linalg::LissaOptions l;
      l.scale = o_.lissa_scale, l.depth = o_.lissa_depth, l.damping = o_.damping;
      std::vector<double> hx(static_cast<std::size_t>(P));
      for (index_t q = 0; q < k; ++q) {
        const auto res = linalg::lissa(H_, std::span<const double>(B + q * P, std::size_t(P)), l);
        std::copy(res.x.begin(), res.x.end(), X + q * P);
        H_.mv(X + q * P, hx.data());  // the series' truncation error, by one product
        report_.products += o_.lissa_depth + 1;
        report_.worst_residual =
            std::max(report_.worst_residual,
                     relative_residual(B + q * P, X + q * P, hx.data(), o_.damping, P));
      }
      return;
    }
  }
}

OperatorInverseMetric::OperatorInverseMetric(LinearOperator& M, double damping)
    : ScoreMetric(M.size()), M_(M), damping_(damping) {
  CURV_CHECK(damping >= 0, "influence: expected a damping λ >= 0, found ", damping);
  CURV_CHECK(M.has_inverse(),
             "influence: expected an operator with a structured inverse (kfac, "
             "ekfac, diag, lowrank, blockdiag-*), found ",
             M.name());
}

void OperatorInverseMetric::apply(const double* rows, index_t k, double* out) {
  M_.inverse_mm(rows, k, damping_, out);
}

void IdentityMetric::apply(const double* rows, index_t k, double* out) {
  std::copy(rows, rows + k * size(), out);
}

void IdentityMetric::quadratic(const double* rows, index_t k, double* out) {
  for (index_t i = 0; i < k; ++i) out[i] = dot(rows + i * size(), rows + i * size(), size());
}

EigenMetric::EigenMetric(std::vector<double> values, std::vector<double> vectors, index_t size,
                         double damping)
    : ScoreMetric(size),
      values_(std::move(values)),
      vectors_(std::move(vectors)),
      damping_(damping) {
  CURV_CHECK(vectors_.size() == values_.size() * std::size_t(size), "influence: expected ",
             values_.size(), " eigenvectors of ", size, " entries, found ", vectors_.size(),
             " entries");
  for (std::size_t i = 0; i < values_.size(); ++i)
    CURV_CHECK(values_[i] + damping > 0, "influence: eigenvalue ", i, " is ", values_[i],
               ", so θ + λ = ", values_[i] + damping,
               " is not positive: raise the damping or use the GGN");
}

std::string EigenMetric::name() const {
  return "top-" + std::to_string(values_.size()) + " eigenpairs, (θ + λ)⁻¹";
}

void EigenMetric::project(const double* rows, index_t k, std::vector<double>& out) const {
  const index_t p = rank();
  out.resize(std::size_t(k * p));
  gemm<double>(Trans::No, Trans::Yes, k, p, size(), 1.0, rows, vectors_.data(), 0.0, out.data());
}

void EigenMetric::apply(const double* rows, index_t k, double* out) {
  const index_t p = rank();
  std::vector<double> c;
  project(rows, k, c);  // (k, p)
  for (index_t i = 0; i < k; ++i)
    for (index_t j = 0; j < p; ++j) c[i * p + j] /= values_[j] + damping_;
  gemm<double>(Trans::No, Trans::No, k, size(), p, 1.0, c.data(), vectors_.data(), 0.0, out);
}

void EigenMetric::quadratic(const double* rows, index_t k, double* out) {
  const index_t p = rank();
  std::vector<double> c;
  project(rows, k, c);
  for (index_t i = 0; i < k; ++i) {
    double s = 0;
    for (index_t j = 0; j < p; ++j) s += c[i * p + j] * c[i * p + j] / (values_[j] + damping_);
    out[i] = s;
  }
}

std::vector<double> inverse_products(LinearOperator& H, std::span<const double> B, index_t k,
                                     const InverseOptions& options, InverseReport* report) {
  CURV_CHECK(index_t(B.size()) == k * H.size(), "influence: expected ", k, " right-hand sides of ",
             H.size(), " entries, found ", B.size(), " entries");
  InverseMetric metric(H, options);
  std::vector<double> X(B.size());
  metric.apply(B.data(), k, X.data());
  if (report) *report = metric.report();
  return X;
}

}  // namespace curv::influence
