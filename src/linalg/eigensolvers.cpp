// Lanczos, Arnoldi and power iteration with deflation.
#include "curv/linalg/eigensolvers.hpp"

#include <algorithm>
#include <cmath>

#include "curv/core/error.hpp"
#include "curv/linalg/dense.hpp"
#include "krylov.hpp"

namespace curv::linalg {

using detail::sz;
using detail::Vector;

namespace {

void check_krylov_options(LinearOperator& op, const KrylovOptions& o, const char* solver) {
  CURV_CHECK(op.size() >= 1, solver, ": operator '", op.name(), "' is empty");
  CURV_CHECK(o.iterations >= 1, solver, ": expected iterations ≥ 1, found ", o.iterations);
  CURV_CHECK(o.wanted >= 1, solver, ": expected wanted ≥ 1 eigenpairs, found ", o.wanted);
  CURV_CHECK(
      o.wanted <= std::min(o.iterations, op.size()), solver, ": asked for ", o.wanted,
      " eigenpairs from ", std::min(o.iterations, op.size()),
      " iterations; a Krylov space of dimension m holds at most m Ritz pairs (raise iterations)");
  CURV_CHECK(o.breakdown_tolerance >= 0, solver, ": expected breakdown_tolerance ≥ 0, found ",
             o.breakdown_tolerance);
}

// The pairs `which` prefers from a projected eigenproblem of dimension `steps`: eigenvalues
// `values` with eigenvector j in column j of the row-major (steps, steps) `small_vectors`.
// residual_factor is the norm of the coupling to the next Krylov vector: a Ritz pair's residual
// is |residual_factor · last component of its small eigenvector|.
Eigensolution ritz_pairs(const Vector& basis, index_t steps, index_t n, const Vector& values,
                         const Vector& small_vectors, double residual_factor,
                         const KrylovOptions& o) {
  Eigensolution s;
  s.iterations = steps;
  Vector y(sz(steps));
  double largest = 0;
  for (double v : values) largest = std::max(largest, std::abs(v));
  for (index_t idx : detail::select_indices(values, o.which, o.wanted)) {
    for (index_t j = 0; j < steps; ++j) y[sz(j)] = small_vectors[sz(j * steps + idx)];
    std::vector<double> x(sz(n));
    detail::combine_rows(basis.data(), steps, n, y.data(), x.data());
    s.values.push_back(values[sz(idx)]);
    s.vectors.push_back(std::move(x));
    s.residuals.push_back(std::abs(residual_factor * y[sz(steps - 1)]));
    if (s.residuals.back() <= o.tolerance * largest) ++s.converged;
  }
  return s;
}

void describe_breakdown(Eigensolution& s, const char* solver, index_t asked_iterations, index_t n,
                        const KrylovOptions& o) {
  s.breakdown = true;
  if (s.iterations == n)  // the Krylov space is the whole space: nothing can be missing
    s.message = cat(solver, " ran ", n,
                    " iterations, the operator's full dimension: every Ritz pair is exact");
  else
    s.message = cat(solver, " breakdown after ", s.iterations, " of ", asked_iterations,
                    " iterations: the start vector lies in an invariant subspace of dimension ",
                    s.iterations,
                    ", so its Ritz pairs are exact eigenpairs; eigenvalues whose eigenvectors are "
                    "orthogonal to it "
                    "are not found");
  if (static_cast<index_t>(s.values.size()) < o.wanted)
    s.message += cat(" (returned ", s.values.size(), " of the ", o.wanted, " pairs asked for)");
}

}  // namespace

Eigensolution lanczos(LinearOperator& op, const KrylovOptions& o) {
  check_krylov_options(op, o, "lanczos");
  const index_t n = op.size(), m = std::min(o.iterations, n);
  const Vector start = detail::unit_start_vector(o.start, o.seed, n, "lanczos");
  // The wanted pairs' residual estimates |β_j · last component| against tolerance × max |θ|,
  // exactly as ritz_pairs counts them converged.
  auto converged = [&](const detail::LanczosRecurrence& r) {
    if (r.steps < o.wanted) return false;
    Vector values, small;
    detail::tridiagonal_eigen(r.alpha, r.beta, values, small);
    double largest = 0;
    for (double v : values) largest = std::max(largest, std::abs(v));
    for (index_t idx : detail::select_indices(values, o.which, o.wanted))
      if (std::abs(r.beta.back() * small[sz((r.steps - 1) * r.steps + idx)]) >
          o.tolerance * largest)
        return false;
    return true;
  };
  const detail::LanczosRecurrence rec = detail::lanczos_recurrence(
      op, start.data(), m, o.breakdown_tolerance,
      o.stop_when_converged ? std::function<bool(const detail::LanczosRecurrence&)>(converged)
                            : nullptr);
  Vector values, small_vectors;
  detail::tridiagonal_eigen(rec.alpha, rec.beta, values, small_vectors);
  Eigensolution s =
      ritz_pairs(rec.basis, rec.steps, n, values, small_vectors, rec.beta[sz(rec.steps - 1)], o);
  if (rec.breakdown) describe_breakdown(s, "Lanczos", m, n, o);
  return s;
}

Eigensolution arnoldi(LinearOperator& op, const KrylovOptions& o) {
  check_krylov_options(op, o, "arnoldi");
  const index_t n = op.size(), m = std::min(o.iterations, n);
  Vector basis(sz(m * n));
  const Vector start = detail::unit_start_vector(o.start, o.seed, n, "arnoldi");
  std::copy(start.begin(), start.end(), basis.begin());
  // H is the (m+1)×m upper Hessenberg matrix with M Q_m = Q_{m+1} H; stored row-major.
  Vector H(sz((m + 1) * m), 0.0), w(sz(n)), coefficients(sz(m));
  double operator_scale = 0;
  index_t steps = 0;
  bool breakdown = false;
  for (index_t j = 0; j < m; ++j) {
    op.mv(basis.data() + j * n, w.data());
    operator_scale = std::max(operator_scale, detail::norm(w.data(), n));
    CURV_CHECK(std::isfinite(operator_scale), "arnoldi: operator '", op.name(),
               "' returned a non-finite product at step ", j + 1);
    detail::orthogonalize(basis.data(), j + 1, n, w.data(), coefficients.data());
    for (index_t i = 0; i <= j; ++i) H[sz(i * m + j)] = coefficients[sz(i)];
    const double h_next = detail::norm(w.data(), n);
    H[sz((j + 1) * m + j)] = h_next;
    steps = j + 1;
    if (h_next <= o.breakdown_tolerance * operator_scale) {
      breakdown = true;
      break;
    }
    if (j + 1 < m) {
      double* next = basis.data() + (j + 1) * n;
      for (index_t i = 0; i < n; ++i) next[i] = w[sz(i)] / h_next;
    }
  }
  basis.resize(sz(steps * n));
  // The square part QᵀMQ is symmetric up to rounding for a symmetric operator; symmetrizing it
  // makes its eigenvalues real and its eigenvectors orthogonal.
  Vector square(sz(steps * steps));
  for (index_t i = 0; i < steps; ++i)
    for (index_t j = 0; j < steps; ++j)
      square[sz(i * steps + j)] = 0.5 * (H[sz(i * m + j)] + H[sz(j * m + i)]);
  Vector values(sz(steps)), small_vectors(sz(steps * steps));
  linalg::eigh(square.data(), steps, values.data(), small_vectors.data());
  Eigensolution s =
      ritz_pairs(basis, steps, n, values, small_vectors, H[sz(steps * m + steps - 1)], o);
  if (breakdown) describe_breakdown(s, "Arnoldi", m, n, o);
  return s;
}

PowerIterationResult power_iteration(LinearOperator& op, const PowerIterationOptions& o) {
  const index_t n = op.size();
  CURV_CHECK(n >= 1, "power iteration: operator '", op.name(), "' is empty");
  CURV_CHECK(o.wanted >= 1 && o.wanted <= n, "power iteration: expected 1 ≤ wanted ≤ ", n,
             ", found ", o.wanted);
  CURV_CHECK(o.max_iterations >= 1, "power iteration: expected max_iterations ≥ 1, found ",
             o.max_iterations);
  CURV_CHECK(o.tolerance >= 0, "power iteration: expected tolerance ≥ 0, found ", o.tolerance);
  PowerIterationResult result;
  Vector found(sz(o.wanted * n));  // rows: the eigenvectors found so far, projected out
  Vector v(sz(n)), Mv(sz(n)), next(sz(n));
  Rng rng(o.seed);
  for (index_t pair = 0; pair < o.wanted; ++pair) {
    // A Gaussian start has a non-zero component along the wanted eigenvector with probability 1.
    detail::fill_gaussian(rng, v.data(), n);
    detail::orthogonalize(found.data(), pair, n, v.data());
    detail::scale(1 / detail::norm(v.data(), n), v.data(), n);
    double quotient = 0, previous = 0;
    bool converged = false;
    index_t it = 0;
    while (true) {
      op.mv(v.data(), Mv.data());
      ++it;
      // v ⟂ found, so vᵀMv is also the Rayleigh quotient of the deflated operator.
      quotient = detail::dot(v.data(), Mv.data(), n);
      CURV_CHECK(std::isfinite(quotient), "power iteration: operator '", op.name(),
                 "' returned a non-finite product");
      if (it > 1 && std::abs(quotient - previous) <= o.tolerance * std::abs(quotient)) {
        converged = true;
        break;
      }
      if (it >= o.max_iterations) break;
      previous = quotient;
      next = Mv;
      detail::orthogonalize(found.data(), pair, n, next.data());
      const double length = detail::norm(next.data(), n);
      if (length == 0) {  // v is in the deflated operator's null space: eigenvalue 0, exactly
        converged = true;
        break;
      }
      for (index_t i = 0; i < n; ++i) v[sz(i)] = next[sz(i)] / length;
    }
    // Every exit leaves Mv the product of the final v, so this is the true residual ‖Mv − θv‖.
    detail::axpy(-quotient, v.data(), Mv.data(), n);
    result.values.push_back(quotient);
    result.vectors.push_back(v);
    result.residuals.push_back(detail::norm(Mv.data(), n));
    result.iterations_per_pair.push_back(it);
    result.converged_per_pair.push_back(converged);
    result.iterations += it;
    result.converged += converged ? 1 : 0;
    std::copy(v.begin(), v.end(), found.begin() + pair * n);
  }
  if (result.converged < o.wanted)
    result.message =
        cat("power iteration: ", o.wanted - result.converged, " of ", o.wanted,
            " eigenpairs did not converge within ", o.max_iterations,
            " iterations (close or opposite eigenvalue magnitudes converge slowly; use lanczos)");
  return result;
}

}  // namespace curv::linalg
