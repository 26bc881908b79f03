// The linearized Laplace evidence (Antorán et al. 2022, "Adapting the linearised Laplace model
// evidence for modern deep learning"). The Laplace posterior's predictive is the linearized
// model's, f_lin(x; θ) = f(x; θ*) + J(x)(θ − θ*), yet the naive evidence (posterior.hpp) scores
// the fit and the prior at θ*, which is not that model's mode: training stops early, and a
// weight decay on weights that a normalization layer makes scale-invariant changes ‖θ*‖ without
// changing the function. The linearized evidence evaluates them at the mode θ̂ of the convex
// linearized objective instead,
//   θ̂ = argmin_θ  E(θ),   E(θ) = Σₙ ℓ(f_lin(xₙ; θ), yₙ) + ½ θᵀP₀θ
//   log Z_lin = −Σₙ ℓ(f_lin(xₙ; θ̂), yₙ) − ½ θ̂ᵀP₀θ̂ − ½ log det P + ½ log det P₀
// with P = N·C(θ*) + P₀ unchanged (for the mean-squared error C is E's Hessian exactly; for
// cross-entropy E's Hessian weighs J by the output curvature at f_lin(θ̂), and C keeps the one at
// f(θ*) — the difference is second order in θ̂ − θ*, and keeps P's structure, computed once).
// A prior per layer (prior_groups "layer") gives each scale-invariant group its own precision.
//
// θ̂ depends on δ: log Z_lin(δ) is maximized over log δ by Posterior::fit_prior's quasi-Newton
// ascent with θ̂ re-solved at every δ it tries, warm-started from the last (Newton's method on E:
// each step solves (Σ Jₙᵀ ∇²ℓₙ Jₙ + P₀) d = −∇E by conjugate gradients preconditioned by P⁻¹, then
// a backtracking line search on E; ∇E = Σ Jₙᵀ∇ℓₙ + P₀θ from one JVP and one VJP sweep per batch).
// Since θ̂ minimizes E, the envelope theorem drops its own dependence on δ from the gradient: ∂ log
// Z_lin / ∂ log δ_g is posterior.hpp's formula at θ̂.
//
// Without the offset (LinearizedOptions::offset false) the linear model is the Jacobian features
// alone, f_J(x; θ) = J(x) θ, dropping f(x; θ*) − J(x)θ*: E and θ̂ are those of f_J, P is the same.
// With the offset, a layer whose prior grows without bound leaves the trained outputs in place
// (the offset holds them), so the per-layer fit can drop a layer's Occam factor for free; in f_J
// every layer's weights carry their own share of the outputs (for a ReLU network without biases
// J_g θ*_g = f(θ*) for each layer g, by homogeneity), though the other layers can rescale to make
// a dropped share up (experiments/laplace section 4 measures both).
#pragma once

#include <string>
#include <vector>

#include "curv/data/split.hpp"
#include "curv/laplace/posterior.hpp"
#include "curv/nn/model.hpp"

namespace curv::laplace {

struct LinearizedOptions {
  bool fit_prior = true;          // false: θ̂ for the posterior's prior, which is kept
  bool offset = true;             // false: the model J(x)θ without f(x; θ*) − J(x)θ* (above)
  int prior_steps = 100;          // quasi-Newton steps on log δ at most
  double prior_tolerance = 1e-6;  // Posterior::fit_prior's: |∂ log Z_lin/∂ log δ_g| ≤ this·n_g
  int newton_steps = 50;          // per solve for θ̂
  double tolerance = 1e-2;  // solved when half the Newton decrement, −½∇Eᵀd, is ≤ this (nats)
  index_t cg_iterations = 50;  // per Newton step
  double cg_tolerance = 1e-6;  // the least relative residual a Newton system is solved to
  index_t batch = 256;         // examples per sweep
};

struct LinearizedReport {
  int solves = 0, prior_steps = 0, newton_steps = 0;
  index_t products = 0;    // Hessian-vector products of E (conjugate-gradient iterations)
  bool converged = false;  // every solve met `tolerance`, and δ its `prior_tolerance`
  double decrement = 0;    // the largest final half Newton decrement of a solve (nats)
  double summed_loss = 0;  // Σₙ ℓ(f_lin(xₙ; θ̂)) at the end
  double distance = 0;     // ‖θ̂ − θ*‖
};

// Sets the posterior's mode to θ̂ and its prior to the one maximizing log Z_lin, starting from
// the posterior's current prior; posterior.log_marglik() is then log Z_lin. The posterior must
// have been fitted on `examples` of `split` over the parameters of `subset` (ParamSubset::parse
// names) of `model` at θ*; the model's weights are left as they were.
template <class T>
LinearizedReport fit_linearized_evidence(Posterior& posterior, const Model<T>& model,
                                         const Split<T>& split,
                                         const std::vector<index_t>& examples,
                                         const std::string& subset,
                                         const LinearizedOptions& options = {});

}  // namespace curv::laplace
