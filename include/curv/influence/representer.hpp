// Representer points (Yeh et al. 2018) in curv's convention (docs/methods/influence.md).
//
// A classifier's last layer maps features â = [a; 1] (the layer's input, with the bias's 1) to
// logits z = W â. Refit W alone on the training features with the L2-regularized mean loss
//
//   F(W) = (1/N) Σₙ ℓ(W âₙ, yₙ) + (λ/2)‖W‖²                       (cross-entropy, λ > 0)
//
// to its minimum W* (Newton's method with conjugate-gradient steps; F is strictly convex). There
// ∇F = 0 reads W* = −(1/(Nλ)) Σₙ gₙ âₙᵀ with gₙ = ∂ℓₙ/∂z, so every logit is a sum over the
// training examples, z(x') = W* â' = Σₙ αₙ (âₙᵀ â'), αₙ = −gₙ/(Nλ): example n's representer
// value. Removing n drops its term, moving z' by −αₙ(âₙᵀâ') and the query's scalar m by
// −(∂m/∂z')ᵀαₙ(âₙᵀâ') to first order (the features held fixed), which is s/N for
//
//   s(zₙ, z') = (1/λ) (∂m/∂z')ᵀ gₙ · (â'ᵀ âₙ)
//
// — λ⁻¹ times the dot product of the two last-layer gradients at W*: Grad-Dot on the refitted
// last layer. Everything is evaluated at W* (the queries' ∂m/∂z' too), not at the model's own
// last layer; the report says how far the refit moved the training loss and accuracy.
#pragma once

#include <vector>

#include "curv/curvature/gradients.hpp"
#include "curv/data/split.hpp"
#include "curv/nn/model.hpp"

namespace curv::influence {

struct RepresenterOptions {
  double lambda = 0;                  // λ > 0: the last-layer fit's L2 weight
  Measurement query;                  // loss (default) or margin
  index_t batch = 256;                // examples per feature sweep
  double gradient_tolerance = 1e-10;  // the fit stops at ‖∇F‖ below this
  index_t max_steps = 50;             // Newton steps
};

struct RepresenterFit {
  std::vector<double> weights;  // W* (C, d), row-major; d = the features' size, [a; 1]
  index_t classes = 0, features = 0;
  index_t steps = 0, products = 0;              // Newton steps, Hessian-vector products
  double gradient_norm = 0;                     // ‖∇F(W*)‖
  double model_loss = 0, fit_loss = 0;          // mean training loss: the model's, at W*
  double model_accuracy = 0, fit_accuracy = 0;  // training accuracy: the model's, at W*
};

// The (Q, N) scores. Throws a one-line curv::Error for λ <= 0, a model whose output is not a
// linear layer on one row per example, a loss other than the cross-entropy, a training split
// without class labels, or a fit that does not reach the tolerance.
template <class T>
std::vector<double> representer_scores(const Model<T>& model, const Split<T>& train_split,
                                       const std::vector<index_t>& train,
                                       const Split<T>& query_split,
                                       const std::vector<index_t>& queries,
                                       const RepresenterOptions& options,
                                       RepresenterFit* fit = nullptr);

// Self-influence s(zₙ, zₙ) = ‖gₙ‖²‖âₙ‖²/λ of every listed training example.
template <class T>
std::vector<double> representer_self_scores(const Model<T>& model, const Split<T>& split,
                                            const std::vector<index_t>& train,
                                            const RepresenterOptions& options,
                                            RepresenterFit* fit = nullptr);

extern template std::vector<double> representer_scores(const Model<float>&, const Split<float>&,
                                                       const std::vector<index_t>&,
                                                       const Split<float>&,
                                                       const std::vector<index_t>&,
                                                       const RepresenterOptions&, RepresenterFit*);
extern template std::vector<double> representer_scores(const Model<double>&, const Split<double>&,
                                                       const std::vector<index_t>&,
                                                       const Split<double>&,
                                                       const std::vector<index_t>&,
                                                       const RepresenterOptions&, RepresenterFit*);
extern template std::vector<double> representer_self_scores(const Model<float>&,
                                                            const Split<float>&,
                                                            const std::vector<index_t>&,
                                                            const RepresenterOptions&,
                                                            RepresenterFit*);
extern template std::vector<double> representer_self_scores(const Model<double>&,
                                                            const Split<double>&,
                                                            const std::vector<index_t>&,
                                                            const RepresenterOptions&,
                                                            RepresenterFit*);

}  // namespace curv::influence
