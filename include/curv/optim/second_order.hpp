// Second-order optimizers on the curvature toolkit, behind the same Optimizer interface as SGD
// and Adam (optim/optimizer.hpp):
//   kfac   Martens & Grosse 2015 (KFC for conv2d, Grosse & Martens 2016; tokens as rows for
//          linear layers of sequence models): Kronecker factors A, G as exponential moving
//          averages, inverted every `inverse_every` steps.
//   ekfac  George et al. 2018: K-FAC's eigenbasis, refreshed every `inverse_every` steps, with
//          the scaling re-estimated every step in that basis and averaged like the factors. With
//          carry_scaling (the default) the average survives a new basis: the previous EK-FAC
//          matrix's diagonal in the new basis is its past; otherwise it restarts there.
//   foof   Benzing 2022 ("gradient descent on neurons"): the input factor only,
//          Δ = ∇W (A + λI)⁻¹.
//   mfac   Frantar et al. 2021, dynamic algorithm: a sliding window of the last m gradients,
//          Δ = (λI + (1/m) Σ g gᵀ)⁻¹ ∇, in O(dm) per step.
//
// The objective is h(θ) = L(θ) + (η/2)‖θ‖² with η = weight_decay, so the L2 term is part of
// the curvature model (it adds η to the damping) exactly as in the K-FAC paper.
//
// How a step is sized (`rescale`):
//   qmodel  the K-FAC paper's §6.4/§7: the step δ = αΔ + μδ_prev with α and μ minimizing the
//           quadratic model ½δᵀ(F + (λ+η)I)δ + ∇hᵀδ under the exact Gauss-Newton matrix F of the
//           batch (two G·v products), then scaled by the learning rate (1 by default); λ follows
//           Levenberg–Marquardt: every `adapt_every` (T₁) steps the reduction ratio ρ of h on the
//           batch multiplies λ by ω₁ = adapt_factor^T₁ (ρ > 3/4) or divides it by ω₁ (ρ < 1/4),
//           never below `damping_min` (the paper's ω₁ = (19/20)^T₁). With qmodel_examples = n
//           > 0, F is the Gauss-Newton matrix of the batch's first n examples (recorded once
//           more): an unbiased estimate at n/N of the two products' cost; ρ stays on the batch.
//   kl      kfac-pytorch's KL clipping: ν = min(1, √(κ / (lr² |Δᵀ∇h|))), then SGD momentum on
//           ν·Δ with the learning rate. λ fixed. With scheduled_clip (the default) ν is sized
//           with the initial rate lr₀, so a warm-up or decay schedule (lr/lr₀) scales the step
//           even while the clip binds; kfac-pytorch's rule (scheduled_clip = false) sizes ν with
//           the current rate, and its clipped step √(κ/|Δᵀ∇h|)·Δ does not follow the schedule.
//   none    SGD momentum on Δ with the learning rate (FOOF's and M-FAC's rule). λ fixed.
// With stats_examples = n > 0 the factors (and EK-FAC's re-fit) are estimated on the batch's first
// n examples, recorded once more and swept on their own; the gradient stays the batch's. The
// K-FAC paper (§8) estimates the statistics on part of each mini-batch in the same way.
// Parameters outside linear and conv2d layers (norms, embeddings, positions) are updated by
// Adam with `fallback_lr` (PyTorch's defaults otherwise), scaled by the learning-rate schedule:
// fallback_lr · lr/lr₀, with lr₀ the rate the optimizer was made with.
#pragma once

#include <memory>
#include <string>

#include "curv/curvature/kinds.hpp"
#include "curv/optim/optimizer.hpp"

namespace curv {

struct SecondOrderConfig {
  double damping = 1e-3;      // λ (the initial value when adapted)
  double damping_min = 1e-8;  // adaptation never goes below
  double weight_decay = 0;    // η
  double decay = 0.95;        // factor moving average ε (warm start: min(1 − 1/k, ε) at step k)
  index_t inverse_every = 10;           // steps between inversions (eigendecompositions)
  FactorKind factors = FactorKind::MC;  // G from sampled labels (true Fisher) or ef
  KfacDamping kfac_damping = KfacDamping::Factored;  // kfac, ekfac: factored (π) or eigen
  bool kfac_pi = true;                               // factored: π-adjusted (false: π = 1)
  std::string rescale = "qmodel";                    // qmodel, kl or none
  double momentum = 0.9;                             // kl, none
  double kl_clip = 1e-3;                             // kl
  bool scheduled_clip = true;  // kl: ν from lr₀, so the schedule scales clipped steps too
  bool carry_scaling = true;   // ekfac: the running scaling carries over to a new basis
  bool adapt_damping = true;   // qmodel
  index_t adapt_every = 5;
  double adapt_factor = 0.95;   // per step: λ changes by adapt_factor^adapt_every at a time
  index_t stats_examples = 0;   // examples the factors (and their sweeps) come from (0: the batch)
  index_t qmodel_examples = 0;  // qmodel: examples whose exact F sizes the step (0: the batch)
  double fallback_lr = 1e-3;    // Adam on parameters K-FAC does not cover
  index_t window = 128;         // mfac: gradients kept (m)
  std::uint64_t seed = 0;       // sampled labels
};

// `variant`: "kfac", "ekfac" or "foof". Throws curv::Error on bad settings.
template <class T>
std::unique_ptr<Optimizer<T>> make_kfac_optimizer(const std::string& variant, double lr,
                                                  const SecondOrderConfig& cfg);

template <class T>
std::unique_ptr<Optimizer<T>> make_mfac_optimizer(double lr, const SecondOrderConfig& cfg);

}  // namespace curv
