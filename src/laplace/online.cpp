#include "curv/laplace/online.hpp"

#include <cmath>

#include "curv/core/error.hpp"
#include "curv/curvature/subset.hpp"

namespace curv::laplace {

void OnlineMarglikOptions::validate() const {
  CURV_CHECK(every >= 1 && burnin >= 0, "marglik: expected fits every >= 1 epochs after a ",
             "burn-in >= 0, found every ", every, " and burn-in ", burnin);
  check_one_of(structure, {"kron", "diag", "full"}, "marglik", "a structure");
  check_one_of(curvature, {"ggn", "fisher", "ef"}, "marglik", "a curvature");
  check_one_of(prior, {"scalar", "layer"}, "marglik", "a prior");
  CURV_CHECK(std::isfinite(prior_start) && prior_start > 0,
             "marglik: expected a prior start > 0, found ", prior_start);
  CURV_CHECK(batch >= 1, "marglik: expected a batch >= 1, found ", batch);
}

template <class T>
OnlineMarglik<T>::OnlineMarglik(const Model<T>& model, const Split<T>& split,
                                std::vector<index_t> examples, index_t steps_per_epoch,
                                OnlineMarglikOptions options)
    : model_(model),
      split_(split),
      examples_(std::move(examples)),
      steps_per_epoch_(steps_per_epoch),
      opt_(std::move(options)),
      regression_(model.loss() == "mse") {
  opt_.validate();
  CURV_CHECK(!examples_.empty() && steps_per_epoch_ >= 1, "marglik: expected training examples ",
             "and >= 1 step per epoch, found ", examples_.size(), " and ", steps_per_epoch_);
  CURV_CHECK(regression_ || model.loss() == "cross_entropy", "marglik: expected a model trained ",
             "with cross_entropy or mse, found ", model.loss());
  // What fit_posterior would refuse at the first fit, refused before any training.
  CURV_CHECK(!regression_ || opt_.curvature != "ef", "marglik: a Gaussian likelihood scales the ",
             "curvature by 1/σ², which the empirical Fisher does not follow: expected ggn or ",
             "fisher for an mse model, found ef");
  subset_ = ParamSubset::parse(opt_.weights, model.params().info());
  CURV_CHECK(opt_.structure != "full" || subset_.size() <= LaplaceSpec{}.max_full,
             "marglik: a full structure over ", subset_.size(), " weights would build a ",
             subset_.size(), "² matrix: expected at most ", LaplaceSpec{}.max_full,
             " weights (use kron or diag)");
  groups_ = prior_groups(subset_, opt_.prior);
  delta_.assign(groups_.size(), opt_.prior_start);
  // A posterior of this kind on one example, before any training: what the fits would refuse
  // (a Kronecker structure over a LayerNorm's gains, say) is refused now, not after the burn-in.
  fit_posterior(model_, split_, {examples_.front()}, spec());
  const auto P = std::size_t(model.params().size());
  prior_ = std::make_unique<QuadraticRegularizer<T>>(std::vector<double>(P, 0.0),
                                                     std::vector<double>(P, 0.0), "marglik prior");
  set_strengths();
}

template <class T>
void OnlineMarglik<T>::set_strengths() {
  // ½ (s·δ_g/N) ‖θ_g‖² per group: the negative log prior on the mean loss's scale.
  const double scale = (regression_ ? sigma2_ : 1.0) / double(examples_.size());
  std::vector<double> d(std::size_t(subset_.size())), full(prior_->strength().size());
  for (std::size_t g = 0; g < groups_.size(); ++g)
    std::fill_n(d.begin() + groups_[g].begin, groups_[g].size, scale * delta_[g]);
  subset_.scatter(d.data(), full.data());  // no prior outside the subset
  prior_->set_strength(std::move(full));
}

template <class T>
void OnlineMarglik<T>::after_step(ParamStore<T>& /*params*/, Optimizer<T>& /*opt*/) {
  ++steps_;
  if (steps_ % steps_per_epoch_ != 0) return;
  const index_t epoch = steps_ / steps_per_epoch_;
  if (epoch >= opt_.burnin && epoch % opt_.every == 0) fit(steps_);
}

template <class T>
LaplaceSpec OnlineMarglik<T>::spec() const {
  LaplaceSpec s;
  s.weights = opt_.weights, s.structure = opt_.structure, s.curvature = opt_.curvature;
  s.prior = opt_.prior, s.batch = opt_.batch, s.seed = opt_.seed;
  s.prior_precision = delta_.empty() ? opt_.prior_start : delta_.front();  // given: no fit here
  if (regression_) s.noise = std::sqrt(sigma2_);
  return s;
}

template <class T>
const MarglikFit& OnlineMarglik<T>::fit(index_t step) {
  auto post = fit_posterior(model_, split_, examples_, spec());  // then fitted from every δ_g
  post->set_prior(delta_);
  MarglikFit f;
  f.step = step;
  f.prior_steps = post->fit_prior(100, 1e-6, {}, regression_);
  delta_ = post->prior();
  if (regression_) sigma2_ = post->noise();
  f.log_marglik = post->log_marglik(), f.prior = delta_, f.noise = regression_ ? sigma2_ : 0;
  set_strengths();
  history_.push_back(std::move(f));
  return history_.back();
}

template class OnlineMarglik<float>;
template class OnlineMarglik<double>;

}  // namespace curv::laplace
