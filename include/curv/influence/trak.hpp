// TRAK (Park et al. 2023): influence through randomly projected margin gradients, with the
// inverse exact in k dimensions, in curv's convention (docs/methods/influence.md).
//
// For a classifier with outputs zₙ and label yₙ, the margin fₙ = zₙ,y − log Σ_{c≠y} exp zₙ,c is
// the logit of pₙ = softmax(zₙ)_y, so the cross-entropy is ℓₙ = log(1 + e^{−fₙ}) and
//   ∇ℓₙ = −(1 − pₙ) ∇fₙ          exactly.
// With a seeded random map R:(P, k) (linalg/projection.hpp):
//   φₙ = Rᵀ∇fₙ                               (k)    projected margin gradients, n = 1..N
//   A  = (1/N) Σₙ φₙφₙᵀ + λI                 (k, k) factored once by Cholesky
//   s(zₙ, z') = (Rᵀ∇m(z'))ᵀ A⁻¹ Rᵀ∇ℓₙ = −(1 − pₙ) ψ'ᵀ A⁻¹ φₙ,   ψ' = Rᵀ∇m(z')
// — the influence-function form with (H + λI)⁻¹ replaced by R A⁻¹ Rᵀ, the inverse of the
// projected Gauss-Newton matrix of the margins. TRAK's (1 − pₙ) "Q" weight is the factor that
// turns φₙ into the loss gradient. With a margin query (m = f') and λ = 0, s = −N·τ for TRAK's
// τ = φ'ᵀ(ΦᵀΦ)⁻¹φₙ(1 − pₙ): τ predicts the margin gained by training on zₙ, s/N the change on
// removing it. TRAK shares only influence functions' sign, not their s/N scale.
//
// An ensemble of M independently trained models (or checkpoints of one run) averages as TRAK
// does, the projected kernels and the Q weights apart:
//   s(zₙ, z') = −[(1/M) Σₘ ψ'ₘᵀ Aₘ⁻¹ φₘ,ₙ] · (1/M) Σₘ (1 − pₘ,ₙ)
// which is the single-model s for M = 1. Self-influence puts the training loss on both sides:
// ψₘ,ₙ = −(1 − pₘ,ₙ) φₘ,ₙ.
//
// Cost per model: two sweeps of projected training gradients (one when the N × k rows fit
// keep_bytes: they are kept from the first), one of the queries, a k × k Cholesky factor.
#pragma once

#include <cstdint>
#include <vector>

#include "curv/curvature/gradients.hpp"
#include "curv/data/split.hpp"
#include "curv/nn/model.hpp"

namespace curv::influence {

struct TrakOptions {
  index_t dimension = 2048;  // k
  ProjectionKind projection = ProjectionKind::Rademacher;
  std::uint64_t seed = 0;                           // R's seed: the same R for every model
  double damping = 0;                               // λ
  Measurement query;                                // the queries' scalar: loss (default) or margin
  index_t batch = 256;                              // examples per gradient sweep
  std::size_t keep_bytes = std::size_t(512) << 20;  // keep Φ between the sweeps up to this
};

struct TrakReport {
  index_t training_sweeps = 0;  // per model: 1 when Φ was kept, else 2
  double gradient_seconds = 0, projection_seconds = 0, generation_seconds = 0;
  double mean_weight = 0;  // the mean of (1/M) Σₘ (1 − pₘ,ₙ) over the training examples
};

// The (Q, N) scores of an ensemble of one or more models of the same architecture. Throws a
// one-line curv::Error for an empty ensemble, λ < 0, k outside 1..P, a training split without
// single class labels, or an A that is not positive definite (k > N leaves it singular: λ > 0).
template <class T>
std::vector<double> trak_scores(const std::vector<const Model<T>*>& models,
                                const Split<T>& train_split, const std::vector<index_t>& train,
                                const Split<T>& query_split, const std::vector<index_t>& queries,
                                const TrakOptions& options, TrakReport* report = nullptr);

// Self-influence s(zₙ, zₙ) of every listed training example (N entries).
template <class T>
std::vector<double> trak_self_scores(const std::vector<const Model<T>*>& models,
                                     const Split<T>& split, const std::vector<index_t>& train,
                                     const TrakOptions& options, TrakReport* report = nullptr);

extern template std::vector<double> trak_scores(const std::vector<const Model<float>*>&,
                                                const Split<float>&, const std::vector<index_t>&,
                                                const Split<float>&, const std::vector<index_t>&,
                                                const TrakOptions&, TrakReport*);
extern template std::vector<double> trak_scores(const std::vector<const Model<double>*>&,
                                                const Split<double>&, const std::vector<index_t>&,
                                                const Split<double>&, const std::vector<index_t>&,
                                                const TrakOptions&, TrakReport*);
extern template std::vector<double> trak_self_scores(const std::vector<const Model<float>*>&,
                                                     const Split<float>&,
                                                     const std::vector<index_t>&,
                                                     const TrakOptions&, TrakReport*);
extern template std::vector<double> trak_self_scores(const std::vector<const Model<double>*>&,
                                                     const Split<double>&,
                                                     const std::vector<index_t>&,
                                                     const TrakOptions&, TrakReport*);

}  // namespace curv::influence
