// Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019), PyTorch's formulation:
//   g ← ∇L (+ wd·θ for Adam's L2 form),  m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²
//   θ ← θ − lr · m̂ / (√v̂ + ε),  m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ)
//   AdamW first decays the weights: θ ← θ − lr·wd·θ.
#include <cmath>

#include "curv/core/error.hpp"
#include "curv/kernels/parallel.hpp"
#include "curv/optim/optimizer.hpp"
#include "state.hpp"

namespace curv {
namespace {

template <class T>
class Adam final : public detail::MomentState<T> {
  using detail::MomentState<T>::m_;
  using detail::MomentState<T>::v_;
  using detail::MomentState<T>::t_;

 public:
  Adam(double lr, double beta1, double beta2, double eps, double wd, bool decoupled)
      : b1_(beta1), b2_(beta2), eps_(eps), wd_(wd), decoupled_(decoupled) {
    CURV_CHECK(lr > 0 && beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1 && eps > 0 && wd >= 0,
               decoupled ? "adamw" : "adam",
               ": expected lr > 0, betas in [0,1), eps > 0, weight decay >= 0, found lr ", lr,
               " betas ", beta1, ",", beta2, " eps ", eps, " weight decay ", wd);
    this->lr_ = lr;
  }
  std::string name() const override { return decoupled_ ? "adamw" : "adam"; }
  void step(ParamStore<T>& p) override {
    const index_t n = p.size();
    if (m_.size() != static_cast<std::size_t>(n))
      m_.assign(std::size_t(n), T(0)), v_.assign(std::size_t(n), T(0)), t_ = 0;
    ++t_;
    const double c1 = 1 - std::pow(b1_, double(t_)), c2 = 1 - std::pow(b2_, double(t_));
    // θ ← θ − (lr/c₁) m / (√v/√c₂ + ε), PyTorch's arrangement of the bias corrections.
    const T step = T(this->lr_ / c1), eps = T(eps_), rc2 = T(1 / std::sqrt(c2));
    const T b1 = T(b1_), b2 = T(b2_), l2 = decoupled_ ? T(0) : T(wd_),
            decay = decoupled_ ? T(1 - this->lr_ * wd_) : T(1);
    T* theta = p.data();
    const T* grad = p.grad();
    T *m = m_.data(), *v = v_.data();
    parallel_for(n, kElementwiseGrain, [&](index_t lo, index_t hi) {  // memory-bound: split it
      for (index_t i = lo; i < hi; ++i) {
        const T g = grad[i] + l2 * theta[i];
        m[i] = b1 * m[i] + (T(1) - b1) * g;
        v[i] = b2 * v[i] + (T(1) - b2) * g * g;
        theta[i] = decay * theta[i] - step * m[i] / (std::sqrt(v[i]) * rc2 + eps);
      }
    });
  }

 private:
  double b1_, b2_, eps_, wd_;
  bool decoupled_;
};

}  // namespace

template <class T>
std::unique_ptr<Optimizer<T>> make_adam(double lr, double beta1, double beta2, double eps,
                                        double weight_decay, bool decoupled) {
  return std::make_unique<Adam<T>>(lr, beta1, beta2, eps, weight_decay, decoupled);
}

template std::unique_ptr<Optimizer<float>> make_adam<float>(double, double, double, double, double,
                                                            bool);
template std::unique_ptr<Optimizer<double>> make_adam<double>(double, double, double, double,
                                                              double, bool);

}  // namespace curv
