// Scores of a Gaussian predictive (metrics.hpp): NLL through each input's Cholesky factor
// Σᵢ = L Lᵀ — log det Σᵢ = 2 Σ log L_dd and the Mahalanobis term ‖L⁻¹(yᵢ − μᵢ)‖² — and RMSE.
#include <cmath>
#include <numbers>

#include "curv/core/error.hpp"
#include "curv/metrics/metrics.hpp"

namespace curv::metrics {

Regression gaussian_regression(const std::vector<double>& mean,
                               const std::vector<double>& covariance, index_t outputs,
                               const std::vector<double>& targets) {
  const auto D = std::size_t(outputs);
  CURV_CHECK(D >= 1 && !mean.empty() && mean.size() % D == 0 && targets.size() == mean.size() &&
                 covariance.size() == mean.size() * D,
             "regression metrics: expected means (n, ", D, "), covariances (n, ", D, ", ", D,
             ") and targets (n, ", D, "), found ", mean.size(), ", ", covariance.size(), " and ",
             targets.size(), " values");
  const std::size_t n = mean.size() / D;
  Regression r;
  std::vector<double> L(D * D), z(D);
  for (std::size_t i = 0; i < n; ++i) {
    const double* S = covariance.data() + i * D * D;
    double logdet = 0, trace = 0;
    for (std::size_t a = 0; a < D; ++a) {  // L, row by row
      for (std::size_t b = 0; b <= a; ++b) {
        double s = S[a * D + b];
        for (std::size_t k = 0; k < b; ++k) s -= L[a * D + k] * L[b * D + k];
        if (a == b) {
          CURV_CHECK(s > 0 && std::isfinite(s), "regression metrics: expected a positive definite ",
                     "predictive covariance, found input ", i, " with pivot ", s);
          L[a * D + a] = std::sqrt(s), logdet += std::log(s);
        } else {
          L[a * D + b] = s / L[b * D + b];
        }
      }
      trace += S[a * D + a];
    }
    double mahalanobis = 0, squared = 0;
    for (std::size_t a = 0; a < D; ++a) {  // z = L⁻¹ (y − μ)
      const double e = targets[i * D + a] - mean[i * D + a];
      double s = e;
      for (std::size_t k = 0; k < a; ++k) s -= L[a * D + k] * z[k];
      z[a] = s / L[a * D + a];
      mahalanobis += z[a] * z[a], squared += e * e;
    }
    r.nll += 0.5 * (double(D) * std::log(2 * std::numbers::pi) + logdet + mahalanobis);
    r.rmse += squared;
    r.mean_std += std::sqrt(trace / double(D));
  }
  r.nll /= double(n), r.mean_std /= double(n);
  r.rmse = std::sqrt(r.rmse / double(n * D));
  return r;
}

}  // namespace curv::metrics
