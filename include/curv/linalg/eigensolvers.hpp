// Extremal eigenpairs of a symmetric LinearOperator from products alone: Lanczos with full
// re-orthogonalization, Arnoldi as used for influence functions (Schioppa et al. 2022), and
// power iteration with deflation. All work in float64 and never form the matrix.
//
// Cost: Lanczos and Arnoldi keep their whole Krylov basis (iterations × size doubles) because
// re-orthogonalizing against all of it is what keeps them free of spurious duplicate
// eigenvalues. Power iteration keeps only the pairs it has found.
//
// Breakdown (the start vector's Krylov space turned out to be invariant, e.g. an operator of
// low rank) is not an error: the solver stops early, every Ritz pair it has is then exact, and
// the result says so (breakdown = true, iterations actually run, a message). Eigenvalues whose
// eigenvectors are orthogonal to the start vector cannot be found from it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "curv/linalg/operator.hpp"

namespace curv::linalg {

// Which end of the spectrum a solver returns, best first.
enum class Which {
  largest_algebraic,   // most positive first
  largest_magnitude,   // largest |λ| first (the "top" of a Hessian, sign included in the value)
  smallest_algebraic,  // most negative first
};

// Approximate eigenpairs, best first in the order the solver was asked for (not ascending, unlike
// curv::Eigenpairs).
struct Eigensolution {
  std::vector<double> values;
  std::vector<std::vector<double>> vectors;  // unit vectors of the operator's size
  // ‖M v − θ v‖ for each pair: the Krylov estimate |β · last eigenvector component| for Lanczos
  // and Arnoldi (free, exact in exact arithmetic), the computed residual for power iteration.
  std::vector<double> residuals;
  index_t iterations = 0;  // operator products spent
  index_t converged = 0;   // how many of the returned pairs meet the solver's tolerance
  bool breakdown = false;  // the Krylov space became invariant before the iterations ran out
  std::string message;     // what happened, when it is worth telling (breakdown, fewer pairs)
};

struct KrylovOptions {
  index_t iterations = 100;  // Krylov dimension m (capped at the operator's size)
  index_t wanted = 10;       // pairs to return, k ≤ m
  Which which = Which::largest_magnitude;
  std::uint64_t seed = 0;       // for the Gaussian start vector
  std::vector<double> start{};  // optional start vector (not necessarily unit); overrides seed
  // A new Krylov direction shorter than this times the largest ‖M q‖ seen is taken as zero.
  double breakdown_tolerance = 1e-10;
  // A pair counts as converged when its residual is at most this times the largest |θ|.
  double tolerance = 1e-8;
  // Lanczos only: stop as soon as the `wanted` pairs meet `tolerance` (checked after every step
  // on the small tridiagonal, far cheaper than a product) instead of running every iteration.
  // A top eigenvalue typically converges in a third of the iterations a fixed budget allows.
  bool stop_when_converged = false;
};

// Lanczos with full re-orthogonalization (classical Gram–Schmidt twice against the whole basis
// after the three-term recurrence). The tridiagonal T = QᵀMQ is diagonalized with LAPACK dstev;
// Ritz vectors are Q·y and their residual estimates |β_m · y_m|.
Eigensolution lanczos(LinearOperator& op, const KrylovOptions& options = {});

// Arnoldi as in Schioppa et al. 2022 ("Scaling up influence functions"): each new vector is
// Gram–Schmidt orthogonalized against all previous ones (twice), building the (m+1)×m upper
// Hessenberg H. Its m×m part is symmetric in exact arithmetic for a symmetric operator; it is
// symmetrized, diagonalized with linalg::eigh, and the `wanted` pairs preferred by `which`
// (by magnitude in the paper, the default) are mapped back to vectors of the operator's size.
Eigensolution arnoldi(LinearOperator& op, const KrylovOptions& options = {});

struct PowerIterationOptions {
  index_t wanted = 1;             // eigenpairs, found one after another
  index_t max_iterations = 1000;  // per eigenpair
  // Stop a pair when the Rayleigh quotient changes by at most tolerance × |quotient| in one step.
  // The quotient converges like the square of the eigenvector's error, so 1e-12 here means
  // eigenvectors accurate to about 1e-6.
  double tolerance = 1e-12;
  std::uint64_t seed = 0;
};

struct PowerIterationResult : Eigensolution {
  std::vector<index_t> iterations_per_pair;
  std::vector<bool> converged_per_pair;
};

// Power iteration for the `wanted` largest-magnitude eigenpairs: each pair is iterated on the
// operator with the previously found eigenvectors projected out, (I − UUᵀ) M (I − UUᵀ), so the
// next one down becomes dominant. Convergence is geometric in |λ_{i+1}/λ_i|: slow when
// neighbouring magnitudes are close, and a ±λ pair never settles (use Lanczos then). Not
// converging within max_iterations is reported, not thrown.
PowerIterationResult power_iteration(LinearOperator& op, const PowerIterationOptions& options = {});

}  // namespace curv::linalg
