// M-FAC's optimizer (Frantar, Kurtic & Alistarh 2021, dynamic algorithm): each step pushes the
// gradient into a sliding window of the last m, preconditions it with the damped empirical
// Fisher of that window, F = λI + (1/m) Σ gᵢgᵢᵀ, in O(dm + m²) (curvature/lowrank.hpp), and takes
// an SGD-momentum step on the result.
#include <cmath>

#include "curv/core/error.hpp"
#include "curv/curvature/low_rank_operator.hpp"
#include "curv/curvature/lowrank.hpp"
#include "curv/optim/second_order.hpp"
#include "state.hpp"

namespace curv {
namespace {

template <class T>
class Mfac final : public Optimizer<T> {
 public:
  Mfac(double lr, const SecondOrderConfig& cfg) : cfg_(cfg) {
    CURV_CHECK(lr > 0, "mfac: expected lr > 0, found ", lr);
    CURV_CHECK(cfg.damping > 0, "mfac: expected damping > 0, found ", cfg.damping);
    CURV_CHECK(cfg.window >= 1, "mfac: expected a window of at least 1 gradient, found ",
               cfg.window);
    CURV_CHECK(cfg.momentum >= 0 && cfg.momentum < 1, "mfac: expected momentum in [0, 1), found ",
               cfg.momentum);
    CURV_CHECK(cfg.weight_decay >= 0, "mfac: expected weight decay >= 0, found ", cfg.weight_decay);
    this->lr_ = lr;
  }
  std::string name() const override { return "mfac"; }
  double damping() const override { return cfg_.damping; }
  OptimizerState<T> state() const override {
    OptimizerState<T> s;
    if (!momentum_.empty()) s.buffers["momentum_buffer"] = momentum_;
    s.complete = false;  // the window of past gradients is not part of it
    return s;
  }
  void load_state(const OptimizerState<T>&) override {
    fail("mfac: expected to start from an empty window, found a saved state to load (its window ",
         "of gradients is not saved; replay the run from its start)");
  }
  void apply_mask(std::span<const std::uint8_t> keep) override {
    detail::zero_masked(momentum_, keep);
  }
  std::size_t state_bytes() const override {
    const std::size_t m = std::size_t(cfg_.window), d = g_.size();
    return (m * d + 2 * m * m) * sizeof(double) + momentum_.size() * sizeof(T);
  }

  // F − λI = (1/m) Σ g gᵀ over the window (m its capacity, as in F itself).
  std::unique_ptr<LinearOperator> curvature() const override {
    CURV_CHECK(window_ && window_->count() > 0,
               "mfac: no curvature estimated yet (expected at least one step, found none)");
    return std::make_unique<LowRankOperator>(window_->window(), window_->count(), window_->size(),
                                             1.0 / double(window_->capacity()),
                                             std::vector<double>{}, "mfac");
  }

  void step(ParamStore<T>& p) override {
    const index_t P = p.size();
    if (!window_) {
      window_ = std::make_unique<DynamicMfac>(P, cfg_.window, cfg_.damping);
      g_.resize(std::size_t(P)), x_.resize(std::size_t(P)), momentum_.assign(std::size_t(P), T(0));
    }
    for (index_t i = 0; i < P; ++i)
      g_[i] = double(p.grad()[i]) + cfg_.weight_decay * double(p.data()[i]);
    ++k_;
    window_->push(g_.data());  // throws, naming the entry, on a non-finite gradient
    window_->inverse_mv(g_.data(), 0.0, x_.data());
    const T mu = T(cfg_.momentum), lr = T(this->lr_);
    for (index_t i = 0; i < P; ++i) {
      CURV_CHECK(std::isfinite(x_[i]),
                 "mfac: the preconditioned gradient became non-finite at step ", k_, " (entry ", i,
                 "): raise the damping");
      momentum_[i] = mu * momentum_[i] + T(x_[i]);
      p.data()[i] -= lr * momentum_[i];
    }
  }

 private:
  SecondOrderConfig cfg_;
  std::unique_ptr<DynamicMfac> window_;
  std::vector<double> g_, x_;
  std::vector<T> momentum_;
  index_t k_ = 0;
};

}  // namespace

template <class T>
std::unique_ptr<Optimizer<T>> make_mfac_optimizer(double lr, const SecondOrderConfig& cfg) {
  return std::make_unique<Mfac<T>>(lr, cfg);
}

template std::unique_ptr<Optimizer<float>> make_mfac_optimizer<float>(double,
                                                                      const SecondOrderConfig&);
template std::unique_ptr<Optimizer<double>> make_mfac_optimizer<double>(double,
                                                                        const SecondOrderConfig&);

}  // namespace curv
