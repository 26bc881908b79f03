// LowRankOperator: M = c·UᵀU + diag(d) with U:(m, n), m ≪ n — e.g. the empirical Fisher of m
// per-example gradients, (1/m) Σ gᵢgᵢᵀ (U = G, c = 1/m, d = 0), or that plus a prior precision.
// Nothing n×n is formed: with D = d + λ (every entry > 0),
//     (M + λI)⁻¹ = D⁻¹ − D⁻¹Uᵀ K⁻¹ U D⁻¹,        K = I/c + U D⁻¹ Uᵀ   (m × m, Woodbury)
//     log det(M + λI) = Σ log Dᵢ + m log c + log det K              (matrix determinant lemma)
// K's Cholesky factor is kept for the last λ (solvers call with one λ many times).
// Unlike M-FAC's operators (curvature/lowrank.hpp), no damping is built in: λ is the caller's.
#pragma once

#include <string>
#include <vector>

#include "curv/linalg/operator.hpp"

namespace curv {

class LowRankOperator : public LinearOperator {
 public:
  // U row-major (m, n); d empty (zeros) or of length n, every entry ≥ 0; c > 0.
  LowRankOperator(std::vector<double> U, index_t m, index_t n, double c, std::vector<double> d = {},
                  std::string name = "lowrank");
  std::string name() const override { return name_; }
  void mv(const double* v, double* out) override;  // O(m n)
  // Needs every dᵢ + λ > 0 (λ > 0 when d = 0). O(m n) after an O(m² n) factorization per λ.
  void inverse_mv(const double* v, double damping, double* out) override;
  std::vector<double> diagonal() override;
  double trace() override;
  double logdet(double damping) override;
  // D⁻¹ᵢ − D⁻²ᵢ ‖L⁻¹uᵢ‖² with uᵢ column i of U and LLᵀ = K: O(m² n).
  std::vector<double> inverse_diagonal(double damping) override;
  bool has_inverse() const override { return true; }
  bool has_diagonal() const override { return true; }

  // scale·M + diag(extra): the same U with c and d rescaled and extra added.
  LowRankOperator plus(double scale, const std::vector<double>& extra) const;
  index_t rank() const { return m_; }
  const std::vector<double>& factor() const { return U_; }  // U, (m, n)
  double scale() const { return c_; }
  const std::vector<double>& shift() const { return d_; }  // d

 private:
  void factorize(double damping);
  std::vector<double> U_;
  index_t m_;
  double c_;
  std::vector<double> d_;
  std::string name_;
  double factored_for_ = -1;  // the λ whose K is factored in L_
  std::vector<double> L_, Dinv_, t_;
  double logdet_K_ = 0;
};

}  // namespace curv
