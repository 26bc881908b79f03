#include "step_rules.hpp"

#include <cmath>

#include "curv/core/error.hpp"
#include "curv/kernels/gemm.hpp"
#include "state.hpp"

namespace curv::detail {
namespace {

template <class T>
double dot_d(const std::vector<T>& a, const std::vector<T>& b) {
  return dot(index_t(a.size()), a.data(), b.data());
}

// δ = αΔ + μδ_prev minimizing ½δᵀ(F + (λ+η)I)δ + ∇hᵀδ over span{Δ, δ_prev}, F the exact GGN of
// the curvature batch plus the curvature ∇²R of the run's regularizers, then scaled by the
// learning rate; every `every` steps λ follows the reduction ratio ρ of h on the batch.
template <class T>
class QuadraticModelStep final : public StepRule<T> {
 public:
  bool apply(const StepInput<T>& in, Damping& damping) override {
    ParamStore<T>& p = in.params;
    const std::vector<T>& delta = in.delta;
    const std::vector<T>& grad_h = in.grad_h;
    const index_t P = p.size();
    const double shift = damping.lambda + damping.weight_decay;
    FD_.resize(std::size_t(P)), Fp_.resize(std::size_t(P));
    Objective<T>& F = in.curvature;
    F.ggn_vp(delta.data(), FD_.data());
    in.batch.add_regularizer_curvature(delta.data(), FD_.data());  // the run's Σ ∇²R, if any
    const bool have_prev = !delta_prev_.empty();
    const double dFd = dot_d(delta, FD_), dd = dot_d(delta, delta), b1 = dot_d(grad_h, delta);
    double alpha = 0, mu = 0, pFp = 0, dFp = 0, pp = 0, dp = 0, b2 = 0;
    const double a11 = dFd + shift * dd;
    CURV_CHECK(std::isfinite(a11) && std::isfinite(b1), in.who,
               ": the curvature became non-finite at step ", in.step, " (ΔᵀFΔ = ", dFd, ")");
    if (a11 <= 0 || dd == 0) return false;  // a zero gradient: nothing to do
    if (have_prev) {
      F.ggn_vp(delta_prev_.data(), Fp_.data());
      in.batch.add_regularizer_curvature(delta_prev_.data(), Fp_.data());
      pFp = dot_d(delta_prev_, Fp_), dFp = dot_d(delta, Fp_), pp = dot_d(delta_prev_, delta_prev_);
      dp = dot_d(delta, delta_prev_), b2 = dot_d(grad_h, delta_prev_);
      const double a12 = dFp + shift * dp, a22 = pFp + shift * pp, det = a11 * a22 - a12 * a12;
      if (det > 1e-12 * a11 * a22) {
        alpha = (-b1 * a22 + b2 * a12) / det;
        mu = (-b2 * a11 + b1 * a12) / det;
      } else {
        alpha = -b1 / a11;
      }
    } else {
      alpha = -b1 / a11;
    }
    const double lr = in.lr;
    alpha *= lr, mu *= lr;
    // M(δ) = ½δᵀ(F + ηI)δ + ∇hᵀδ: the model of h's change (no λ), for the reduction ratio.
    const double dFdelta = alpha * alpha * dFd + 2 * alpha * mu * dFp + mu * mu * pFp;
    const double dnorm = alpha * alpha * dd + 2 * alpha * mu * dp + mu * mu * pp;
    const double model = 0.5 * (dFdelta + damping.weight_decay * dnorm) + alpha * b1 + mu * b2;
    if (delta_prev_.empty()) delta_prev_.assign(std::size_t(P), T(0));
    // h = L + (η/2)‖θ‖² + Σ R: the data loss, the weight decay and the run's regularizers.
    const double h_old = in.batch.loss() + 0.5 * damping.weight_decay * dot(P, p.data(), p.data()) +
                         in.batch.regularization();
    for (index_t i = 0; i < P; ++i) {
      const T d = T(alpha) * delta[i] + T(mu) * delta_prev_[i];
      delta_prev_[i] = d;
      p.data()[i] += d;
    }
    CURV_CHECK(std::isfinite(alpha) && std::isfinite(mu), in.who,
               ": the step became non-finite at step ", in.step);
    if (!(damping.adapt && in.step % damping.every == 0 && model < 0)) return false;
    const double h_new = in.batch.rerecord() +
                         0.5 * damping.weight_decay * dot(P, p.data(), p.data()) +
                         in.batch.regularization();
    const double rho = (h_new - h_old) / model;
    // Martens & Grosse's ω₁ = (19/20)^T₁: the factor is a per-step rate, applied for the
    // adapt_every steps since the last adaptation.
    const double omega = std::pow(damping.factor, double(damping.every));
    if (rho > 0.75)
      damping.lambda = std::max(damping.min, damping.lambda * omega);
    else if (rho < 0.25)
      damping.lambda /= omega;
    return true;
  }
  void save(OptimizerState<T>& s) const override {
    if (!delta_prev_.empty()) s.buffers["previous_step"] = delta_prev_;
  }
  void mask(std::span<const std::uint8_t> keep) override { zero_masked(delta_prev_, keep); }
  std::size_t bytes() const override { return delta_prev_.size() * sizeof(T); }
  bool uses_curvature() const override { return true; }

 private:
  std::vector<T> delta_prev_, FD_, Fp_;
};

// SGD momentum on νΔ: b ← μ b − νΔ, θ ← θ − lr·b. With a KL clip κ, ν = min(1, √(κ / (r²|Δᵀ∇h|)))
// (kfac-pytorch), r the current rate — or, scheduled, the initial one, so that the schedule's
// factor lr/lr₀ scales clipped and unclipped steps alike (the two agree without a schedule).
template <class T>
class MomentumStep final : public StepRule<T> {
 public:
  MomentumStep(double momentum, bool clip, double kappa, bool scheduled)
      : momentum_(momentum), clip_(clip), kappa_(kappa), scheduled_(scheduled) {}

  bool apply(const StepInput<T>& in, Damping&) override {
    const index_t P = in.params.size();
    const double lr = in.lr;
    double nu = 1;
    if (clip_) {
      const double clip_lr = scheduled_ ? in.base_lr : lr;
      const double vg = std::abs(dot_d(in.delta, in.grad_h));
      if (vg > 0) nu = std::min(1.0, std::sqrt(kappa_ / (clip_lr * clip_lr * vg)));
    }
    if (buffer_.empty()) buffer_.assign(std::size_t(P), T(0));
    const T mu = T(momentum_), s = T(nu), step = T(lr);
    // Parameters left to the fallback rule have Δ = 0 and so keep a zero momentum: no branch.
    T* m = buffer_.data();
    const T* d = in.delta.data();
    T* theta = in.params.data();
    for (index_t i = 0; i < P; ++i) {
      m[i] = mu * m[i] - s * d[i];
      theta[i] -= step * m[i];
    }
    CURV_CHECK(std::isfinite(nu), in.who, ": the step became non-finite at step ", in.step);
    return false;
  }
  void save(OptimizerState<T>& s) const override {
    if (!buffer_.empty()) s.buffers["momentum_buffer"] = buffer_;
  }
  void mask(std::span<const std::uint8_t> keep) override { zero_masked(buffer_, keep); }
  std::size_t bytes() const override { return buffer_.size() * sizeof(T); }

 private:
  double momentum_;
  bool clip_;
  double kappa_;
  bool scheduled_;
  std::vector<T> buffer_;
};

}  // namespace

template <class T>
std::unique_ptr<StepRule<T>> make_step_rule(const SecondOrderConfig& cfg) {
  if (cfg.rescale == "qmodel") return std::make_unique<QuadraticModelStep<T>>();
  return std::make_unique<MomentumStep<T>>(cfg.momentum, cfg.rescale == "kl", cfg.kl_clip,
                                           cfg.scheduled_clip);
}

template <class T>
void AdamFallback<T>::apply(ParamStore<T>& p, const std::vector<T>& grad_h, double rate) {
  if (uncovered_.empty()) return;
  m_.resize(uncovered_.size()), v_.resize(uncovered_.size());
  ++t_;
  const double b1 = 0.9, b2 = 0.999, c1 = 1 - std::pow(b1, t_), c2 = 1 - std::pow(b2, t_);
  for (std::size_t j = 0; j < uncovered_.size(); ++j) {
    const index_t i = uncovered_[j];
    const double g = grad_h[i];
    m_[j] = T(b1 * m_[j] + (1 - b1) * g);
    v_[j] = T(b2 * v_[j] + (1 - b2) * g * g);
    p.data()[i] -= T(rate * (m_[j] / c1) / (std::sqrt(v_[j] / c2) + 1e-8));
  }
}

template <class T>
void AdamFallback<T>::mask(std::span<const std::uint8_t> keep) {
  for (std::size_t j = 0; j < m_.size(); ++j)
    if (!keep[std::size_t(uncovered_[j])]) m_[j] = v_[j] = T(0);
}

template std::unique_ptr<StepRule<float>> make_step_rule<float>(const SecondOrderConfig&);
template std::unique_ptr<StepRule<double>> make_step_rule<double>(const SecondOrderConfig&);
template class AdamFallback<float>;
template class AdamFallback<double>;

}  // namespace curv::detail
