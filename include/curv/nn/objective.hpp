// Objective: a model, a loss and one batch — the function L(θ) = (1/N) Σₙ ℓₙ(f(xₙ; θ)) — and
// every product with its derivatives that curv's methods are built from. Conventions (docs/
// conventions.md): the per-example gradient is ∇ℓₙ, so the batch gradient is their mean; the
// output Hessian of the batch loss is block diagonal with blocks ∇²ℓₙ/N, so G = Jᵀ H_out J is
// the Gauss-Newton matrix of L itself.
//
// set_batch() records the forward pass once; every product after it reuses that recording
// (and the gradient's adjoints, once computed), which is how CG and Lanczos apply H or G many
// times to one batch. All vectors are flat parameter vectors in the ParamStore's order.
#pragma once

#include "curv/autodiff/tape.hpp"
#include "curv/loss/loss.hpp"
#include "curv/nn/model.hpp"
#include "curv/nn/regularizer.hpp"

namespace curv {

template <class T>
class Objective {
 public:
  Objective(const Model<T>& model, Loss<T>& loss) : model_(model), loss_(loss) {}

  // Records the forward pass on x:(N, input…) and evaluates the loss. x and the targets must
  // stay alive while this batch is in use. Returns L.
  double set_batch(View<const T> x, const Targets<T>& targets);
  // Records the forward pass of inputs without targets (points to predict): output(), jvp, vjp
  // and pullback work; the loss and every product that needs it throw a curv::Error.
  void record(View<const T> x);
  bool has_targets() const { return has_targets_; }

  double loss() const { return loss_value_; }
  // Records the forward pass of the same batch again, at the model's current parameters, and
  // returns the loss there (an optimizer's actual reduction after a step).
  double rerecord() { return set_batch(x_, targets_); }
  index_t examples() const { return tape_.examples(); }
  index_t parameters() const { return model_.params().size(); }
  index_t outputs() const { return tape_.shape(out_).numel() / examples(); }
  View<const T> output() const { return tape_.value(out_); }  // (N, C)
  const Loss<T>& loss_fn() const { return loss_; }
  const Model<T>& model() const { return model_; }
  // The recorded batch's first n examples (inputs and targets), to record them elsewhere.
  View<const T> inputs(index_t n) const;
  Targets<T> targets(index_t n) const;
  Tape<T>& tape() { return tape_; }
  Value output_value() const { return out_; }

  // g = ∇L (assigned, size P). Observers set on the tape see every layer's output gradient;
  // after_node(j) is called as the sweep finishes tape node j (Tape::reverse).
  void gradient(T* g, bool notify_observer = false,
                const std::function<void(std::size_t)>& after_node = {});
  // G:(N,P), row n = ∇ℓₙ (so the rows' mean is ∇L).
  void per_example_gradients(T* G);
  // out:(N,C) = J v, the outputs' directional derivative along v.
  void jvp(const T* v, T* out);
  // g:(P) = Jᵀ u for u:(N,C) (assigned).
  void vjp(const T* u, T* g);
  // The reverse sweep of an output cotangent u:(N,C), in the Aux bank so the gradient's cached
  // adjoints survive: parameter cotangents go to `dtheta` (accumulated: summed, per example or
  // not at all) and observers see every layer's (a, ȳ) if asked. Seeding u with a column of the
  // loss's square-root Hessian is how exact GGN diagonals and K-FAC factors are computed.
  // `wanted` (flat parameter offsets), if given, ends the sweep at the earliest op reading one of
  // them (Tape::first_node_reading): only those parameters' cotangents and layers' events are
  // then complete — a last layer's costs one layer's work, not a whole sweep.
  void pullback(const T* u, const ParamGrad<T>& dtheta, bool notify_observer = false,
                const std::function<bool(index_t)>& wanted = {});
  // out = H v, the exact Hessian of L times v (forward-over-reverse), assigned.
  void hvp(const T* v, T* out);
  // out = G v = Jᵀ H_out J v, assigned.
  void ggn_vp(const T* v, T* out);

  // The regularizers of the run this batch belongs to (the training loop sets them): an
  // optimizer with a quadratic model of h = L + Σ R adds their values and curvature products.
  void set_regularizers(std::vector<const Regularizer<T>*> r) { regularizers_ = std::move(r); }
  bool regularized() const { return !regularizers_.empty(); }
  // Σ R(θ) at the model's current parameters.
  double regularization() const;
  // out += Σ ∇²R(θ) v, for v and out of size P.
  void add_regularizer_curvature(const T* v, T* out) const;

 private:
  void ensure_gradient_adjoints();
  void forward(View<const T> x);
  void require_targets(const char* product) const;

  const Model<T>& model_;
  Loss<T>& loss_;
  Tape<T> tape_;
  Value out_;
  View<const T> x_;
  Targets<T> targets_;
  double loss_value_ = 0;
  bool adjoints_ready_ = false;  // Bank::Grad holds ∂L/∂v for this batch
  bool has_targets_ = false;
  std::vector<const Regularizer<T>*> regularizers_;
  mutable std::vector<T> reg_out_;
};

extern template class Objective<float>;
extern template class Objective<double>;

}  // namespace curv
