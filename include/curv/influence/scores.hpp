// Influence scores in curv's convention (docs/methods/influence.md):
//
//   s(z, z') = ∇m(z')ᵀ M ∇ℓ(z)
//
// for a training example z and a query z', with M the estimator's metric (influence/metric.hpp:
// (H + λI)⁻¹ of the mean training loss L = (1/N) Σₙ ℓₙ's Hessian or GGN, a structured or
// low-rank approximation of it, or the identity) and m the query's measurement (its loss, or its
// margin). s > 0: z helps the query (removing z raises the query's loss by about s/N); s < 0:
// z hurts it. Self-influence is s(z, z) with the training loss on both sides.
//
// Queries are batched: their Q gradients are mapped by M once, then the training gradients are
// streamed block by block and dotted with them (one GEMM per block), so the training set never
// sits in memory as an (N, P) matrix. Self-influence maps each block of training gradients.
#pragma once

#include <vector>

#include "curv/curvature/gradients.hpp"
#include "curv/data/split.hpp"
#include "curv/influence/metric.hpp"
#include "curv/nn/model.hpp"

namespace curv::influence {

// Where a scoring run's time went: the gradient sweeps (queries' and training examples'), and
// the products with them (the GEMMs against the mapped queries, or the metric's quadratic form —
// Arnoldi's projections). Accumulated, so one record can span several calls.
struct ScoreTiming {
  double gradient_seconds = 0, product_seconds = 0;
};

struct ScoreOptions {
  Measurement query;    // the queries' scalar: loss (default) or margin
  index_t batch = 256;  // examples per gradient sweep
  // Grad-Cos: both gradients scaled to unit length first, s = cos(∇m(z'), M ∇ℓ(z)) for the
  // identity (a zero gradient scores 0).
  bool cosine = false;
  // > 0: each query's mapped gradient M∇m(z'), per weight tensor viewed as a (rows, cols) matrix
  // (rows its first dimension), replaced by its best rank-`query_rank` approximation (truncated
  // SVD) before the dot products — Kronfluence's low-rank query gradients. One-dimensional
  // tensors (biases, norm gains) stay exact; a tensor of rank <= query_rank is unchanged.
  index_t query_rank = 0;
  ScoreTiming* timing = nullptr;  // if given, the run's time is added to it
};

// The rank-r truncation of ScoreOptions::query_rank applied to the Q rows of X (Q, P) in place,
// tensor by tensor of `info`. Returns the largest relative Frobenius error ‖X − X_r‖/‖X‖ over
// the truncated (query, tensor) blocks.
double truncate_query_rank(double* X, index_t Q, const std::vector<ParamInfo>& info, index_t r);

// Per-layer scores beside the totals (Kronfluence's per-module scores): layer l's part of s,
// (M g')ₗᵀ gₗ over its parameters' coordinates, so the layers' parts sum to s. For a
// block-diagonal M (kfac, ekfac, diagonal) it is the layer's own influence, g'ₗᵀ(Mₗₗ + λI)⁻¹gₗ.
struct LayerScores {
  std::vector<std::string> names;  // the model's layer_names (curvature/subset.hpp)
  std::vector<double> values;      // (layers, Q, N)
};

// The (Q, N) score matrix, row q the query queries[q], column n the training example train[n];
// with `layers`, the per-layer parts too (one more GEMM per block of training gradients).
template <class T>
std::vector<double> scores(const Model<T>& model, ScoreMetric& metric, const Split<T>& train_split,
                           std::vector<index_t> train, const Split<T>& query_split,
                           std::vector<index_t> queries, const ScoreOptions& options,
                           LayerScores* layers = nullptr);

// Self-influence s(z, z) = ∇ℓ(z)ᵀ M ∇ℓ(z) of every listed training example (N entries).
template <class T>
std::vector<double> self_scores(const Model<T>& model, ScoreMetric& metric, const Split<T>& split,
                                std::vector<index_t> train, const ScoreOptions& options);

extern template std::vector<double> scores(const Model<float>&, ScoreMetric&, const Split<float>&,
                                           std::vector<index_t>, const Split<float>&,
                                           std::vector<index_t>, const ScoreOptions&, LayerScores*);
extern template std::vector<double> self_scores(const Model<float>&, ScoreMetric&,
                                                const Split<float>&, std::vector<index_t>,
                                                const ScoreOptions&);
extern template std::vector<double> scores(const Model<double>&, ScoreMetric&, const Split<double>&,
                                           std::vector<index_t>, const Split<double>&,
                                           std::vector<index_t>, const ScoreOptions&, LayerScores*);
extern template std::vector<double> self_scores(const Model<double>&, ScoreMetric&,
                                                const Split<double>&, std::vector<index_t>,
                                                const ScoreOptions&);

}  // namespace curv::influence
