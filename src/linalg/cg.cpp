// Preconditioned conjugate gradient on (M + λI) x = b.
#include <cmath>

#include "curv/core/error.hpp"
#include "curv/linalg/linear_solvers.hpp"
#include "krylov.hpp"

namespace curv::linalg {

using detail::axpy;
using detail::dot;
using detail::norm;
using detail::sz;
using detail::Vector;

Preconditioner jacobi_preconditioner(std::vector<double> diagonal, double damping) {
  for (std::size_t i = 0; i < diagonal.size(); ++i) {
    diagonal[i] += damping;
    CURV_CHECK(diagonal[i] > 0, "jacobi preconditioner: expected diag(M) + damping > 0, found ",
               diagonal[i], " at entry ", i, " (damping ", damping, "); raise the damping");
  }
  // Store the reciprocal once: applying it is then a product per entry.
  for (double& d : diagonal) d = 1 / d;
  return [inverse = std::move(diagonal)](const double* r, double* z) {
    for (std::size_t i = 0; i < inverse.size(); ++i) z[i] = inverse[i] * r[i];
  };
}

Preconditioner inverse_preconditioner(LinearOperator& approximation, double damping) {
  CURV_CHECK(approximation.has_inverse(), "inverse preconditioner: operator '",
             approximation.name(),
             "' has no exact inverse_mv; use a Jacobi preconditioner or none");
  LinearOperator* a = &approximation;
  return [a, damping](const double* r, double* z) { a->inverse_mv(r, damping, z); };
}

namespace {

// out = (M + λI) v
void damped_mv(LinearOperator& op, double damping, const double* v, double* out) {
  op.mv(v, out);
  if (damping != 0) axpy(damping, v, out, op.size());
}

// r = b − (M + λI) x, returning ‖r‖.
double true_residual(LinearOperator& op, double damping, const Vector& b, const Vector& x,
                     Vector& r) {
  damped_mv(op, damping, x.data(), r.data());
  for (std::size_t i = 0; i < r.size(); ++i) r[i] = b[i] - r[i];
  return norm(r.data(), static_cast<index_t>(r.size()));
}

}  // namespace

CgResult cg(LinearOperator& op, std::span<const double> b_in, const CgOptions& options) {
  const index_t n = op.size();
  const double damping = options.damping;
  CURV_CHECK(static_cast<index_t>(b_in.size()) == n, "cg: expected a right-hand side of length ", n,
             " (operator '", op.name(), "'), found ", b_in.size());
  CURV_CHECK(options.tolerance > 0, "cg: expected a positive tolerance, found ", options.tolerance);
  CURV_CHECK(options.max_iterations >= 0, "cg: expected max_iterations ≥ 0, found ",
             options.max_iterations);
  const Vector b(b_in.begin(), b_in.end());
  const double b_norm = norm(b.data(), n);
  CURV_CHECK(std::isfinite(b_norm), "cg: the right-hand side is not finite");

  CgResult result;
  result.x.assign(sz(n), 0.0);
  if (b_norm == 0) {  // x = 0 is exact; also avoids dividing by ‖b‖
    result.converged = true;
    return result;
  }
  Vector& x = result.x;
  Vector r = b;
  double r_norm = b_norm;
  if (!options.initial_guess.empty()) {
    CURV_CHECK(static_cast<index_t>(options.initial_guess.size()) == n,
               "cg: expected an initial guess of length ", n, ", found ",
               options.initial_guess.size());
    x = options.initial_guess;
    r_norm = true_residual(op, damping, b, x, r);
  }

  Vector z(sz(n)), p(sz(n)), Ap(sz(n));
  const auto precondition = [&](const Vector& from, Vector& to) {
    if (options.preconditioner)
      options.preconditioner(from.data(), to.data());
    else
      to = from;
  };
  // (Re)starts the search from the current residual: p = P⁻¹ r. Returns rᵀP⁻¹r.
  const auto restart = [&]() {
    precondition(r, z);
    p = z;
    const double rz = dot(r.data(), z.data(), n);
    CURV_CHECK(rz > 0 || r_norm == 0,
               "cg: the preconditioner is not positive definite (rᵀP⁻¹r = ", rz,
               "); CG needs a symmetric positive definite preconditioner");
    return rz;
  };
  double rz = restart();

  const double target = options.tolerance * b_norm;
  while (true) {
    if (r_norm <= target) {
      // The updated residual drifts from the true one by rounding; confirm before stopping and,
      // if they disagree, continue from the true residual (residual replacement).
      r_norm = true_residual(op, damping, b, x, r);
      if (r_norm <= target || result.iterations >= options.max_iterations) break;
      rz = restart();
    }
    if (result.iterations >= options.max_iterations) {
      r_norm = true_residual(op, damping, b, x, r);
      break;
    }
    damped_mv(op, damping, p.data(), Ap.data());
    ++result.iterations;
    const double curvature = dot(p.data(), Ap.data(), n);
    CURV_CHECK(std::isfinite(curvature), "cg: operator '", op.name(),
               "' returned a non-finite product at iteration ", result.iterations);
    if (curvature <= 0) {
      const double p_squared = dot(p.data(), p.data(), n);
      fail("cg: non-positive curvature pᵀ(M + λI)p = ", curvature, " along search direction ",
           result.iterations, " of operator '", op.name(), "' with damping λ = ", damping,
           ": M + λI is not positive definite; raise the damping (to more than ",
           damping - curvature / p_squared,
           " at the very least) or use a solver for indefinite systems");
    }
    const double step = rz / curvature;
    axpy(step, p.data(), x.data(), n);
    axpy(-step, Ap.data(), r.data(), n);
    r_norm = norm(r.data(), n);
    precondition(r, z);
    const double rz_next = dot(r.data(), z.data(), n);
    CURV_CHECK(rz_next > 0 || r_norm == 0,
               "cg: the preconditioner is not positive definite (rᵀP⁻¹r = ", rz_next, ")");
    // p = z + (rz_next / rz) p: the new direction is M-conjugate to all previous ones.
    const double ratio = rz_next / rz;
    for (index_t i = 0; i < n; ++i) p[sz(i)] = z[sz(i)] + ratio * p[sz(i)];
    rz = rz_next;
  }
  result.relative_residual = r_norm / b_norm;
  result.converged = r_norm <= target;
  return result;
}

}  // namespace curv::linalg
