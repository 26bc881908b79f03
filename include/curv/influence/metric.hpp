// The inner product every influence estimator scores with (docs/methods/influence.md):
//
//   s(z, z') = ∇m(z')ᵀ M ∇ℓ(z)
//
// Estimators differ only in M:
//   exact, cg, lissa   (H + λI)⁻¹ of the Hessian or GGN, by a dense Cholesky factor, conjugate
//                      gradient or LiSSA (InverseMetric)
//   kfac, ekfac, diag  (K + λI)⁻¹ of a structured operator through its own inverse
//                      (OperatorInverseMetric): Kronecker eigenbases, a diagonal
//   arnoldi            Σᵢ uᵢuᵢᵀ/(θᵢ + λ), p Ritz pairs of H (EigenMetric, arnoldi.hpp)
//   grad-dot, tracin   the identity (IdentityMetric)
// A metric maps k gradient rows at once (queries, or a block of training examples for
// self-influence s(z, z)), so the scoring loop (influence/scores.hpp) is the same for all.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "curv/linalg/operator.hpp"

namespace curv::influence {

// How (H + λI)⁻¹ is applied by InverseMetric.
enum class Inverse {
  Exact,  // H formed densely from P products, once, and factored by Cholesky (small models)
  Cg,     // conjugate gradient per right-hand side, to a relative residual
  Lissa,  // Koh & Liang's truncated Neumann series per right-hand side
};
// "exact", "cg" or "lissa"; anything else is a one-line curv::Error naming them.
Inverse parse_inverse(const std::string& name);
const char* inverse_name(Inverse kind);

struct InverseOptions {
  Inverse kind = Inverse::Cg;
  double damping = 0;            // λ: the objective's weight decay plus the added damping
  double tolerance = 1e-8;       // cg: relative residual ‖b − (H + λI)x‖ / ‖b‖
  index_t max_iterations = 500;  // cg
  double lissa_scale = 0;        // lissa: s > λ_max(H + λI), required
  index_t lissa_depth = 1000;    // lissa: terms of the series
  index_t exact_limit = 6000;    // exact: the largest P formed densely (P² doubles)
};

// What a metric's inverse did, for the command's report.
struct InverseReport {
  index_t products = 0;       // H·v products in all
  double worst_residual = 0;  // largest ‖b − (H + λI)x‖ / ‖b‖ over the right-hand sides
};

class ScoreMetric {
 public:
  explicit ScoreMetric(index_t size) : size_(size) {}
  virtual ~ScoreMetric() = default;
  virtual std::string name() const = 0;
  index_t size() const { return size_; }
  // out = M rows for k rows of size() entries each (row-major (k, size)); out does not alias.
  virtual void apply(const double* rows, index_t k, double* out) = 0;
  // out[i] = rowᵢᵀ M rowᵢ: self-influence. The default applies M and takes the dot products.
  virtual void quadratic(const double* rows, index_t k, double* out);
  const InverseReport& report() const { return report_; }

 protected:
  InverseReport report_;

 private:
  index_t size_;
};

// (H + λI)⁻¹ by options.kind. Throws a one-line curv::Error for λ < 0, an exact inverse of more
// than exact_limit parameters or of an H + λI that is not positive definite, CG that does not
// reach its tolerance, or LiSSA without a scale. The exact factor is computed on first use and
// kept; every solution's residual is reported (CG's own true residual; the exact one against
// the dense H it was factored from; LiSSA's by one more product).
class InverseMetric : public ScoreMetric {
 public:
  InverseMetric(LinearOperator& H, const InverseOptions& options);
  std::string name() const override;
  void apply(const double* rows, index_t k, double* out) override;

 private:
  LinearOperator& H_;
  InverseOptions o_;
  std::vector<double> dense_, factor_;  // exact: H (symmetrized) and the Cholesky factor of H + λI
};

// (M + λI)⁻¹ through the operator's structured inverse (kfac, ekfac, diag, lowrank, blockdiag):
// no products, no iterations. Throws naming the operator if it has no inverse.
class OperatorInverseMetric : public ScoreMetric {
 public:
  OperatorInverseMetric(LinearOperator& M, double damping);
  std::string name() const override { return "(" + M_.name() + " + λI)⁻¹"; }
  void apply(const double* rows, index_t k, double* out) override;

 private:
  LinearOperator& M_;
  double damping_;
};

// The identity: Grad-Dot, and TracIn at each checkpoint.
class IdentityMetric : public ScoreMetric {
 public:
  explicit IdentityMetric(index_t size) : ScoreMetric(size) {}
  std::string name() const override { return "identity"; }
  void apply(const double* rows, index_t k, double* out) override;
  void quadratic(const double* rows, index_t k, double* out) override;
};

// Σᵢ uᵢuᵢᵀ / (θᵢ + λ) over p orthonormal vectors uᵢ with values θᵢ (θᵢ + λ > 0, checked): the
// inverse of H + λI restricted to the span of its top eigenvectors, zero on the rest. Rows are
// projected once, Uᵀ·row, and scored in p dimensions.
class EigenMetric : public ScoreMetric {
 public:
  // vectors: (p, size) row-major.
  EigenMetric(std::vector<double> values, std::vector<double> vectors, index_t size,
              double damping);
  std::string name() const override;
  void apply(const double* rows, index_t k, double* out) override;
  void quadratic(const double* rows, index_t k, double* out) override;
  index_t rank() const { return index_t(values_.size()); }
  const std::vector<double>& values() const { return values_; }

 private:
  void project(const double* rows, index_t k, std::vector<double>& out) const;  // (k, p)
  std::vector<double> values_, vectors_;
  double damping_;
};

// X = (H + λI)⁻¹ B for the k rows of B (row-major, each of H's size): InverseMetric once.
std::vector<double> inverse_products(LinearOperator& H, std::span<const double> B, index_t k,
                                     const InverseOptions& options,
                                     InverseReport* report = nullptr);

}  // namespace curv::influence
