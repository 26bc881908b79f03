// Randomized estimates of spectral quantities of a symmetric LinearOperator from products alone:
// traces (Hutchinson, Hutch++), the diagonal (Hutchinson), and the whole spectral density,
// moments and tr f(M) by stochastic Lanczos quadrature (SLQ). Every estimate is seeded, so the
// same seed gives the same number, and reports a standard error computed from its own probes.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "curv/linalg/operator.hpp"

namespace curv::linalg {

// A Monte Carlo estimate: the mean over independent samples and its standard error (the sample
// standard deviation over √samples; infinite with a single sample).
struct Estimate {
  double value = 0;
  double standard_error = 0;
  index_t samples = 0;
};

// Random probe vectors: Rademacher (±1 entries) has the smallest variance for traces; Gaussian
// makes the probe's direction uniform on the sphere.
enum class Probe { rademacher, gaussian };

// ---- Traces and diagonals -------------------------------------------------------------------

// Hutchinson: tr M ≈ mean of zᵀMz over `probes` Rademacher vectors z (probes ≥ 2). The standard
// error is estimated from the probes; its true value is √(2 Σ_{i≠j} M_ij² / probes).
Estimate hutchinson_trace(LinearOperator& op, index_t probes, std::uint64_t seed = 0);

// Hutch++ (Meyer, Musco, Musco & Woodruff 2021) with a budget of `matvecs` products (≥ 6): a
// third sketches the top of the spectrum (Q = orth(M S), S Rademacher), a third computes
// tr(QᵀMQ) exactly, the rest run Hutchinson on the deflated (I − QQᵀ)M(I − QQᵀ). The standard
// error is that of the Hutchinson part, which is the only random part given Q. On spectra dominated
// by a few large eigenvalues (Hessians) it is far smaller than plain Hutchinson's.
Estimate hutchpp_trace(LinearOperator& op, index_t matvecs, std::uint64_t seed = 0);

// Hutchinson's diagonal estimator: diag M ≈ mean of z ⊙ Mz over Rademacher probes (exact in
// expectation; entry i has variance Σ_{j≠i} M_ij² / probes).
std::vector<double> hutchinson_diagonal(LinearOperator& op, index_t probes, std::uint64_t seed = 0);

// ---- Stochastic Lanczos quadrature ------------------------------------------------------------

// For each probe v (unit vector), m Lanczos steps from v give a Gauss quadrature for the
// spectral measure μ_v = Σ_i (vᵀu_i)² δ(λ_i): nodes are the eigenvalues θ of the tridiagonal,
// weights the squared first components of its eigenvectors (they sum to 1). It is exact for
// polynomials of degree ≤ 2m−1, so vᵀ f(M) v ≈ Σ w f(θ), and since E[vvᵀ] = I/n for both probe
// kinds, tr f(M) ≈ n · mean over probes. (Ubaru, Chen & Saad 2017; Ghorbani, Krishnan & Xiao 2019.)
struct SlqOptions {
  index_t probes = 10;
  index_t steps = 80;  // Lanczos steps per probe (capped at the operator's size)
  Probe probe = Probe::rademacher;
  std::uint64_t seed = 0;
};

struct SpectralQuadrature {
  index_t size = 0;                          // n, the operator's dimension
  std::vector<std::vector<double>> nodes;    // per probe, ascending
  std::vector<std::vector<double>> weights;  // per probe, summing to 1
};

// Runs the probes (Lanczos with full re-orthogonalization, so no ghost nodes); a probe whose
// Krylov space is invariant simply yields fewer, exact, nodes.
SpectralQuadrature slq(LinearOperator& op, const SlqOptions& options = {});

// Spectral density on `grid`, each node broadened into a Gaussian of standard deviation sigma
// and the probes averaged: a probability density (integrates to 1; multiply by n for an
// eigenvalue count per unit).
std::vector<double> slq_density(const SpectralQuadrature& q, std::span<const double> grid,
                                double sigma);

// tr f(M) ≈ n · mean over probes of Σ w f(θ), with the standard error across probes.
Estimate slq_trace(const SpectralQuadrature& q, const std::function<double(double)>& f);
// tr(M^k): k = 0 gives n exactly, k ≤ 2m−1 have no quadrature error (only probe sampling error).
Estimate slq_moment(const SpectralQuadrature& q, int k);
// log det(M + λI); throws curv::Error if a node θ has θ + λ ≤ 0 (M + λI not positive definite).
Estimate slq_logdet(const SpectralQuadrature& q, double damping);

}  // namespace curv::linalg
