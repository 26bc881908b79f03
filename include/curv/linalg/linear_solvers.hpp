// Solving (M + λI) x = b with a symmetric LinearOperator M from products alone: conjugate
// gradient (exact up to a tolerance, needs M + λI positive definite) and LiSSA (Agarwal, Bullins
// & Hazan 2017, as used for influence functions by Koh & Liang 2017: a truncated Neumann series
// that also works with a freshly sampled operator at each step).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "curv/linalg/operator.hpp"

namespace curv::linalg {

// z = P⁻¹ r for a symmetric positive definite preconditioner P ≈ M + λI (r and z of the
// operator's size; they do not alias).
using Preconditioner = std::function<void(const double* r, double* z)>;

// Jacobi: P = diag(M) + λI, e.g. from op.diagonal() or hutchinson_diagonal. Throws curv::Error
// if an entry of diag + λ is not positive.
Preconditioner jacobi_preconditioner(std::vector<double> diagonal, double damping = 0);
// P = A + λI for an operator with an exact inverse (K-FAC, a diagonal, low-rank plus identity),
// applied through A.inverse_mv. A must outlive the returned function.
Preconditioner inverse_preconditioner(LinearOperator& approximation, double damping);

struct CgOptions {
  double damping = 0;        // λ in (M + λI) x = b
  double tolerance = 1e-10;  // stop when ‖b − (M + λI)x‖ ≤ tolerance · ‖b‖
  index_t max_iterations = 1000;
  Preconditioner preconditioner{};      // empty: none
  std::vector<double> initial_guess{};  // empty: x₀ = 0 (warm starts save iterations)
};

struct CgResult {
  std::vector<double> x;
  index_t iterations = 0;        // products with M (excluding the final residual check)
  double relative_residual = 0;  // true ‖b − (M + λI)x‖ / ‖b‖ of the returned x
  bool converged = false;        // relative_residual ≤ tolerance
};

// (Preconditioned) conjugate gradient. Not converging within max_iterations is reported in the
// result, not thrown. A search direction p with pᵀ(M + λI)p ≤ 0 proves M + λI is not positive
// definite, where CG is undefined: that throws a curv::Error naming the operator and the damping
// that would at least be needed.
CgResult cg(LinearOperator& op, std::span<const double> b, const CgOptions& options = {});

struct LissaOptions {
  // s: must exceed the largest eigenvalue of M + λI (it makes I − (M + λI)/s a contraction).
  // Larger is safe but slows convergence in proportion. No default: it depends on the operator.
  double scale = 0;
  index_t depth = 100;  // J, terms of the Neumann series
  index_t repeats = 1;  // independent recursions averaged (only useful with sampled operators)
  double damping = 0;   // λ
  // Divergence test: while I − (M + λI)/s is a contraction, ‖h_j‖ ≤ (j+1)‖v‖; LiSSA stops with an
  // error once ‖h_j‖ exceeds divergence_factor·(j+1)·‖v‖ (the slack tolerates the transient growth
  // of sampled, noisy operators) or stops being finite.
  double divergence_factor = 10;
};

struct LissaResult {
  std::vector<double> x;  // ≈ (M + λI)⁻¹ v
  // ‖h_J − h_{J−1}‖ / ‖h_J‖ of the last step (largest over repeats): the size of the last series
  // term kept, a rough guide to the truncation error (which is about it divided by 1 − ratio).
  double relative_last_term = 0;
};

// The operator the recursion uses at (repeat, step): stochastic LiSSA draws a fresh mini-batch
// curvature here. Every operator returned must have v's size and stay valid until the next call.
using OperatorSampler = std::function<LinearOperator&(index_t repeat, index_t step)>;

// Estimates (M + λI)⁻¹ v by h_0 = v, h_j = v + (I − (M + λI)/s) h_{j−1}, result h_J / s, averaged
// over `repeats`. With one operator every repeat is identical (use repeats = 1).
LissaResult lissa(LinearOperator& op, std::span<const double> v, const LissaOptions& options);
LissaResult lissa(const OperatorSampler& sample, std::span<const double> v,
                  const LissaOptions& options);

}  // namespace curv::linalg
