// Stochastic Lanczos quadrature: per-probe Gauss quadratures of the spectral measure, and the
// density, moments and traces of functions computed from them.
#include <cmath>
#include <numbers>

#include "curv/core/error.hpp"
#include "curv/linalg/estimators.hpp"
#include "krylov.hpp"

namespace curv::linalg {

using detail::sz;
using detail::Vector;

SpectralQuadrature slq(LinearOperator& op, const SlqOptions& o) {
  const index_t n = op.size();
  CURV_CHECK(n >= 1, "slq: operator '", op.name(), "' is empty");
  CURV_CHECK(o.probes >= 1, "slq: expected at least 1 probe, found ", o.probes);
  CURV_CHECK(o.steps >= 1, "slq: expected at least 1 Lanczos step per probe, found ", o.steps);
  // Relative to the operator's scale, a new Lanczos direction this short means the probe's Krylov
  // space is invariant and its quadrature already exact.
  constexpr double breakdown_tolerance = 1e-10;
  SpectralQuadrature q;
  q.size = n;
  Rng rng(o.seed);
  Vector v(sz(n)), values, vectors;
  for (index_t p = 0; p < o.probes; ++p) {
    detail::fill_probe(o.probe, rng, v.data(), n);
    detail::scale(1 / detail::norm(v.data(), n), v.data(), n);
    const detail::LanczosRecurrence rec =
        detail::lanczos_recurrence(op, v.data(), o.steps, breakdown_tolerance);
    detail::tridiagonal_eigen(rec.alpha, rec.beta, values, vectors);
    // The quadrature weight of node j is (e₁ᵀ y_j)²: the probe's squared component along the
    // Ritz vector, since the probe is the first Lanczos vector.
    std::vector<double> weights(sz(rec.steps));
    for (index_t j = 0; j < rec.steps; ++j) weights[sz(j)] = vectors[sz(j)] * vectors[sz(j)];
    q.nodes.push_back(values);
    q.weights.push_back(std::move(weights));
  }
  return q;
}

std::vector<double> slq_density(const SpectralQuadrature& q, std::span<const double> grid,
                                double sigma) {
  CURV_CHECK(sigma > 0, "slq_density: expected a positive broadening sigma, found ", sigma);
  CURV_CHECK(!q.nodes.empty(), "slq_density: the quadrature has no probes");
  const double probes = double(q.nodes.size());
  const double normalization = 1 / (sigma * std::sqrt(2 * std::numbers::pi) * probes);
  std::vector<double> density(grid.size(), 0.0);
  for (std::size_t p = 0; p < q.nodes.size(); ++p)
    for (std::size_t j = 0; j < q.nodes[p].size(); ++j) {
      const double node = q.nodes[p][j], weight = q.weights[p][j] * normalization;
      for (std::size_t g = 0; g < grid.size(); ++g) {
        const double d = (grid[g] - node) / sigma;
        density[g] += weight * std::exp(-0.5 * d * d);
      }
    }
  return density;
}

Estimate slq_trace(const SpectralQuadrature& q, const std::function<double(double)>& f) {
  CURV_CHECK(!q.nodes.empty(), "slq_trace: the quadrature has no probes");
  Vector samples;
  for (std::size_t p = 0; p < q.nodes.size(); ++p) {
    double quadrature = 0;
    for (std::size_t j = 0; j < q.nodes[p].size(); ++j)
      quadrature += q.weights[p][j] * f(q.nodes[p][j]);
    samples.push_back(double(q.size) * quadrature);
  }
  return detail::mean_and_standard_error(samples);
}

Estimate slq_moment(const SpectralQuadrature& q, int k) {
  CURV_CHECK(k >= 0, "slq_moment: expected a moment order k ≥ 0, found ", k);
  return slq_trace(q, [k](double theta) { return std::pow(theta, k); });
}

Estimate slq_logdet(const SpectralQuadrature& q, double damping) {
  for (const auto& nodes : q.nodes)
    for (double theta : nodes)
      CURV_CHECK(theta + damping > 0, "slq_logdet: quadrature node θ = ", theta,
                 " with damping λ = ", damping,
                 " gives θ + λ ≤ 0, so M + λI is not positive definite (its smallest eigenvalue is "
                 "at most θ); "
                 "raise the damping above ",
                 -theta);
  return slq_trace(q, [damping](double theta) { return std::log(theta + damping); });
}

}  // namespace curv::linalg
