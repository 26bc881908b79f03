// LinearOperator: every curvature matrix in curv (Hessian, Gauss-Newton, Fisher, K-FAC, EK-FAC,
// diagonal, low-rank) is a symmetric linear map on flat parameter vectors, applied without being
// formed. Solvers (linalg/) and every method built on curvature (optimizers, pruning, Laplace,
// influence) see only this interface, in float64 whatever the model's dtype.
//
// mv is the one required product. The others exist where an operator's structure makes them
// exact and cheap (K-FAC's Kronecker factors, a diagonal, a low-rank-plus-identity matrix);
// asking an operator for one it lacks throws a curv::Error naming the operator and the
// capability, and saying which solver computes it instead (CG for inverses, Lanczos for spectra,
// Hutchinson for traces).
//
// Damping, one contract for every operator: inverse_mv(v, λ) is (M + λI)⁻¹ v and logdet(λ) is
// log det(M + λI). A structured damping that is not +λI (K-FAC's factored Tikhonov, M-FAC's
// built-in λ) is part of an operator's own matrix and name, never a reading of λ.
#pragma once

#include <string>
#include <vector>

#include "curv/core/shape.hpp"

namespace curv {

// Eigenpairs of a symmetric matrix: values ascending, vectors[i] the unit eigenvector of
// values[i] (each of length size()).
struct Eigenpairs {
  std::vector<double> values;
  std::vector<std::vector<double>> vectors;
};

class LinearOperator {
 public:
  explicit LinearOperator(index_t size) : size_(size) {}
  virtual ~LinearOperator() = default;
  virtual std::string name() const = 0;
  index_t size() const { return size_; }

  // out = M v, assigned. v and out do not alias.
  virtual void mv(const double* v, double* out) = 0;
  // out[j] = M V[j] for k vectors stored one after another (V:(k, size)). The default applies
  // mv k times; operators with a cheaper batched product override it.
  virtual void mm(const double* V, index_t k, double* out);

  // out = (M + λI)⁻¹ v, assigned.
  virtual void inverse_mv(const double* v, double damping, double* out);
  // out[j] = (M + λI)⁻¹ V[j] for k right-hand sides (V:(k, size)); the default applies
  // inverse_mv k times, structured operators batch the work into matrix products.
  virtual void inverse_mm(const double* V, index_t k, double damping, double* out);
  virtual std::vector<double> diagonal();
  virtual double trace();  // default: sum of diagonal()
  // log det(M + λI).
  virtual double logdet(double damping);
  // The diagonal of (M + λI)⁻¹: Laplace posterior variances, OBS's [F⁻¹]_qq. Operators whose
  // structured inverse gives it exactly (dense, diagonal, Kronecker, low-rank, their scales and
  // folded sums).
  virtual std::vector<double> inverse_diagonal(double damping);
  // out = R v for one fixed matrix R with R Rᵀ = (M + λI)⁻¹, so R ε ~ N(0, (M + λI)⁻¹) for
  // ε ~ N(0, I): how a Laplace posterior draws weights. Exact where the inverse is structured:
  // dense (R = L⁻ᵀ for the Cholesky factor L Lᵀ = M + λI, kept for the last λ), diagonal and
  // Kronecker (the symmetric root), and their scales.
  virtual void inverse_root_mv(const double* v, double damping, double* out);
  // Every eigenpair; only operators with a structured eigendecomposition provide one.
  virtual Eigenpairs eigendecomposition();

  // Whether the optional capabilities above are provided (so callers can choose a solver).
  virtual bool has_inverse() const { return false; }
  virtual bool has_diagonal() const { return false; }

 protected:
  [[noreturn]] void lacks(const char* capability, const char* instead) const;

 private:
  index_t size_;
};

// The operator as a dense row-major (n, n) matrix, built column by column with mm. Meant for
// small operators: tests against dense definitions and LAPACK on a few thousand parameters.
std::vector<double> materialize(LinearOperator& op);

// A dense symmetric matrix as an operator (tests, small problems, the reference every solver is
// checked against). inverse_mv, logdet and eigendecomposition go through LAPACK.
class DenseOperator : public LinearOperator {
 public:
  DenseOperator(std::vector<double> matrix, index_t n, std::string name = "dense");
  std::string name() const override { return name_; }
  void mv(const double* v, double* out) override;
  void mm(const double* V, index_t k, double* out) override;
  void inverse_mv(const double* v, double damping, double* out) override;
  std::vector<double> diagonal() override;
  double logdet(double damping) override;
  std::vector<double> inverse_diagonal(double damping) override;
  void inverse_root_mv(const double* v, double damping, double* out) override;
  Eigenpairs eigendecomposition() override;
  bool has_inverse() const override { return true; }
  bool has_diagonal() const override { return true; }
  const std::vector<double>& matrix() const { return a_; }

 private:
  std::vector<double> a_;
  std::vector<double> root_factor_;  // inverse_root_mv's Cholesky factor, for root_damping_
  double root_damping_ = -1;
  std::string name_;
};

}  // namespace curv
