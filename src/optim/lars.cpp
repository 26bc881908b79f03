// LARS (You, Gitman & Ginsburg 2017, "Large batch training of convolutional networks"): SGD
// with momentum whose rate is scaled per tensor by the trust ratio, so each layer moves by
// about η·lr of its own norm per step, whatever its gradient's scale:
//   d = g + wd·w,  ρ = η‖w‖ / (‖g‖ + wd‖w‖),  v ← μv + lr·ρ·d,  w ← w − v
// (equations and exclusions in include/curv/optim/optimizer.hpp).
#include <cmath>

#include "curv/core/error.hpp"
#include "curv/optim/optimizer.hpp"
#include "layerwise.hpp"
#include "state.hpp"

namespace curv {
namespace {

template <class T>
class Lars final : public detail::HeavyBallState<T> {
  using detail::HeavyBallState<T>::buf_;

 public:
  Lars(double lr, double momentum, double wd, double trust, bool exclude_1d)
      : mu_(momentum), wd_(wd), trust_(trust), exclude_1d_(exclude_1d) {
    CURV_CHECK(lr > 0, "lars: expected lr > 0, found ", lr);
    CURV_CHECK(trust > 0, "lars: expected a trust coefficient > 0, found ", trust);
    CURV_CHECK(momentum >= 0 && momentum < 1, "lars: expected 0 <= momentum < 1, found ", momentum);
    CURV_CHECK(wd >= 0, "lars: expected weight decay >= 0, found ", wd);
    this->lr_ = lr;
  }
  std::string name() const override { return "lars"; }
  double momentum() const override { return mu_; }
  void set_momentum(double momentum) override {
    CURV_CHECK(momentum >= 0 && momentum < 1, "lars: expected 0 <= momentum < 1, found ", momentum);
    mu_ = momentum;
  }

  void step(ParamStore<T>& p) override {
    if (mu_ > 0 && buf_.size() != static_cast<std::size_t>(p.size()))
      buf_.assign(static_cast<std::size_t>(p.size()), T(0));
    for (index_t k = 0; k < p.count(); ++k) {
      const ParamInfo& info = p.info(k);
      T* w = p.data() + info.offset;
      const T* g = p.grad() + info.offset;
      T* v = mu_ > 0 ? buf_.data() + info.offset : nullptr;
      step_tensor(info.shape.numel(), w, g, v, detail::takes_trust_ratio(info, exclude_1d_));
    }
  }

 private:
  void step_tensor(index_t n, T* w, const T* g, T* v, bool layerwise) const {
    const double wd = layerwise ? wd_ : 0;
    double rho = 1;
    if (layerwise) {
      const auto [ww, gg] = detail::blockwise_sums<2>(n, [&](index_t lo, index_t hi) {
        double sw = 0, sg = 0;
        for (index_t i = lo; i < hi; ++i)
          sw += double(w[i]) * double(w[i]), sg += double(g[i]) * double(g[i]);
        return std::array<double, 2>{sw, sg};
      });
      const double wn = std::sqrt(ww), gn = std::sqrt(gg);
      rho = detail::trust_ratio(trust_, wn, gn + wd * wn);
    }
    const T rate = T(this->lr_ * rho), decay = T(wd), mu = T(mu_);
    parallel_for(n, kElementwiseGrain, [&](index_t lo, index_t hi) {  // memory-bound: split it
      if (v == nullptr) {
        for (index_t i = lo; i < hi; ++i) w[i] -= rate * (g[i] + decay * w[i]);
        return;
      }
      for (index_t i = lo; i < hi; ++i) {
        v[i] = mu * v[i] + rate * (g[i] + decay * w[i]);
        w[i] -= v[i];
      }
    });
  }

  double mu_, wd_, trust_;
  bool exclude_1d_;
};

}  // namespace

template <class T>
std::unique_ptr<Optimizer<T>> make_lars(double lr, double momentum, double weight_decay,
                                        double trust, bool exclude_1d) {
  return std::make_unique<Lars<T>>(lr, momentum, weight_decay, trust, exclude_1d);
}

template std::unique_ptr<Optimizer<float>> make_lars<float>(double, double, double, double, bool);
template std::unique_ptr<Optimizer<double>> make_lars<double>(double, double, double, double, bool);

}  // namespace curv
