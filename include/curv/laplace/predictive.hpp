// Predictives of a Laplace posterior (laplace/posterior.hpp) for classification, from each
// input's logits f (C) and their covariance under the linearized model (GLM),
//   f(x) ~ N(f_θ*(x), Σ(x)),   Σ(x) = J(x) P⁻¹ J(x)ᵀ,   J(x) = ∂f_θ(x)/∂θ on the subset (C × S)
// Σ is computed batch by batch: C Jacobian rows per input from one backward sweep each
// (curvature/gradients.hpp, measurement "jacobian"), then P⁻¹ applied to them through the
// posterior's operator — never a P × P matrix. On the output layer's weights the rows need no
// sweep (they are its inputs), and a Kronecker posterior there gives Σ straight from those inputs
// (Posterior::output_layer_covariance): a last-layer predictive costs about one forward pass.
// The class probabilities (n, C) then come from one of:
//   probit   softmax of f_c / √(1 + π/8 · Σ_cc) (the probit approximation per logit)
//   mc       the mean of softmax(f + L ε_s) over S samples, L Lᵀ = Σ; the draws ε_s are shared by
//            every input (common random numbers) and seeded
//   bridge   the Laplace bridge (Hobbhahn et al. 2022, as laplace-torch): a Dirichlet with
//            α_c = (1 − 2/C + e^{f_c} Σ_k e^{−f_k} / C²) / Σ_cc, whose mean α/Σα is returned
// A temperature τ divides the logits and multiplies nothing else (τ = 1: none).
//
// Without linearizing, sample_predictive averages softmax(f_θs(x)) over weights drawn from the
// posterior, θs = θ* + R εs with R Rᵀ = P⁻¹ (LinearOperator::inverse_root_mv) on the subset —
// laplace-torch's "nn" predictive; S forward passes over the inputs.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "curv/data/split.hpp"
#include "curv/laplace/posterior.hpp"
#include "curv/nn/model.hpp"

namespace curv::laplace {

struct Linearized {
  index_t n = 0, classes = 0;
  std::vector<double> logits;      // (n, C)
  std::vector<double> covariance;  // (n, C, C)
};

// The logits at the model's weights for `examples` of `split`, without covariances: what the MAP
// predictive and the scores computed from it (maximum probability, entropy) need.
template <class T>
Linearized logits_of(const Model<T>& model, const Split<T>& split,
                     const std::vector<index_t>& examples, index_t batch = 256);

// Logits and their GLM covariances for `examples` of `split`, `batch` inputs per sweep (at least
// 256 for a last-layer Kronecker posterior, which holds no Jacobian rows); the
// posterior is over the parameters of `subset` (ParamSubset::parse names). `progress`, if
// given, is told the inputs whose covariances are done after each batch.
template <class T>
Linearized linearize(Posterior& posterior, Model<T>& model, const Split<T>& split,
                     const std::vector<index_t>& examples, const std::string& subset,
                     index_t batch = 64,
                     const std::function<void(index_t done, index_t total)>& progress = {});

std::vector<double> probit(const Linearized& l, double temperature = 1);
std::vector<double> monte_carlo(const Linearized& l, index_t samples, std::uint64_t seed,
                                double temperature = 1);
std::vector<double> bridge(const Linearized& l, double temperature = 1);
// Softmax of the logits alone: the MAP predictive, on the same footing.
std::vector<double> map_probabilities(const Linearized& l, double temperature = 1);

// The mean of softmax(f_θs(x)/τ) over `samples` weight draws θs = θ* + R εs (εs ~ N(0, I),
// seeded, the same for every input) on `subset`, for `examples` of `split`: (n, C). The model's
// weights are restored afterwards, also when a pass throws.
template <class T>
std::vector<double> sample_predictive(Posterior& posterior, Model<T>& model, const Split<T>& split,
                                      const std::vector<index_t>& examples,
                                      const std::string& subset, index_t samples,
                                      std::uint64_t seed, double temperature = 1);

// "probit", "mc", "bridge" or "map"; throws naming them otherwise.
std::vector<double> predict(const Linearized& l, const std::string& kind, index_t samples = 100,
                            std::uint64_t seed = 0, double temperature = 1);

}  // namespace curv::laplace
