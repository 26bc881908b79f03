// Losses on model outputs z:(N, C) (trailing dims flattened into C), always the mean over the
// N examples of the batch:  L = (1/N) Σₙ ℓₙ(zₙ).
//
// Besides its value and gradient, a loss knows its output-space curvature, which every
// Gauss-Newton, Fisher and K-FAC computation is built from:
//   hvp                  (∂²L/∂z²) ż  — block diagonal over examples, block n is ∇²ℓₙ/N
//   sqrt_hessian         Sₙ:(C,K) with Sₙ Sₙᵀ = ∇²ℓₙ/N (a cheap closed-form factor)
//   symmetric_sqrt       the symmetric positive semi-definite square root of ∇²ℓₙ/N
//   sampled_sqrt         Sₙ:(C,M) from M labels drawn from the model's predictive distribution,
//                        with E[Sₙ Sₙᵀ] = ∇²ℓₙ/N (the Monte-Carlo Fisher)
// The three losses and their ℓₙ:
//   cross_entropy  softmax cross-entropy with integer labels: ℓₙ = −log softmax(zₙ)[yₙ]
//   bce            sigmoid binary cross-entropy, summed over the C outputs, targets in [0,1]
//   mse            ℓₙ = ½‖zₙ − yₙ‖²
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "curv/core/rng.hpp"
#include "curv/core/tensor.hpp"

namespace curv {

// Integer class labels (cross_entropy) or real targets shaped like z (bce, mse).
template <class T>
struct Targets {
  const std::int64_t* labels = nullptr;
  View<const T> values;
};

template <class T>
class Loss {
 public:
  virtual ~Loss() = default;
  virtual std::string_view name() const = 0;

  // Evaluates L at z (which must stay alive until the next forward) and keeps what the other
  // methods need. Throws curv::Error on targets that do not fit z.
  virtual double forward(View<const T> z, const Targets<T>& targets) = 0;
  // ℓₙ for every example (not divided by N).
  void per_example(T* out) const;
  // ∂L/∂z = ∇ℓₙ / N, assigned into dz:(N,C).
  virtual void grad(T* dz) const = 0;
  // out = (∂²L/∂z²) ż, assigned.
  virtual void hvp(const T* z_dot, T* out) const = 0;
  // Columns K of sqrt_hessian's factor (C for all three losses).
  virtual index_t sqrt_columns() const { return C_; }
  // s:(N,C,K), Sₙ Sₙᵀ = ∇²ℓₙ/N.
  virtual void sqrt_hessian(T* s) const = 0;
  // s:(N,C,C), symmetric, Sₙ² = ∇²ℓₙ/N (eigendecomposition of each block unless the loss
  // has a closed form).
  virtual void symmetric_sqrt(T* s) const;
  // s:(N,C,M), E[Sₙ Sₙᵀ] = ∇²ℓₙ/N over labels sampled from the model (M per example).
  virtual void sampled_sqrt(Rng& rng, index_t m, T* s) const = 0;

  index_t examples() const { return N_; }
  index_t outputs() const { return C_; }

 protected:
  void set_shape(const Shape& z);
  // The real-valued targets, checked to match z element for element.
  const T* target_values(View<const T> z, const Targets<T>& t) const;
  index_t N_ = 0, C_ = 0;
  std::vector<T> loss_;  // ℓₙ of the last forward
};

// "cross_entropy", "bce" or "mse"; throws curv::Error naming the known losses otherwise.
template <class T>
std::unique_ptr<Loss<T>> make_loss(std::string_view name);

}  // namespace curv
