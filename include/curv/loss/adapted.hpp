// Losses built from another loss, for objectives other than the plain training mean.
//
// WeightedLoss: L = (1/N) Σₙ wₙ ℓₙ(zₙ), wₙ >= 0 set per batch, the divisor N unchanged. With
// wₙ = 0 for a left-out example and 1 elsewhere, a mini-batch step on it is the step on the full
// training objective minus that example's term at the same 1/N weight (leave-one-out
// retraining, influence/retrain_warm.hpp). Every output-space product is the base's scaled by
// wₙ (hvp) or √wₙ (the square-root factors).
//
// BregmanLoss: ℓₙ(z) = D(zₙ, aₙ) = b(zₙ) − b(aₙ) − ∇b(aₙ)ᵀ(zₙ − aₙ), the Bregman divergence of
// the base loss b = ℓ(·, yₙ) in output space, from anchor outputs aₙ given as the targets'
// values (N, C). For curv's three losses (canonical-link: ℓ = A(z) − yᵀz + const) the label
// terms cancel, so D depends on z and a alone: KL(softmax(a) ‖ softmax(z)) for cross_entropy,
// ½‖z − a‖² for mse, the summed Bernoulli KL for bce. Its gradient is ∇b(z) − ∇b(a), zero at
// z = a; its output Hessian is the base's at z. This is the data term of the proximal Bregman
// response function (Bae et al. 2022), which influence functions linearize.
#pragma once

#include <memory>
#include <vector>

#include "curv/loss/loss.hpp"

namespace curv {

template <class T>
class WeightedLoss final : public Loss<T> {
 public:
  explicit WeightedLoss(std::unique_ptr<Loss<T>> base);
  std::string_view name() const override { return base_->name(); }
  // The next forward's wₙ, one per row, each finite and >= 0.
  void set_weights(std::vector<T> w);
  double forward(View<const T> z, const Targets<T>& targets) override;
  void grad(T* dz) const override;
  void hvp(const T* z_dot, T* out) const override;
  index_t sqrt_columns() const override { return base_->sqrt_columns(); }
  void sqrt_hessian(T* s) const override;
  void symmetric_sqrt(T* s) const override;
  void sampled_sqrt(Rng& rng, index_t m, T* s) const override;

 private:
  // Row n of a per-example stack of `row` entries times f(wₙ).
  void scale_rows(T* x, index_t row, bool root) const;
  std::unique_ptr<Loss<T>> base_;
  std::vector<T> w_;
};

template <class T>
class BregmanLoss final : public Loss<T> {
 public:
  // `base` and `anchor_copy` are two instances of the same loss (make_loss twice).
  BregmanLoss(std::unique_ptr<Loss<T>> base, std::unique_ptr<Loss<T>> anchor_copy);
  std::string_view name() const override { return "bregman"; }
  // targets.values: the anchors (N, C); targets.labels, if any, are passed to the base.
  double forward(View<const T> z, const Targets<T>& targets) override;
  void grad(T* dz) const override;
  void hvp(const T* z_dot, T* out) const override { base_->hvp(z_dot, out); }
  index_t sqrt_columns() const override { return base_->sqrt_columns(); }
  void sqrt_hessian(T* s) const override { base_->sqrt_hessian(s); }
  void symmetric_sqrt(T* s) const override { base_->symmetric_sqrt(s); }
  void sampled_sqrt(Rng& rng, index_t m, T* s) const override { base_->sampled_sqrt(rng, m, s); }

 private:
  std::unique_ptr<Loss<T>> base_, anchor_;
  std::vector<std::int64_t> labels_;  // zeros, for a base given no labels
  std::vector<T> zeros_;              // the base's real targets (any value: they cancel)
  std::vector<T> anchor_grad_;        // ∇b(aₙ)/N
};

// BregmanLoss of the loss `base_name` (cross_entropy, bce or mse).
template <class T>
std::unique_ptr<Loss<T>> make_bregman_loss(std::string_view base_name);

extern template class WeightedLoss<float>;
extern template class WeightedLoss<double>;
extern template class BregmanLoss<float>;
extern template class BregmanLoss<double>;

}  // namespace curv
