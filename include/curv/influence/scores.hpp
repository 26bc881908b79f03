// Influence-function scores (Koh & Liang 2017) in curv's convention (docs/methods/influence.md):
//
//   s(z, z') = ∇m(z')ᵀ (H + λI)⁻¹ ∇ℓ(z)
//
// for a training example z and a query z', with H the Hessian or GGN of the mean training loss
// L = (1/N) Σₙ ℓₙ (an operator over the examples it is estimated on), λ the objective's weight
// decay plus any added damping, and m the query's measurement (its loss, or its margin). s > 0:
// z helps the query (removing z raises the query's loss by about s/N); s < 0: z hurts it.
//
// Queries are batched: their Q gradients are solved against H + λI once (exactly, by conjugate
// gradient or by LiSSA), then the training gradients are streamed block by block and dotted
// with the Q solutions, so the training set never sits in memory as an (N, P) matrix.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "curv/curvature/gradients.hpp"
#include "curv/data/split.hpp"
#include "curv/linalg/operator.hpp"
#include "curv/nn/model.hpp"

namespace curv::influence {

// How (H + λI)⁻¹ is applied.
enum class Inverse {
  Exact,  // H formed densely from P products, once, and factored by Cholesky (small models)
  Cg,     // conjugate gradient per query, to a relative residual
  Lissa,  // Koh & Liang's truncated Neumann series per query
};
// "exact", "cg" or "lissa"; anything else is a one-line curv::Error naming them.
Inverse parse_inverse(const std::string& name);
const char* inverse_name(Inverse kind);

struct InverseOptions {
  Inverse kind = Inverse::Cg;
  double damping = 0;            // λ: the objective's weight decay plus the added damping
  double tolerance = 1e-8;       // cg: relative residual ‖b − (H + λI)x‖ / ‖b‖
  index_t max_iterations = 500;  // cg
  double lissa_scale = 0;        // lissa: s > λ_max(H + λI), required
  index_t lissa_depth = 1000;    // lissa: terms of the series
  index_t exact_limit = 6000;    // exact: the largest P formed densely (P² doubles)
};

// What the inverse did, for the command's report.
struct InverseReport {
  index_t products = 0;       // H·v products in all
  double worst_residual = 0;  // largest ‖b − (H + λI)x‖ / ‖b‖ over the right-hand sides
};

// X = (H + λI)⁻¹ B for the k rows of B (row-major, each of H's size), by options.kind.
// Throws a one-line curv::Error for λ < 0, an exact inverse of more than exact_limit parameters
// or of an H + λI that is not positive definite, CG that does not reach its tolerance, or LiSSA
// without a scale.
std::vector<double> inverse_products(LinearOperator& H, std::span<const double> B, index_t k,
                                     const InverseOptions& options,
                                     InverseReport* report = nullptr);

struct ScoreOptions {
  Measurement query;    // the queries' scalar: loss (default) or margin
  index_t batch = 256;  // examples per gradient sweep
};

// The (Q, N) score matrix, row q the query queries[q], column n the training example train[n],
// s as above with H the operator given (over any examples; N = train.size() is not used in s).
template <class T>
std::vector<double> scores(const Model<T>& model, LinearOperator& H, const Split<T>& train_split,
                           std::vector<index_t> train, const Split<T>& query_split,
                           std::vector<index_t> queries, const InverseOptions& inverse,
                           const ScoreOptions& options, InverseReport* report = nullptr);

extern template std::vector<double> scores(const Model<float>&, LinearOperator&,
                                           const Split<float>&, std::vector<index_t>,
                                           const Split<float>&, std::vector<index_t>,
                                           const InverseOptions&, const ScoreOptions&,
                                           InverseReport*);
extern template std::vector<double> scores(const Model<double>&, LinearOperator&,
                                           const Split<double>&, std::vector<index_t>,
                                           const Split<double>&, std::vector<index_t>,
                                           const InverseOptions&, const ScoreOptions&,
                                           InverseReport*);

}  // namespace curv::influence
