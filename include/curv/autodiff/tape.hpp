// Tape: a Wengert list of recorded ops over a general graph (shared inputs, residual adds,
// several outputs), and the sweeps that run their passes:
//
//   record   builders in ops.hpp run forward and append a node (the forward sweep)
//   reverse  vjp of every node, last to first: adjoints ∂L/∂v, parameter gradients
//   tangents jvp of every node, first to last: R{v} for a parameter tangent θ̇
//   reverse_rop   vjp_rop, last to first: R{∂L/∂v} and R{θ̄}, which is H·θ̇
//
// Every value has up to four buffers: its value, its adjoint in one of two banks (Grad holds
// ∂L/∂v of the loss; Aux holds any other cotangent, such as Jᵀu or the H_out J v of a
// Gauss-Newton product, so such products never overwrite a cached gradient), its tangent R{v},
// and its R-adjoint R{∂L/∂v}. All come from one arena and live until clear().
//
// Adjoint buffers are not zeroed up front: a sweep hands each one to its first writer, which
// assigns it if the op can (see assigns_fresh_adjoints in node.hpp) or gets it zeroed first.
//
// Only values that depend on the parameters (or on an input marked differentiable) get
// adjoints and tangents; the others are constants to every sweep, which is what lets products
// skip work on the data input exactly as a hand-written backward would.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "curv/autodiff/node.hpp"
#include "curv/core/arena.hpp"

namespace curv {

struct Value {
  int id = -1;
  bool valid() const { return id >= 0; }
};

enum class Bank { Grad = 0, Aux = 1 };

template <class T>
class Tape {
 public:
  Tape() = default;
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;

  // Drops every value and node; memory is kept for the next recording.
  void clear();

  // A leaf: x is referenced, not copied, and must outlive the recording. Its leading dimension
  // is the number of examples N (the first input fixes it for the tape).
  Value input(View<const T> x, bool differentiable = false);

  // --- for op builders ---------------------------------------------------------------------
  Value new_value(Shape s, bool depends);  // uninitialized storage from the arena
  Value alias(Value v, Shape s);           // same storage, another shape (reshape)
  View<T> scratch(Shape s) { return arena_.alloc_view<T>(s); }  // lives until clear()
  void record(std::unique_ptr<Node<T>> node, std::initializer_list<Value> inputs, Value output);
  LayerObserver<T>* observer() const { return observer_; }

  // --- inspection ----------------------------------------------------------------------------
  View<T> value(Value v) const { return slots_[idx(v)].value; }
  Shape shape(Value v) const { return slots_[idx(v)].value.shape; }
  bool depends(Value v) const { return slots_[idx(v)].depends; }
  index_t examples() const { return examples_; }
  std::size_t size() const { return nodes_.size(); }
  // Bytes held for values, adjoints, tangents and saved contexts (the arena's capacity).
  std::size_t memory_bytes() const { return arena_.capacity(); }
  const Node<T>& node(std::size_t i) const { return *nodes_[i]; }

  // The observer that parameterized layers report to (forward events while recording,
  // backward events during reverse sweeps that ask for them).
  void set_observer(LayerObserver<T>* o) { observer_ = o; }

  // --- sweeps --------------------------------------------------------------------------------
  // Starts a reverse sweep in `bank` and returns the adjoint of `out`, which the caller must
  // assign entirely (the seed, e.g. the loss gradient). Every other adjoint starts empty.
  View<T> seed(Value out, Bank bank);
  // After a sweep: the adjoint of v (zero if nothing reached it).
  View<T> adjoint(Value v, Bank bank) const;
  // Between seed() and reverse(): v's adjoint for the caller to pre-fill; the sweep adds to it.
  View<T> preset_adjoint(Value v, Bank bank);
  // Test support (dlib's trick): fills every adjoint not yet written in this sweep with `v`, so
  // an op that assigns a fresh adjoint only partly shows up as non-finite entries.
  void poison_fresh(Bank bank, T v);
  void poison_fresh_radjoints(T v);
  // vjp of every node after seed(); parameter gradients go to `dtheta` (accumulated). With
  // stop > 0 the sweep ends at node `stop` (see first_node_reading), which computes its
  // parameters' gradients but passes nothing down: the nodes below it are not visited, and the
  // adjoints of the values below it mean nothing. after_node(j), if given, is called once node
  // j's vjp is done: a data-parallel run starts summing the gradients that are complete.
  void reverse(Bank bank, const ParamGrad<T>& dtheta, bool notify_observer = false,
               std::size_t stop = 0, const std::function<void(std::size_t)>& after_node = {});
  // The earliest node that reads a parameter whose flat offset is `wanted`: a sweep for those
  // parameters alone (their gradients, their layers' observer events) may stop there. 0 when
  // none does, or when an input is differentiable (its adjoint needs the whole sweep).
  std::size_t first_node_reading(const std::function<bool(index_t offset)>& wanted) const;

  // jvp of every node for the parameter tangent θ̇ (flat, may be null) and the tangents of
  // differentiable inputs (set through input_tangent(); zero unless set).
  View<T> input_tangent(Value v);
  void tangents(const T* theta_dot);
  View<T> tangent(Value v) const { return slots_[idx(v)].tangent; }

  // Starts an R-adjoint sweep and returns the R-adjoint of `out`, which the caller must assign
  // entirely: R{∂L/∂out} = H_out · R{out}.
  View<T> seed_rop(Value out);
  View<T> radjoint(Value v) const { return slots_[idx(v)].radjoint; }
  // vjp_rop of every node; needs reverse(Bank::Grad) and tangents() for the same θ̇ first.
  // R{θ̄} is accumulated into dtheta_dot (flat, may be null).
  void reverse_rop(const T* theta_dot, T* dtheta_dot);

 private:
  struct Slot {
    View<T> value;
    View<T> adjoint[2];
    View<T> tangent;
    View<T> radjoint;
    bool fresh[3] = {false, false, false};  // per bank (Grad, Aux, R): not yet written this sweep
    bool depends = false;
    bool input = false;
    bool tangent_set = false;  // inputs: a tangent was given for this sweep
  };
  std::size_t idx(Value v) const { return static_cast<std::size_t>(v.id); }
  View<T> ensure(View<T>& slot, const Shape& s);
  Value push(View<T> value, bool depends, bool input);
  // Before a node writes input adjoint `buf` of slot s in bank b: assign if the node can,
  // otherwise zero the buffer; afterwards it is no longer fresh.
  bool take_fresh(Slot& s, int b, View<T> buf, bool node_assigns);
  void zero_unreached(int b);

  Arena arena_;
  std::vector<Slot> slots_;
  std::vector<std::unique_ptr<Node<T>>> nodes_;
  index_t examples_ = -1;
  LayerObserver<T>* observer_ = nullptr;
};

extern template class Tape<float>;
extern template class Tape<double>;

}  // namespace curv
