// LAMB (You et al. 2019, "Large batch optimization for deep learning: training BERT in 76
// minutes"): Adam's direction plus decoupled weight decay, scaled per tensor by the trust ratio:
//   m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  m̂ = m/(1−β₁ᵗ),  v̂ = v/(1−β₂ᵗ)
//   r = m̂/(√v̂ + ε) + wd·w,  ρ = η‖w‖ / ‖r‖,  w ← w − lr·ρ·r
// (equations and exclusions in include/curv/optim/optimizer.hpp).
#include <cmath>

#include "curv/core/error.hpp"
#include "curv/optim/optimizer.hpp"
#include "layerwise.hpp"
#include "state.hpp"

namespace curv {
namespace {

template <class T>
class Lamb final : public detail::MomentState<T> {
  using detail::MomentState<T>::m_;
  using detail::MomentState<T>::v_;
  using detail::MomentState<T>::t_;

 public:
  Lamb(double lr, double beta1, double beta2, double eps, double wd, double trust, bool exclude_1d)
      : b1_(beta1), b2_(beta2), eps_(eps), wd_(wd), trust_(trust), exclude_1d_(exclude_1d) {
    CURV_CHECK(lr > 0, "lamb: expected lr > 0, found ", lr);
    CURV_CHECK(trust > 0, "lamb: expected a trust coefficient > 0, found ", trust);
    CURV_CHECK(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1,
               "lamb: expected betas in [0,1), found ", beta1, ",", beta2);
    CURV_CHECK(eps > 0, "lamb: expected eps > 0, found ", eps);
    CURV_CHECK(wd >= 0, "lamb: expected weight decay >= 0, found ", wd);
    this->lr_ = lr;
  }
  std::string name() const override { return "lamb"; }
  void step(ParamStore<T>& p) override {
    const auto n = static_cast<std::size_t>(p.size());
    if (m_.size() != n) m_.assign(n, T(0)), v_.assign(n, T(0)), t_ = 0;
    ++t_;
    for (index_t k = 0; k < p.count(); ++k) {
      const ParamInfo& info = p.info(k);
      const index_t at = info.offset;
      step_tensor(info.shape.numel(), p.data() + at, p.grad() + at, m_.data() + at, v_.data() + at,
                  detail::takes_trust_ratio(info, exclude_1d_));
    }
  }

 private:
  // Two passes: the first updates the moments and sums ‖w‖² and ‖r‖², the second recomputes
  // r (the same arithmetic on the same values) and moves w. Recomputing costs a division and a
  // root per entry but no P-sized buffer for r.
  void step_tensor(index_t n, T* w, const T* g, T* m, T* v, bool layerwise) const {
    const T rc1 = T(1 / (1 - std::pow(b1_, double(t_))));
    const T rc2 = T(1 / (1 - std::pow(b2_, double(t_))));
    const T b1 = T(b1_), b2 = T(b2_), eps = T(eps_), decay = T(layerwise ? wd_ : 0);
    const auto direction = [&](index_t i) {
      return m[i] * rc1 / (std::sqrt(v[i] * rc2) + eps) + decay * w[i];
    };
    const auto [ww, rr] = detail::blockwise_sums<2>(n, [&](index_t lo, index_t hi) {
      double sw = 0, sr = 0;
      for (index_t i = lo; i < hi; ++i) {
        m[i] = b1 * m[i] + (T(1) - b1) * g[i];
        v[i] = b2 * v[i] + (T(1) - b2) * g[i] * g[i];
        if (!layerwise) continue;
        const double r = double(direction(i));
        sw += double(w[i]) * double(w[i]), sr += r * r;
      }
      return std::array<double, 2>{sw, sr};
    });
    const double rho = layerwise ? detail::trust_ratio(trust_, std::sqrt(ww), std::sqrt(rr)) : 1;
    const T rate = T(this->lr_ * rho);
    parallel_for(n, kElementwiseGrain, [&](index_t lo, index_t hi) {  // memory-bound: split it
      for (index_t i = lo; i < hi; ++i) w[i] -= rate * direction(i);
    });
  }

  double b1_, b2_, eps_, wd_, trust_;
  bool exclude_1d_;
};

}  // namespace

template <class T>
std::unique_ptr<Optimizer<T>> make_lamb(double lr, double beta1, double beta2, double eps,
                                        double weight_decay, double trust, bool exclude_1d) {
  return std::make_unique<Lamb<T>>(lr, beta1, beta2, eps, weight_decay, trust, exclude_1d);
}

template std::unique_ptr<Optimizer<float>> make_lamb<float>(double, double, double, double, double,
                                                            double, bool);
template std::unique_ptr<Optimizer<double>> make_lamb<double>(double, double, double, double,
                                                              double, double, bool);

}  // namespace curv
