// Local ensembles (Madras et al. 2020, "Detecting extrapolation with local ensembles").
//
// Around trained weights θ*, models that fit the training data equally well differ mostly along
// the directions where the training loss is flat. A prediction whose gradient g(x) = ∇_θ f(x)
// has a large component in that flat subspace changes across such an ensemble: the model is
// extrapolating at x. The extrapolation score
//   E_m(x) = ‖(I − U_m U_mᵀ) g(x)‖,
// U_m the top m eigenvectors of the training-loss curvature (Hessian or GGN), measures that
// component without training an ensemble; E_0 = ‖g(x)‖ uses no curvature at all and is the
// baseline the eigenvectors must beat. The eigenvectors come from Lanczos with full
// re-orthogonalization (linalg/eigensolvers.hpp) on the curvature over a training subsample.
//
// g is the gradient of the predicted class's logit ("predicted"), or every logit's, the score
// being the smallest over classes ("min-class", C times the backward sweeps).
// Scores for many m share one product: with c = U g (U orthonormal),
//   E_m(x)² = ‖g‖² − Σ_{i<m} c_i²,
// exact while E_m is not tiny against ‖g‖ (it loses digits as ‖g‖²/E_m² grows; at m ≪ P the
// flat subspace keeps most of the gradient).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "curv/data/split.hpp"
#include "curv/linalg/operator.hpp"
#include "curv/nn/model.hpp"

namespace curv::laplace {

class LocalEnsemble {
 public:
  // The top `eigenvectors` eigenpairs of `curvature` (largest algebraic) after `iterations`
  // Lanczos steps (0: max(2m, m + 20), capped at the operator's size); seeded start vector.
  LocalEnsemble(LinearOperator& curvature, index_t eigenvectors, index_t iterations = 0,
                std::uint64_t seed = 0);
  // Given orthonormal rows U:(m, size) and their eigenvalues (may be empty).
  LocalEnsemble(std::vector<double> U, index_t m, index_t size, std::vector<double> values = {});

  index_t size() const { return size_; }
  index_t eigenvectors() const { return m_; }
  const std::vector<double>& eigenvalues() const { return values_; }
  index_t iterations() const { return iterations_; }
  index_t converged() const { return converged_; }  // pairs within Lanczos's tolerance

  // out[r · |ms| + j] = E_{ms[j]} of the gradient in row r of G:(rows, size); each m ≤
  // eigenvectors().
  void score_rows(const double* G, index_t rows, const std::vector<index_t>& ms, double* out) const;

  // E_m for `examples` of `split` (examples, |ms|), the gradients over the weights of `subset`
  // (the operator's), `gradient` "predicted" or "min-class". progress: examples done.
  template <class T>
  std::vector<double> scores(const Model<T>& model, const Split<T>& split,
                             const std::vector<index_t>& examples, const std::string& subset,
                             const std::string& gradient, const std::vector<index_t>& ms,
                             index_t batch = 64,
                             const std::function<void(index_t, index_t)>& progress = {}) const;

 private:
  std::vector<double> U_;  // (m, size)
  index_t m_, size_;
  std::vector<double> values_;
  index_t iterations_ = 0, converged_ = 0;
};

}  // namespace curv::laplace
