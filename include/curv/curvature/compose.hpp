// Operators built from others, for curvature models such as a Laplace posterior's precision
// N·G + P₀ (a scaled Gauss-Newton plus a per-parameter prior):
//   DiagonalOperator   diag(d): per-parameter precisions, an exact diagonal, a Jacobi model
//   ScaledOperator     c·M, c > 0
//   SumOperator        A + B
// Every one keeps the damping contract of linalg/operator.hpp: inverse_mv(v, λ) is
// (M + λI)⁻¹ v and logdet(λ) is log det(M + λI).
//
// A sum has an exact inverse and log-determinant where the parts' structure gives one, and is
// then folded into that structure when it is built (scales pushed inside):
//   Kronecker (kfac, ekfac) + a diagonal constant within each layer's block: the block's
//                                   eigenbasis is kept and the constant added to its scaling
//   diagonal + diagonal:            a diagonal
//   low-rank + diagonal:            Woodbury (curvature/lowrank.hpp, LowRankOperator)
//   dense + diagonal:               dense
// Any other sum has mv and diagonal (when both parts do) only; asking it for an inverse throws
// naming CG as the route, for a log-determinant naming SLQ.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "curv/linalg/operator.hpp"

namespace curv {

// mv is d ⊙ v, inverse_mv (d + λ)⁻¹ ⊙ v.
class DiagonalOperator : public LinearOperator {
 public:
  DiagonalOperator(std::vector<double> d, std::string name = "diag");
  std::string name() const override { return name_; }
  void mv(const double* v, double* out) override;
  void inverse_mv(const double* v, double damping, double* out) override;
  std::vector<double> diagonal() override { return d_; }
  double logdet(double damping) override;
  std::vector<double> inverse_diagonal(double damping) override;
  void inverse_root_mv(const double* v, double damping, double* out) override;
  Eigenpairs eigendecomposition() override;
  bool has_inverse() const override { return true; }
  bool has_diagonal() const override { return true; }
  const std::vector<double>& values() const { return d_; }

 private:
  std::vector<double> d_;
  std::string name_;
};

// c·M: (cM + λI)⁻¹ = (1/c)(M + (λ/c)I)⁻¹ and log det(cM + λI) = n log c + log det(M + (λ/c)I),
// so the scaled operator has whatever capabilities M has.
class ScaledOperator : public LinearOperator {
 public:
  ScaledOperator(double scale, std::unique_ptr<LinearOperator> inner);
  std::string name() const override;
  void mv(const double* v, double* out) override;
  void mm(const double* V, index_t k, double* out) override;
  void inverse_mv(const double* v, double damping, double* out) override;
  std::vector<double> diagonal() override;
  double trace() override;
  double logdet(double damping) override;
  std::vector<double> inverse_diagonal(double damping) override;
  void inverse_root_mv(const double* v, double damping, double* out) override;
  Eigenpairs eigendecomposition() override;
  bool has_inverse() const override { return inner_->has_inverse(); }
  bool has_diagonal() const override { return inner_->has_diagonal(); }
  double scale() const { return scale_; }
  LinearOperator& inner() { return *inner_; }

 private:
  double scale_;
  std::unique_ptr<LinearOperator> inner_;
};

class SumOperator : public LinearOperator {
 public:
  SumOperator(std::unique_ptr<LinearOperator> a, std::unique_ptr<LinearOperator> b);
  std::string name() const override;
  void mv(const double* v, double* out) override;
  void inverse_mv(const double* v, double damping, double* out) override;
  std::vector<double> diagonal() override;
  double trace() override;
  double logdet(double damping) override;
  std::vector<double> inverse_diagonal(double damping) override;
  Eigenpairs eigendecomposition() override;
  bool has_inverse() const override { return exact_ != nullptr; }
  bool has_diagonal() const override { return a_->has_diagonal() && b_->has_diagonal(); }
  // The structured operator the sum equals, or null; why_not says why there is none.
  LinearOperator* exact() { return exact_.get(); }
  const std::string& why_not() const { return why_not_; }

 private:
  std::unique_ptr<LinearOperator> a_, b_, exact_;
  std::string why_not_;
  std::vector<double> work_;
};

// scale·M + diag(d) as a new operator with the exact structure above (M itself is left as it
// is, so a Laplace posterior can be rebuilt for every prior), or null with the reason in `why`.
std::unique_ptr<LinearOperator> plus_diagonal(LinearOperator& m, double scale,
                                              const std::vector<double>& d,
                                              std::string* why = nullptr);

}  // namespace curv
