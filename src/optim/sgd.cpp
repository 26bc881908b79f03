#include "curv/core/error.hpp"
#include "curv/kernels/parallel.hpp"
#include "curv/optim/optimizer.hpp"
#include "state.hpp"

namespace curv {
namespace {

template <class T>
class Sgd final : public detail::HeavyBallState<T> {
  using detail::HeavyBallState<T>::buf_;

 public:
  Sgd(double lr, double momentum, bool nesterov, double wd)
      : mu_(momentum), nesterov_(nesterov), wd_(wd) {
    CURV_CHECK(lr > 0 && momentum >= 0 && momentum < 1 && wd >= 0,
               "sgd: expected lr > 0, 0 <= momentum < 1, ", "weight decay >= 0, found lr ", lr,
               " momentum ", momentum, " weight decay ", wd);
    CURV_CHECK(!nesterov || momentum > 0, "sgd: expected momentum > 0 with Nesterov, found ",
               momentum);
    this->lr_ = lr;
  }
  std::string name() const override { return "sgd"; }
  double momentum() const override { return mu_; }
  void set_momentum(double momentum) override {
    CURV_CHECK(momentum >= 0 && momentum < 1 && (!nesterov_ || momentum > 0),
               "sgd: expected momentum in [0, 1) (> 0 with Nesterov), found ", momentum);
    mu_ = momentum;
  }

  void step(ParamStore<T>& p) override {
    const index_t n = p.size();
    T* theta = p.data();
    const T* g = p.grad();
    if (mu_ > 0 && buf_.size() != static_cast<std::size_t>(n))
      buf_.assign(static_cast<std::size_t>(n), T(0));
    const T lr = T(this->lr_), mu = T(mu_), wd = T(wd_);
    T* b = buf_.data();
    // Separate loops per variant keep each one branch-free and vectorized; the update is
    // memory-bound, so large models split it across threads (elementwise: no effect on results).
    parallel_for(n, kElementwiseGrain, [&](index_t lo, index_t hi) {
      if (mu_ == 0) {
        for (index_t i = lo; i < hi; ++i) theta[i] -= lr * (g[i] + wd * theta[i]);
      } else if (!nesterov_) {
        for (index_t i = lo; i < hi; ++i) {
          b[i] = mu * b[i] + g[i] + wd * theta[i];
          theta[i] -= lr * b[i];
        }
      } else {
        for (index_t i = lo; i < hi; ++i) {
          const T d = g[i] + wd * theta[i];
          b[i] = mu * b[i] + d;
          theta[i] -= lr * (d + mu * b[i]);
        }
      }
    });
  }

 private:
  double mu_;
  bool nesterov_;
  double wd_;
};

}  // namespace

template <class T>
std::unique_ptr<Optimizer<T>> make_sgd(double lr, double momentum, bool nesterov,
                                       double weight_decay) {
  return std::make_unique<Sgd<T>>(lr, momentum, nesterov, weight_decay);
}

template std::unique_ptr<Optimizer<float>> make_sgd<float>(double, double, bool, double);
template std::unique_ptr<Optimizer<double>> make_sgd<double>(double, double, bool, double);

}  // namespace curv
