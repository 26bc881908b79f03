// A Laplace posterior (laplace/posterior.hpp) around a model's current weights, from names: which
// weights, which structure, which curvature, which prior — what `curv laplace` and
// `curv ood --score laplace` share, so both fit the same posterior from the same flags.
//
// The structures of C (the mean-loss curvature on the weights, over the fit examples):
//   kron      K-FAC per layer (curvature/kfac.hpp) with the curvature's output factor
//   diag      the exact diagonal of the curvature
//   lowrank   C ≈ U Λ Uᵀ from the top `rank` eigenpairs of the matrix-free curvature, found by
//             Lanczos with full re-orthogonalization (linalg/eigensolvers.hpp); P = N·UΛUᵀ + P₀
//             is inverted exactly by Woodbury (curvature/low_rank_operator.hpp). Directions
//             outside the top eigenvectors keep the prior's variance.
//   full      the matrix-free curvature materialized (at most `max_full` weights)
// The curvature: ggn (exact Gauss-Newton), ef (empirical Fisher) or fisher (labels sampled from
// the model, `mc_samples` per example, seeded).
// A model trained with the mean squared error gets a Gaussian likelihood with noise σ²
// (Posterior::set_noise) and a unit-noise ggn or fisher; its σ is given or fitted with the prior
// from the maximum-likelihood start σ̂² = Σₙ ‖yₙ − f(xₙ)‖² / (N·D) = 2 Σₙ ℓₙ / (N·D).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "curv/data/split.hpp"
#include "curv/laplace/evidence.hpp"
#include "curv/laplace/posterior.hpp"
#include "curv/nn/model.hpp"

namespace curv::laplace {

struct LaplaceSpec {
  // ParamSubset::parse: all, last, layer names or entries; or "subnet": the `subnet_size`
  // weights chosen by `subnet_by` (variance or magnitude; laplace/subnet.hpp)
  std::string weights = "last";
  index_t subnet_size = 0;
  std::string subnet_by = "variance";
  std::string structure = "kron", curvature = "ggn", prior = "scalar";
  double prior_precision = 0;  // δ for every group; 0: fitted by the marginal likelihood
  // "naive": log Z at θ*; "linearized": at the linearized model's mode, the prior fitted there
  // from the naive one (laplace/evidence.hpp)
  std::string evidence = "naive";
  // linearized: "affine", f(θ*) + J(θ − θ*), or "jacobian", J θ without the offset
  // (laplace/evidence.hpp)
  std::string linearized_model = "affine";
  // where the fit starts: N·wd for a model trained with decay wd (divided by the starting σ² for
  // regression, the prior that decay implies under noise σ²)
  double prior_start = 1;
  double noise = 0;        // regression: σ (> 0), or 0 to fit it with the prior
  index_t rank = 50;       // lowrank: eigenpairs kept
  index_t mc_samples = 1;  // fisher: labels drawn per example
  index_t batch = 128;     // examples per recorded batch
  std::uint64_t seed = 0;
  index_t max_full = 6000;

  // Throws a one-line error naming the field and the accepted values.
  void validate() const;
};

struct FitReport {
  std::string weights;        // the posterior's weights as ParamSubset::parse reads them back
  double n = 0;               // training examples N
  int prior_steps = 0;        // BFGS steps of the marginal-likelihood fit (0: δ given)
  double prior_gradient = 0;  // max over groups of |∂ log Z/∂ log δ_g| / n_g at the end
  index_t lanczos_iterations = 0, lanczos_converged = 0;  // lowrank
  double smallest_kept_eigenvalue = 0;                    // lowrank: λ_rank of C
  // evidence "linearized": the naive fit it started from, and the fit of δ with θ̂ re-solved
  double naive_log_marglik = 0;
  std::vector<double> naive_prior;
  LinearizedReport linearized;
};

// The posterior over `spec.weights` of `model` at its current weights, C measured on `examples`
// of `split`.
template <class T>
std::unique_ptr<Posterior> fit_posterior(const Model<T>& model, const Split<T>& split,
                                         const std::vector<index_t>& examples,
                                         const LaplaceSpec& spec, FitReport* report = nullptr);

}  // namespace curv::laplace
