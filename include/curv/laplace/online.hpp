// Online marginal-likelihood training (Immer et al. 2021, "Scalable marginal likelihood
// estimation for model selection in deep learning"): the prior precisions δ_g — and a regression
// model's noise σ² — are fitted during training by the Laplace evidence of the current weights,
// and the training objective uses them. With s = σ² for a Gaussian likelihood (1 otherwise),
//   −log p(D, θ) · s/N = L(θ) + ½ Σ_g (s·δ_g/N) ‖θ_g‖² + const,
// so the run minimizes its mean loss plus a quadratic regularizer of strength s·δ_g/N on group g
// (nn/regularizer.hpp), which every optimizer sees (K-FAC's quadratic model too). At the end of
// every epoch e ≥ `burnin` that is a multiple of `every`, a hook between steps
//   1. fits a Laplace posterior over `weights` at the current θ (laplace/fit.hpp: structure
//      kron or diag, curvature ggn, fisher or ef, a prior per layer or one scalar), on the
//      training examples;
//   2. maximizes log Z over log δ (and log σ²) from the current values, by the BFGS ascent of
//      Posterior::fit_prior to stationarity (Immer et al. take a fixed number of Adam steps
//      instead; both maximize the same log Z at the current θ);
//   3. sets the regularizer's strengths from the new δ (and σ²).
// Before the first fit the prior is δ = `prior_start` on every group (and σ² = 1). The log Z of
// every fit is recorded: the evidence of the trained model, for model selection without a
// validation set.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "curv/curvature/subset.hpp"
#include "curv/data/split.hpp"
#include "curv/laplace/fit.hpp"
#include "curv/nn/regularizer.hpp"
#include "curv/train/loop.hpp"

namespace curv::laplace {

struct OnlineMarglikOptions {
  index_t every = 1, burnin = 0;  // epochs between fits, and before the first
  // The weights the prior covers (ParamSubset::parse: all, or layer names — e.g. the linear
  // layers of a model whose LayerNorm gains a Kronecker posterior cannot take); the others are
  // trained without a prior.
  std::string weights = "all";
  std::string structure = "kron", curvature = "ggn", prior = "layer";
  double prior_start = 1;
  index_t batch = 128;  // examples per recorded batch of the curvature's pass
  std::uint64_t seed = 0;

  // Throws a one-line curv::Error naming the field and the accepted values.
  void validate() const;
};

struct MarglikFit {
  index_t step = 0;
  double log_marglik = 0;     // at the fitted δ (and σ²), the weights of that step
  std::vector<double> prior;  // δ per group
  double noise = 0;           // σ² (regression), 0 otherwise
  int prior_steps = 0;        // BFGS steps taken
};

template <class T>
class OnlineMarglik final : public TrainHook<T> {
 public:
  // `model` and `split` must outlive the hook; `examples` are the training examples and
  // `steps_per_epoch` the loop's.
  OnlineMarglik(const Model<T>& model, const Split<T>& split, std::vector<index_t> examples,
                index_t steps_per_epoch, OnlineMarglikOptions options);
  // The prior as a regularizer, to add to the training loop (RunHooks::regularizers).
  const Regularizer<T>& regularizer() const { return *prior_; }
  void after_step(ParamStore<T>& params, Optimizer<T>& opt) override;
  // One fit at the model's current weights, `step` recording when; sets the prior from it.
  const MarglikFit& fit(index_t step);
  const std::vector<MarglikFit>& history() const { return history_; }
  const std::vector<PriorGroup>& groups() const { return groups_; }

 private:
  void set_strengths();
  LaplaceSpec spec() const;  // the posterior of a fit, at the current δ (and σ)
  const Model<T>& model_;
  const Split<T>& split_;
  std::vector<index_t> examples_;
  index_t steps_per_epoch_, steps_ = 0;
  OnlineMarglikOptions opt_;
  bool regression_;
  ParamSubset subset_;  // the weights the prior covers
  std::vector<PriorGroup> groups_;
  std::vector<double> delta_;
  double sigma2_ = 1;
  std::unique_ptr<QuadraticRegularizer<T>> prior_;
  std::vector<MarglikFit> history_;
};

extern template class OnlineMarglik<float>;
extern template class OnlineMarglik<double>;

}  // namespace curv::laplace
