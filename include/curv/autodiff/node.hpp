// The op contract. Every op is one class, in one file under src/ops/, holding its four passes
// side by side, and one builder function (declared in ops.hpp) that runs the forward pass and
// records the op on the tape.
//
// For an op y = f(x_1..x_k; θ) with Jacobians J_x = ∂y/∂x, J_θ = ∂y/∂θ:
//
//   forward   requires: inputs are values on the tape; θ lives in the flat parameter buffer.
//             ensures:  y is assigned; the op keeps only what the other passes need
//                       (views of its inputs/outputs, masks, im2col rows), never copies of θ.
//   vjp       given ȳ = ∂L/∂y:  x̄_i += J_xᵢᵀ ȳ  (accumulate: shared inputs and residual adds
//             sum their contributions) and θ̄ += J_θᵀ ȳ, either summed over the batch or kept per
//             example (ParamGrad). An absent x̄_i (empty view) is not computed.
//             An op may declare assigns_fresh_adjoints(): then, for an input whose adjoint no
//             other op has written yet in this sweep, dx_assign[i] is set, x̄_i holds garbage,
//             and the op assigns x̄_i = J_xᵢᵀ ȳ (every entry) instead of adding — which saves the
//             tape zeroing the buffer first. Ops that do not declare it always accumulate.
//   jvp       given tangents ẋ_i, θ̇:  ẏ = Σ J_xᵢ ẋ_i + J_θ θ̇  (assigned). An absent ẋ_i is zero;
//             a null θ̇ is zero. This is Pearlmutter's R-operator: ẏ = R{y}.
//   vjp_rop   the R-operator of the vjp, given ȳ, R{ȳ}, ẋ_i, θ̇:
//               R{x̄_i} += J_xᵢᵀ R{ȳ} + (∂/∂ε J_xᵢ(x+εẋ, θ+εθ̇)ᵀ) ȳ,   and likewise R{θ̄}
//             (summed over the batch), with dx_dot_assign as dx_assign above. Sweeping jvp forward
//             and then vjp_rop backward gives the exact Hessian-vector product H·θ̇ (Pearlmutter
//             1994), with no finite differences.
//
// An op that reads parameters names their offsets in parameter_offsets(), so that a sweep over
// some parameters can stop at the earliest op reading one (the checker's "params_named" row).
//
// Elementwise ops share one local derivative f'(x) between vjp and jvp; linear maps use their
// forward as their jvp (what PyTorch's derivatives.yaml calls auto_element_wise / auto_linear).
// The float64 finite-difference checker (check/, `curv check`) checks all four passes of every op.
#pragma once

#include <array>
#include <string_view>
#include <utility>
#include <vector>

#include "curv/core/tensor.hpp"

namespace curv {

inline constexpr int kMaxInputs = 3;

// A parameter tensor as an op sees it: its current value and its offset in the flat parameter
// vector (where its gradient, its tangent and its curvature products live).
template <class T>
struct ParamRef {
  View<const T> value;
  index_t offset = -1;
  bool empty() const { return value.empty(); }
  index_t numel() const { return value.numel(); }
};

template <class T>
class LayerObserver;

// Where parameter gradients go in a vjp sweep.
template <class T>
struct ParamGrad {
  enum class Mode { None, Sum, PerExample };
  Mode mode = Mode::None;
  T* data = nullptr;   // Sum: flat [P]; PerExample: [N, stride], row n = ∇ℓₙ
  index_t stride = 0;  // PerExample: the row length (P, or the subset's size)
  // PerExample over a parameter subset: (offset in the flat vector, column in a row) of each
  // parameter in it. Null: every parameter at its own offset.
  const std::vector<std::pair<index_t, index_t>>* columns = nullptr;

  static ParamGrad none() { return {}; }
  static ParamGrad sum(T* g) { return {Mode::Sum, g, 0}; }
  static ParamGrad per_example(T* g, index_t p) { return {Mode::PerExample, g, p}; }
  static ParamGrad per_example(T* g, index_t row,
                               const std::vector<std::pair<index_t, index_t>>* columns) {
    return {Mode::PerExample, g, row, columns};
  }
  // Where the parameter at flat `offset` writes within data (Sum) or a row (PerExample): its
  // offset, its subset column, or -1 when it is outside the subset (its gradient is skipped).
  index_t column(index_t offset) const {
    if (!columns) return offset;
    for (const auto& [o, c] : *columns)
      if (o == offset) return c;
    return -1;
  }
};

template <class T>
struct VjpArgs {
  View<const T> dy;                          // ȳ
  std::array<View<T>, kMaxInputs> dx{};      // x̄_i, accumulated; empty = not wanted
  std::array<bool, kMaxInputs> dx_assign{};  // x̄_i is fresh: assign (see the contract)
  ParamGrad<T> dtheta;                       // θ̄
  LayerObserver<T>* observer = nullptr;      // parameterized layers report (a, ȳ) here
};

template <class T>
struct JvpArgs {
  std::array<View<const T>, kMaxInputs> x_dot{};  // ẋ_i; empty = zero
  const T* theta_dot = nullptr;                   // flat θ̇; null = zero
  View<T> y_dot;                                  // ẏ, assigned
};

template <class T>
struct VjpRopArgs {
  View<const T> dy, dy_dot;                       // ȳ and R{ȳ}
  std::array<View<const T>, kMaxInputs> x_dot{};  // ẋ_i; empty = zero
  const T* theta_dot = nullptr;                   // flat θ̇; null = zero
  std::array<View<T>, kMaxInputs> dx_dot{};       // R{x̄_i}, accumulated; empty = not wanted
  std::array<bool, kMaxInputs> dx_dot_assign{};   // R{x̄_i} is fresh: assign
  T* dtheta_dot = nullptr;                        // flat R{θ̄}, accumulated; null = not wanted
};

// What a parameterized affine layer shows observers (K-FAC statistics, per-layer norms):
// the layer maps each row aᵣ of its input to W aᵣ + b, so a (R, fan_in) and the output adjoint
// g (R, fan_out) determine its gradient, Σᵣ gᵣ aᵣᵀ. For linear layers the rows are examples
// (and tokens); for conv2d they are im2col patches, one per output position (KFC).
template <class T>
struct LayerEvent {
  std::string_view kind;       // "linear", "conv2d"
  index_t weight_offset = -1;  // identifies the layer: its weight's place in the flat vector
  index_t bias_offset = -1;    // -1 when the layer has no bias
  View<const T> a;             // (R, fan_in)
  View<const T> g;             // (R, fan_out); empty in forward events and for observers
                               // that do not read it (LayerObserver::reads_output_adjoints)
  index_t rows_per_example = 1;
  index_t fan_out = 0;  // the layer's output width, given whether or not g is
};

template <class T>
class LayerObserver {
 public:
  virtual ~LayerObserver() = default;
  virtual void on_forward(const LayerEvent<T>&) {}
  virtual void on_backward(const LayerEvent<T>&) {}
  // Whether on_backward reads g. Layers whose g must be rearranged into rows (conv2d) skip
  // that work when it does not: FOOF's statistics need only the inputs a.
  virtual bool reads_output_adjoints() const { return true; }
  // Whether this observer wants the events of a layer (its kind, its weight's offset): layers
  // build no event for observers that do not — conv2d's patch rows cost a forward pass's im2col.
  virtual bool observes(std::string_view /*kind*/, index_t /*weight_offset*/) const { return true; }
};

template <class T>
class Node {
 public:
  virtual ~Node() = default;
  virtual std::string_view name() const = 0;
  virtual void vjp(const VjpArgs<T>&) = 0;
  virtual void jvp(const JvpArgs<T>&) = 0;
  virtual void vjp_rop(const VjpRopArgs<T>&) = 0;
  // True if the op honours dx_assign / dx_dot_assign (see the contract above).
  virtual bool assigns_fresh_adjoints() const { return false; }
  // The flat offsets of the parameters the op reads (weight, bias), -1 for none: what lets a
  // sweep over some parameters stop below the earliest op that reads one (Tape::reverse).
  virtual std::array<index_t, 2> parameter_offsets() const { return {-1, -1}; }

  // Set by the tape when the node is recorded.
  std::array<int, kMaxInputs> inputs{-1, -1, -1};
  int num_inputs = 0;
  int output = -1;
};

}  // namespace curv
