// Extremal eigenvalues of mini-batch curvature against the batch size (Granziol et al., "Learning
// rates as a function of batch size: a random matrix theory approach").
//
// The batch-B matrix is the operator of curv's mean loss over B examples drawn without
// replacement from a pool of N, M_B = (1/B) Σ_{n∈B} Mₙ (Hessian, GGN, …: curvature/factory.hpp),
// and M_N, the pool's own, is the full-data matrix. Since λ_max is convex and E[M_B] = M_N,
// E[λ_max(M_B)] ≥ λ_max(M_N) (Jensen); the batch's fluctuation M_B − M_N has entry variances
// proportional to x = 1/B − 1/N (sampling without replacement: the finite-population
// correction), which vanishes at B = N. Two laws for the mean over batches:
//
//   linear   λ_max(B) = λ_full + c·x                       (least squares in λ_full, c)
//   spiked   λ_max(B) = λ + v·x/λ    while λ² > v·x          (a spiked Wigner model: an outlier
//            λ_max(B) = 2√(v·x)      once the noise swamps it  λ of the full matrix under noise
//                                                            of semicircle radius 2√(v·x))
//
// The spiked law is the paper's: the noise pushes an outlier up by σ²/λ while it stays outside
// the bulk, and the largest eigenvalue follows the bulk's edge 2σ when it does not, with σ² = v·x.
// In its first regime it is the linear law with c = v/λ.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "curv/curvature/factory.hpp"
#include "curv/data/split.hpp"
#include "curv/linalg/eigensolvers.hpp"
#include "curv/nn/model.hpp"

namespace curv::spectra {

struct SweepOptions {
  std::vector<index_t> batch_sizes;  // each in 1..N; N itself is the full matrix (drawn once)
  index_t batches = 10;              // independent batches per size
  OperatorSpec op;                   // the matrix: hessian, ggn, ef, fisher, …
  // Lanczos per batch; wanted is 1, which largest_algebraic (the top of the spectrum). It stops
  // once the top Ritz pair's residual is within tolerance × |θ|; iterations is the cap.
  index_t iterations = 30;
  double tolerance = 1e-6;
  std::uint64_t seed = 0;  // batch b of size B is drawn by a stream split from (seed, B, b)
  index_t chunk = 256;     // examples per recorded sweep of a batch's products
  // Adam's preconditioned matrix D_B^{-1/2} M_B D_B^{-1/2} instead of M_B (its eigenvalues are
  // those of the step D_B⁻¹ M_B Adam takes), D_B = √v_B + ε from adam_second_moment.
  bool adam_preconditioned = false;
  double adam_eps = 1e-8;
  // Called after every draw with the draws done and the sweep's total (for a progress bar).
  std::function<void(index_t done, index_t total)> on_draw;
};

struct SweepPoint {
  index_t batch = 0;               // B
  std::vector<double> lambda_max;  // per drawn batch
  double mean = 0;                 // over the batches
  double standard_error = 0;       // sample standard deviation / √batches (0 for one batch)
  index_t unconverged = 0;         // batches whose top Ritz pair missed the tolerance
  index_t products = 0;            // operator products spent on this size
};

// The examples of batch `b` of size B: B distinct entries of `pool`, drawn by a partial
// Fisher–Yates shuffle (the whole pool, in order, when B = |pool|).
std::vector<index_t> draw_batch(const std::vector<index_t>& pool, index_t B, index_t b,
                                std::uint64_t seed);

// Adam's preconditioner at batch size B. In steady state Adam's second moment v is the
// expected square of a batch gradient, and a batch mean drawn without replacement has, per
// coordinate, E[ḡ_B²] = ḡ² + s²·(1/B − 1/N) with ḡ the pool's mean gradient and s² the sample
// variance of its per-example gradients: the same x as the batch matrix's noise. So small
// batches have v ≈ s²/B, a step D⁻¹g ∝ √B, and the largest stable rate ∝ √B where SGD's ∝ B.
struct GradientMoments {
  std::vector<double> mean;      // ḡ, (P)
  std::vector<double> variance;  // s², (P), Bessel-corrected
  index_t count = 0;             // N
};
template <class T>
GradientMoments gradient_moments(const Model<T>& model, const Split<T>& split,
                                 const std::vector<index_t>& pool, index_t chunk);
// √v_B + ε per coordinate.
std::vector<double> adam_denominator(const GradientMoments& m, index_t B, double eps);

// λ_max of the batch matrices for every size, in the order given. Sizes must be in 1..|pool|.
template <class T>
std::vector<SweepPoint> batch_sweep(const Model<T>& model, const Split<T>& split,
                                    const std::vector<index_t>& pool, const SweepOptions& options);

struct LawFit {
  double lambda_full = 0;         // linear: the intercept; spiked: the outlier λ
  double slope = 0;               // linear: c; spiked: v (σ² = v·x)
  double r2 = 0;                  // 1 − SS_res/SS_tot over the sweep's means
  std::vector<double> residuals;  // mean − law, per point in sweep order
};

// The least-squares line y ≈ intercept + slope·x, {intercept, slope}; none when the x are all
// equal (or fewer than two).
std::optional<std::pair<double, double>> least_squares_line(const std::vector<double>& x,
                                                            const std::vector<double>& y);
// x = 1/B − 1/N for each point.
std::vector<double> batch_noise(const std::vector<SweepPoint>& sweep, index_t N);
// The linear law by least squares over the means (at least two distinct sizes).
LawFit fit_linear_law(const std::vector<SweepPoint>& sweep, index_t N);
// The spiked law by least squares over the means: Nelder–Mead on (log λ, log v), started from
// the linear fit. Needs a positive top eigenvalue (a GGN's; a Hessian's top is positive at a
// trained minimum).
LawFit fit_spiked_law(const std::vector<SweepPoint>& sweep, index_t N);
// The spiked law's prediction at noise x.
double spiked_law(double lambda, double v, double x);

}  // namespace curv::spectra
