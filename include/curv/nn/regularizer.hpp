// Regularizer: a term R(θ) that a training run adds to the data loss, so that the objective it
// minimizes is h(θ) = L(θ) + Σ R(θ). The training loop adds each term's value to the step's loss
// and its gradient to ∇L before the optimizer steps; an optimizer with a quadratic model of h
// (K-FAC's, optim/second_order.hpp) adds its curvature products ∇²R·v to the Gauss-Newton
// products of L — so elastic weight consolidation, a Laplace prior or a proximal term is seen by
// the curvature model as well as by the gradient.
#pragma once

#include <string>
#include <vector>

#include "curv/core/tensor.hpp"

namespace curv {

template <class T>
class Regularizer {
 public:
  virtual ~Regularizer() = default;
  virtual std::string name() const = 0;
  // R(θ) for the flat parameter vector θ.
  virtual double value(View<const T> theta) const = 0;
  // g ← ∇R(θ); the loop checks g.size() against the parameter count.
  virtual void gradient(View<const T> theta, std::vector<T>& g) const = 0;
  // out ← ∇²R(θ) v.
  virtual void curvature_mv(View<const T> theta, View<const T> v, std::vector<T>& out) const = 0;
};

// R(θ) = ½ Σᵢ dᵢ (θᵢ − cᵢ)²: a diagonal quadratic pull toward c with per-parameter strength d —
// weight decay (c = 0, d = η), a Gaussian prior, or EWC (d = λ·diag F, c = θ* of an earlier task).
template <class T>
class QuadraticRegularizer final : public Regularizer<T> {
 public:
  QuadraticRegularizer(std::vector<double> strength, std::vector<double> center,
                       std::string name = "quadratic");
  std::string name() const override { return name_; }
  // New strengths, as many as before, each >= 0: hyperparameters fitted during training (the
  // prior precisions of online marginal-likelihood training, laplace/online.hpp).
  void set_strength(std::vector<double> strength);
  const std::vector<double>& strength() const { return d_; }
  double value(View<const T> theta) const override;
  void gradient(View<const T> theta, std::vector<T>& g) const override;
  void curvature_mv(View<const T> theta, View<const T> v, std::vector<T>& out) const override;

 private:
  void check(View<const T> theta) const;
  std::vector<double> d_, c_;
  std::string name_;
};

extern template class QuadraticRegularizer<float>;
extern template class QuadraticRegularizer<double>;

}  // namespace curv
