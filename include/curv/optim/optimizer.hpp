// Optimizer: one interface for every update rule, acting on the flat parameter vector and the
// flat gradient of the ParamStore. First-order rules live here; second-order ones (K-FAC,
// EK-FAC, FOOF, M-FAC) implement the same interface on top of the curvature toolkit.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "curv/nn/params.hpp"

namespace curv {

template <class T>
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual std::string name() const = 0;
  // θ ← update(θ, ∇L) using params.grad(); the learning rate may change between steps.
  virtual void step(ParamStore<T>& params) = 0;
  void set_lr(double lr) { lr_ = lr; }
  // Bytes of state kept between steps (momentum, moments).
  virtual std::size_t state_bytes() const { return 0; }
  double lr() const { return lr_; }

 protected:
  double lr_ = 0.1;
};

// SGD with (optionally Nesterov) momentum and L2 weight decay, PyTorch's formulation:
//   g ← ∇L + wd·θ,  b ← μ b + g,  θ ← θ − lr (Nesterov: g + μ b; else b)
template <class T>
std::unique_ptr<Optimizer<T>> make_sgd(double lr, double momentum = 0, bool nesterov = false,
                                       double weight_decay = 0);

// Adam with L2 weight decay added to the gradient, or AdamW (decoupled = true) with the weights
// decayed directly, θ ← θ(1 − lr·wd); PyTorch's defaults β = (0.9, 0.999), ε = 1e-8.
template <class T>
std::unique_ptr<Optimizer<T>> make_adam(double lr, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
                                        double weight_decay = 0, bool decoupled = false);

}  // namespace curv
