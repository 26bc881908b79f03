#include "curv/autodiff/tape.hpp"

#include <algorithm>

namespace curv {

template <class T>
void Tape<T>::clear() {
  nodes_.clear();
  slots_.clear();
  arena_.reset();
  examples_ = -1;
}

template <class T>
Value Tape<T>::input(View<const T> x, bool differentiable) {
  CURV_CHECK(x.shape.rank() >= 1, "tape input: expected a batch-first tensor, found shape ",
             x.shape.str());
  if (examples_ < 0) examples_ = x.shape[0];
  // Inputs are never written by any pass; the cast only lets them share the slot type.
  return push(View<T>(const_cast<T*>(x.data), x.shape), differentiable, true);
}

template <class T>
Value Tape<T>::new_value(Shape shape, bool depends) {
  return push(arena_.alloc_view<T>(shape), depends, false);
}

template <class T>
Value Tape<T>::alias(Value v, Shape shape) {
  return push(slots_[idx(v)].value.reshape(shape), slots_[idx(v)].depends, false);
}

template <class T>
Value Tape<T>::push(View<T> value, bool depends, bool input) {
  Slot s;
  s.value = value;
  s.depends = depends;
  s.input = input;
  slots_.push_back(s);
  return Value{static_cast<int>(slots_.size() - 1)};
}

template <class T>
void Tape<T>::record(std::unique_ptr<Node<T>> node, std::initializer_list<Value> inputs,
                     Value output) {
  int k = 0;
  for (Value v : inputs) node->inputs[static_cast<std::size_t>(k++)] = v.id;
  node->num_inputs = k;
  node->output = output.id;
  nodes_.push_back(std::move(node));
}

template <class T>
View<T> Tape<T>::ensure(View<T>& slot, const Shape& s) {
  if (slot.empty()) slot = arena_.alloc_view<T>(s);
  return slot;
}

template <class T>
View<T> Tape<T>::seed(Value out, Bank bank) {
  CURV_CHECK(depends(out), "tape: the seeded value does not depend on the parameters");
  const int b = static_cast<int>(bank);
  for (Slot& s : slots_) {
    if (!s.depends) continue;
    ensure(s.adjoint[b], s.value.shape);
    s.fresh[b] = true;
  }
  slots_[idx(out)].fresh[b] = false;
  return slots_[idx(out)].adjoint[b];
}

template <class T>
View<T> Tape<T>::adjoint(Value v, Bank bank) const {
  return slots_[idx(v)].adjoint[static_cast<int>(bank)];
}

template <class T>
View<T> Tape<T>::preset_adjoint(Value v, Bank bank) {
  Slot& s = slots_[idx(v)];
  s.fresh[static_cast<int>(bank)] = false;
  return s.adjoint[static_cast<int>(bank)];
}

template <class T>
void Tape<T>::poison_fresh(Bank bank, T v) {
  const int b = static_cast<int>(bank);
  for (Slot& s : slots_)
    if (s.depends && s.fresh[b]) std::fill(s.adjoint[b].begin(), s.adjoint[b].end(), v);
}

template <class T>
void Tape<T>::poison_fresh_radjoints(T v) {
  for (Slot& s : slots_)
    if (s.depends && s.fresh[2]) std::fill(s.radjoint.begin(), s.radjoint.end(), v);
}

template <class T>
bool Tape<T>::take_fresh(Slot& s, int b, View<T> buf, bool node_assigns) {
  if (!s.fresh[b]) return false;
  s.fresh[b] = false;
  if (node_assigns) return true;
  std::fill(buf.begin(), buf.end(), T(0));
  return false;
}

template <class T>
void Tape<T>::zero_unreached(int b) {
  for (Slot& s : slots_)
    if (s.depends && s.fresh[b]) {
      View<T> buf = b == 2 ? s.radjoint : s.adjoint[b];
      std::fill(buf.begin(), buf.end(), T(0));
      s.fresh[b] = false;
    }
}

template <class T>
std::size_t Tape<T>::first_node_reading(const std::function<bool(index_t)>& wanted) const {
  for (const Slot& s : slots_)
    if (s.input && s.depends) return 0;
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    for (index_t offset : nodes_[i]->parameter_offsets())
      if (offset >= 0 && wanted(offset)) return i;
  return 0;
}

template <class T>
void Tape<T>::reverse(Bank bank, const ParamGrad<T>& dtheta, bool notify_observer,
                      std::size_t stop, const std::function<void(std::size_t)>& after_node) {
  const int b = static_cast<int>(bank);
  CURV_CHECK(stop <= nodes_.size(), "tape: a sweep cannot stop at node ", stop, " of ",
             nodes_.size());
  for (std::size_t j = nodes_.size(); j-- > stop;) {
    Node<T>& n = *nodes_[j];
    const Slot& out = slots_[static_cast<std::size_t>(n.output)];
    if (!out.depends) continue;
    VjpArgs<T> a;
    a.dy = out.adjoint[b];
    // The last node visited of a stopped sweep passes nothing further down.
    for (int i = 0; i < n.num_inputs && !(stop > 0 && j == stop); ++i) {
      const auto k = static_cast<std::size_t>(i);
      Slot& in = slots_[static_cast<std::size_t>(n.inputs[k])];
      if (!in.depends) continue;
      a.dx[k] = in.adjoint[b];
      a.dx_assign[k] = take_fresh(in, b, in.adjoint[b], n.assigns_fresh_adjoints());
    }
    a.dtheta = dtheta;
    a.observer = notify_observer ? observer_ : nullptr;
    n.vjp(a);
    if (after_node) after_node(j);
  }
  zero_unreached(b);
}

template <class T>
View<T> Tape<T>::input_tangent(Value v) {
  Slot& s = slots_[idx(v)];
  CURV_CHECK(s.input && s.depends, "tape: only differentiable inputs take a tangent");
  s.tangent_set = true;
  return ensure(s.tangent, s.value.shape);
}

template <class T>
void Tape<T>::tangents(const T* theta_dot) {
  for (auto& np : nodes_) {
    Node<T>& n = *np;
    Slot& out = slots_[static_cast<std::size_t>(n.output)];
    if (!out.depends) continue;
    JvpArgs<T> a;
    for (int i = 0; i < n.num_inputs; ++i) {
      const Slot& in = slots_[static_cast<std::size_t>(n.inputs[static_cast<std::size_t>(i)])];
      if (in.depends && (!in.input || in.tangent_set))
        a.x_dot[static_cast<std::size_t>(i)] = in.tangent;
    }
    a.theta_dot = theta_dot;
    a.y_dot = ensure(out.tangent, out.value.shape);
    n.jvp(a);
  }
}

template <class T>
View<T> Tape<T>::seed_rop(Value out) {
  for (Slot& s : slots_) {
    if (!s.depends) continue;
    ensure(s.radjoint, s.value.shape);
    s.fresh[2] = true;
  }
  slots_[idx(out)].fresh[2] = false;
  return slots_[idx(out)].radjoint;
}

template <class T>
void Tape<T>::reverse_rop(const T* theta_dot, T* dtheta_dot) {
  for (auto it = nodes_.rbegin(); it != nodes_.rend(); ++it) {
    Node<T>& n = **it;
    const Slot& out = slots_[static_cast<std::size_t>(n.output)];
    if (!out.depends) continue;
    VjpRopArgs<T> a;
    a.dy = out.adjoint[0];
    a.dy_dot = out.radjoint;
    for (int i = 0; i < n.num_inputs; ++i) {
      const auto k = static_cast<std::size_t>(i);
      Slot& in = slots_[static_cast<std::size_t>(n.inputs[k])];
      if (!in.depends) continue;
      if (!in.input || in.tangent_set) a.x_dot[k] = in.tangent;
      a.dx_dot[k] = in.radjoint;
      a.dx_dot_assign[k] = take_fresh(in, 2, in.radjoint, n.assigns_fresh_adjoints());
    }
    a.theta_dot = theta_dot;
    a.dtheta_dot = dtheta_dot;
    n.vjp_rop(a);
  }
  zero_unreached(2);
}

template class Tape<float>;
template class Tape<double>;

}  // namespace curv
