// The pieces a K-FAC-family step is made of (internal to optim/), applied after the layers'
// preconditioners have produced Δ = −(F̂ + (λ+η)I)⁻¹ ∇h on the covered parameters:
//   AdamFallback        Adam (PyTorch's defaults) on the parameters no layer covers
//   QuadraticModelStep  δ = αΔ + μδ_prev minimizing the damped quadratic model under the batch's
//                       exact Gauss-Newton matrix, with Levenberg–Marquardt adaptation of λ (the
//                       K-FAC paper's §6.4 and §7)
//   MomentumStep        SGD momentum on νΔ, with ν from a KL clip (kfac-pytorch) or 1
// SecondOrderConfig::rescale picks the rule once, when the optimizer is made (make_step_rule);
// a step only calls it. docs/optimizers.md has the equations.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "curv/nn/objective.hpp"
#include "curv/optim/optimizer.hpp"
#include "curv/optim/second_order.hpp"

namespace curv::detail {

// What a rule sees of one step.
template <class T>
struct StepInput {
  ParamStore<T>& params;
  const std::vector<T>& grad_h;  // ∇h = ∇L + ηθ
  const std::vector<T>& delta;   // Δ, zero outside the covered layers
  Objective<T>& batch;           // the step's batch: h before the step, and again after it
  Objective<T>& curvature;       // whose exact GGN sizes the step (the batch or part of it)
  double lr, base_lr;            // the scheduled rate and the rate the optimizer was made with
  index_t step;                  // k, counted from 1
  const std::string& who;        // the optimizer, for errors
};

// λ as the step rule sees and adapts it.
struct Damping {
  double lambda, min, weight_decay;
  bool adapt;
  index_t every;
  double factor;  // per step: λ changes by factor^every at a time
};

template <class T>
class StepRule {
 public:
  virtual ~StepRule() = default;
  // θ ← θ + δ. Returns true when it changed λ (the preconditioners then take the new shift).
  virtual bool apply(const StepInput<T>& in, Damping& damping) = 0;
  virtual void save(OptimizerState<T>& s) const = 0;  // its per-parameter buffers
  virtual void mask(std::span<const std::uint8_t> keep) = 0;
  virtual std::size_t bytes() const = 0;
  // Whether it multiplies by the exact curvature (StepInput::curvature is then worth recording).
  virtual bool uses_curvature() const { return false; }
};

// "qmodel", "kl" or "none" (the config is checked by the optimizer).
template <class T>
std::unique_ptr<StepRule<T>> make_step_rule(const SecondOrderConfig& cfg);

// Adam on the entries `uncovered` of θ, with rate fallback_lr · lr/lr₀.
template <class T>
class AdamFallback {
 public:
  void set_entries(std::vector<index_t> uncovered) { uncovered_ = std::move(uncovered); }
  const std::vector<index_t>& entries() const { return uncovered_; }
  void apply(ParamStore<T>& p, const std::vector<T>& grad_h, double rate);
  void mask(std::span<const std::uint8_t> keep);
  std::size_t bytes() const { return (m_.size() + v_.size()) * sizeof(T); }

 private:
  std::vector<index_t> uncovered_;
  std::vector<T> m_, v_;  // m_[j], v_[j]: moments of entry uncovered_[j]
  index_t t_ = 0;
};

}  // namespace curv::detail
