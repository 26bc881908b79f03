// Pieces shared by the iterative solvers (internal to the library): BLAS-backed vector
// arithmetic, random probes, Gram–Schmidt against a stored basis, the Lanczos recurrence
// (used by both `lanczos` and stochastic Lanczos quadrature) and the small dense eigenproblems
// every Krylov method ends with.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "curv/core/rng.hpp"
#include "curv/linalg/eigensolvers.hpp"
#include "curv/linalg/estimators.hpp"
#include "curv/linalg/operator.hpp"

namespace curv::linalg::detail {

using Vector = std::vector<double>;

inline std::size_t sz(index_t n) { return static_cast<std::size_t>(n); }

double dot(const double* a, const double* b, index_t n);
double norm(const double* a, index_t n);
void axpy(double alpha, const double* x, double* y, index_t n);  // y += alpha x
void scale(double alpha, double* x, index_t n);                  // x *= alpha

// Random probe vectors. Rademacher entries are ±1 (so zᵀz = n exactly, which keeps
// Hutchinson's variance at its minimum among i.i.d. probes); Gaussian entries are N(0, 1).
void fill_rademacher(Rng& rng, double* v, index_t n);
void fill_gaussian(Rng& rng, double* v, index_t n);
void fill_probe(Probe kind, Rng& rng, double* v, index_t n);

// The unit start vector of a Krylov method: `given` normalized if the caller supplied one,
// otherwise a Gaussian vector from `seed` (rotation invariant, so no eigendirection is
// favoured). `solver` names the caller in error messages.
Vector unit_start_vector(const std::vector<double>& given, std::uint64_t seed, index_t n,
                         const char* solver);

// Removes from w its components along the `count` orthonormal rows of `basis` (row-major
// (count, n)). Classical Gram–Schmidt applied twice: one pass leaves a loss of orthogonality
// proportional to how much of w the basis cancelled, and a second pass brings it back to
// rounding level ("twice is enough"). Both passes are matrix–vector products (BLAS 2), unlike
// modified Gram–Schmidt. If `coefficients` is not null it receives the total removed component
// along each row (count entries).
void orthogonalize(const double* basis, index_t count, index_t n, double* w,
                   double* coefficients = nullptr);

// out = Σ_j coefficients[j] · basis row j (count rows of length n): a Ritz vector from the
// eigenvector of a projected matrix.
void combine_rows(const double* basis, index_t count, index_t n, const double* coefficients,
                  double* out);

// The Lanczos recurrence with full re-orthogonalization, run for up to max_steps steps from
// a unit start vector. T = tridiag(beta[0..steps-2], alpha, beta[0..steps-2]) is the
// projection QᵀMQ onto the basis; beta[steps-1] couples the basis to the next (unbuilt)
// vector and is the factor in the Ritz residuals. Stops early (breakdown) when the new
// direction vanishes relative to the operator's scale: the Krylov space is then invariant and
// every Ritz pair is exact. `stop`, if given, is asked after every step whether the basis built
// so far suffices (a converged Ritz pair): the remaining products are then not spent.
struct LanczosRecurrence {
  Vector alpha;
  Vector beta;
  Vector basis;  // (steps, n) row-major, orthonormal rows
  index_t steps = 0;
  bool breakdown = false;
};
LanczosRecurrence lanczos_recurrence(
    LinearOperator& op, const double* unit_start, index_t max_steps, double breakdown_tolerance,
    const std::function<bool(const LanczosRecurrence&)>& stop = {});

// Eigenpairs of the symmetric tridiagonal matrix with the given diagonal (m) and off-diagonal
// (first m-1 entries of `off` are used), through LAPACK dstev: values ascending, vectors (m, m)
// row-major with column j the unit eigenvector of values[j].
void tridiagonal_eigen(const Vector& diagonal, const Vector& off, Vector& values, Vector& vectors);

// Indices of the `count` values that `which` prefers, best first.
std::vector<index_t> select_indices(const Vector& values, Which which, index_t count);

// Mean and standard error (sample standard deviation with Bessel's correction, over √count)
// of per-probe samples.
Estimate mean_and_standard_error(const Vector& samples);

}  // namespace curv::linalg::detail
