#include "curv/laplace/posterior.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "curv/core/error.hpp"
#include "curv/curvature/compose.hpp"
#include "curv/curvature/kfac.hpp"

namespace curv::laplace {

std::vector<PriorGroup> prior_groups(const ParamSubset& subset, const std::string& kind) {
  CURV_CHECK(kind == "scalar" || kind == "layer",
             "laplace: expected a prior that is scalar or per layer, found '", kind, "'");
  if (kind == "scalar") return {{"all", 0, subset.size()}};
  const auto& names = subset.names();
  const auto& ranges = subset.ranges();
  CURV_CHECK(names.size() == ranges.size(), "laplace: expected one range per parameter, found ",
             ranges.size(), " for ", names.size());
  std::vector<PriorGroup> groups;
  index_t at = 0;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string layer = names[i].substr(0, names[i].rfind('.'));
    if (groups.empty() || groups.back().name != layer) groups.push_back({layer, at, 0});
    groups.back().size += ranges[i].size;
    at += ranges[i].size;
  }
  return groups;
}

double residual_noise(double summed_loss, double n, index_t outputs) {
  return 2 * summed_loss / (n * double(outputs));
}

Posterior::Posterior(std::unique_ptr<LinearOperator> curvature, double n_data,
                     std::vector<double> theta, double summed_loss, std::vector<PriorGroup> groups)
    : C_(std::move(curvature)),
      n_(n_data),
      summed_loss_(summed_loss),
      theta_(std::move(theta)),
      groups_(std::move(groups)) {
  CURV_CHECK(n_ > 0, "laplace: expected N > 0 training examples, found ", n_);
  CURV_CHECK(index_t(theta_.size()) == C_->size(), "laplace: expected θ* of ", C_->size(),
             " entries (the curvature's size), found ", theta_.size());
  index_t covered = 0;
  for (const PriorGroup& g : groups_) {
    CURV_CHECK(g.begin == covered && g.size > 0, "laplace: expected prior groups covering the ",
               "subset in order, found '", g.name, "' at ", g.begin);
    covered += g.size;
  }
  CURV_CHECK(covered == C_->size(), "laplace: expected prior groups over ", C_->size(),
             " entries, found ", covered);
  set_mode(theta_, summed_loss_);
}

void Posterior::set_mode(std::vector<double> mode, double summed_loss) {
  CURV_CHECK(mode.size() == theta_.size(), "laplace: expected a mode of ", theta_.size(),
             " entries (the subset's), found ", mode.size());
  CURV_CHECK(std::isfinite(summed_loss), "laplace: expected a finite summed loss at the mode, ",
             "found ", summed_loss);
  mode_ = std::move(mode), mode_loss_ = summed_loss;
  squared_.clear();
  for (const PriorGroup& g : groups_) {
    double sq = 0;
    for (index_t i = g.begin; i < g.begin + g.size; ++i)
      sq += mode_[std::size_t(i)] * mode_[std::size_t(i)];
    squared_.push_back(sq);
  }
}

void Posterior::set_prior(std::vector<double> delta) {
  CURV_CHECK(delta.size() == groups_.size(), "laplace: expected ", groups_.size(),
             " prior precisions (one per group), found ", delta.size());
  for (std::size_t g = 0; g < delta.size(); ++g)
    CURV_CHECK(std::isfinite(delta[g]) && delta[g] > 0, "laplace: expected a prior precision > 0",
               " for '", groups_[g].name, "', found ", delta[g]);
  delta_ = std::move(delta);
  rebuild();
}

void Posterior::set_noise(double sigma2, index_t outputs) {
  CURV_CHECK(std::isfinite(sigma2) && sigma2 > 0,
             "laplace: expected a noise variance σ² > 0, found ", sigma2);
  CURV_CHECK(outputs >= 1, "laplace: expected outputs >= 1 per example, found ", outputs);
  sigma2_ = sigma2, outputs_ = outputs;
  if (!delta_.empty()) rebuild();
}

void Posterior::rebuild() {
  std::vector<double> d(theta_.size());
  for (std::size_t g = 0; g < groups_.size(); ++g)
    std::fill_n(d.begin() + groups_[g].begin, groups_[g].size, delta_[g]);
  std::string why;
  P_ = plus_diagonal(*C_, gaussian() ? n_ / sigma2_ : n_, d, &why);
  CURV_CHECK(P_ != nullptr, "laplace: the precision N·C + P₀ has no exact structure (", why,
             "): use a kfac, diag, lowrank or full curvature, or a scalar prior");
}

LinearOperator& Posterior::precision() {
  CURV_CHECK(P_ != nullptr, "laplace: expected a prior (set_prior) before using the posterior");
  return *P_;
}

double Posterior::log_marglik() {
  LinearOperator& P = precision();
  double quadratic = 0, logdet_prior = 0;
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    quadratic += delta_[g] * squared_[g];
    logdet_prior += double(groups_[g].size) * std::log(delta_[g]);
  }
  const double fit = gaussian()
                         ? -mode_loss_ / sigma2_ - 0.5 * n_ * double(outputs_) *
                                                       std::log(2 * std::numbers::pi * sigma2_)
                         : -mode_loss_;
  return fit - 0.5 * quadratic - 0.5 * P.logdet(0.0) + 0.5 * logdet_prior;
}

std::vector<double> Posterior::gradient(bool noise) {
  CURV_CHECK(!noise || gaussian(), "laplace: the noise variance is fitted for a Gaussian ",
             "likelihood (regression) only, found a classification posterior");
  const std::vector<double> v = variances();
  std::vector<double> grad(groups_.size());
  double weighted_trace = 0;  // Σ_g δ_g tr_g P⁻¹ = tr(P⁻¹P₀)
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    double tr = 0;
    for (index_t i = groups_[g].begin; i < groups_[g].begin + groups_[g].size; ++i)
      tr += v[std::size_t(i)];
    grad[g] = 0.5 * double(groups_[g].size) - 0.5 * delta_[g] * (squared_[g] + tr);
    weighted_trace += delta_[g] * tr;
  }
  if (noise)
    grad.push_back(mode_loss_ / sigma2_ - 0.5 * n_ * double(outputs_) +
                   0.5 * (double(size()) - weighted_trace));
  return grad;
}

std::vector<double> Posterior::log_marglik_gradient() { return gradient(false); }

double Posterior::log_marglik_noise_gradient() { return gradient(true).back(); }

std::vector<double> Posterior::variances() { return precision().inverse_diagonal(0.0); }

void Posterior::covariance_mm(const double* V, index_t k, double* out) {
  precision().inverse_mm(V, k, 0.0, out);
}

KfacOperator* Posterior::kronecker() { return dynamic_cast<KfacOperator*>(&precision()); }

KroneckerBlock* Posterior::output_layer_block(index_t outputs) {
  KfacOperator* kfac = kronecker();
  if (!kfac || kfac->blocks().size() != 1) return nullptr;
  KroneckerBlock& block = kfac->blocks()[0];
  const KfacLayer& layer = block.layer();
  const bool fits = layer.kind == "linear" && layer.rows_per_example == 1 && layer.out == outputs &&
                    layer.size() == size();
  return fits ? &block : nullptr;
}

bool Posterior::has_output_layer_form(index_t outputs) {
  return output_layer_block(outputs) != nullptr;
}

bool Posterior::output_layer_covariance(const double* a, index_t n, index_t din, index_t outputs,
                                        double* out) {
  KroneckerBlock* block = output_layer_block(outputs);
  if (!block || block->layer().din() != din) return false;
  block->inverse_factored_covariance(a, nullptr, n, 1, outputs, 0.0, out);
  return true;
}

int Posterior::fit_prior(int steps, double tolerance, const std::function<void()>& moved,
                         bool noise) {
  // Quasi-Newton (BFGS) ascent on u = log δ (and log σ²) with the exact gradient and a
  // backtracking line search on log Z. The start H₀ = diag(2/n_g) is the inverse curvature of
  // log Z in u_g near its maximum, where −∂²/∂u_g² ≈ ½ δ_g ‖θ*_g‖² ≈ ½ n_g; in log σ² it is
  // Σₙ ℓₙ/σ² ≈ N·D/2 there.
  const std::size_t G = groups_.size(), K = G + (noise ? 1 : 0);
  precision();  // a prior to start from
  std::vector<double> u(K), H(K * K, 0.0), scale(K);
  for (std::size_t g = 0; g < G; ++g)
    u[g] = std::log(delta_[g]), scale[g] = double(groups_[g].size);
  if (noise) u[G] = std::log(sigma2_), scale[G] = n_ * double(outputs_);
  for (std::size_t k = 0; k < K; ++k) H[k * K + k] = 2 / scale[k];
  auto at = [&](const std::vector<double>& x) {
    std::vector<double> d(G);
    for (std::size_t g = 0; g < G; ++g) d[g] = std::exp(x[g]);
    if (noise) sigma2_ = std::exp(x[G]);
    set_prior(std::move(d));
    if (moved) moved();
  };
  double value = log_marglik();
  std::vector<double> grad = gradient(noise);  // refuses `noise` without a Gaussian likelihood
  for (int t = 0; t < steps; ++t) {
    bool done = true;
    for (std::size_t k = 0; k < K; ++k) done = done && std::abs(grad[k]) <= tolerance * scale[k];
    if (done) return t;
    std::vector<double> dir(K, 0.0);  // H·grad: an ascent direction while H is positive definite
    double slope = 0, longest = 0;
    for (std::size_t g = 0; g < K; ++g) {
      for (std::size_t h = 0; h < K; ++h) dir[g] += H[g * K + h] * grad[h];
      slope += dir[g] * grad[g], longest = std::max(longest, std::abs(dir[g]));
    }
    double step = std::min(1.0, 3.0 / longest);  // at most a factor e³ on any δ per step
    std::vector<double> next(K);
    double next_value = -INFINITY;
    for (int k = 0; k < 40; ++k, step /= 2) {
      for (std::size_t g = 0; g < K; ++g) next[g] = u[g] + step * dir[g];
      at(next);
      next_value = log_marglik();
      if (next_value >= value + 1e-4 * step * slope) break;
    }
    // No ascent left that log Z's rounding can show: stationary to working precision.
    if (!(next_value > value)) {
      at(u);
      return t;
    }
    const std::vector<double> next_grad = gradient(noise);
    // BFGS on −log Z: s = Δu, y = −Δgrad.
    std::vector<double> sv(K), yv(K), Hy(K, 0.0);
    double sy = 0, yHy = 0;
    for (std::size_t g = 0; g < K; ++g)
      sv[g] = next[g] - u[g], yv[g] = grad[g] - next_grad[g], sy += sv[g] * yv[g];
    if (sy > 1e-300) {
      for (std::size_t g = 0; g < K; ++g)
        for (std::size_t h = 0; h < K; ++h) Hy[g] += H[g * K + h] * yv[h];
      for (std::size_t g = 0; g < K; ++g) yHy += yv[g] * Hy[g];
      for (std::size_t g = 0; g < K; ++g)
        for (std::size_t h = 0; h < K; ++h)
          H[g * K + h] +=
              (sy + yHy) * sv[g] * sv[h] / (sy * sy) - (Hy[g] * sv[h] + sv[g] * Hy[h]) / sy;
    }
    u = next, value = next_value, grad = next_grad;
  }
  return steps;
}

}  // namespace curv::laplace
