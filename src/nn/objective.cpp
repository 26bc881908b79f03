#include "curv/nn/objective.hpp"

#include <algorithm>
#include <limits>

namespace curv {

template <class T>
void Objective<T>::forward(View<const T> x) {
  const index_t per_example = model_.input_shape().numel();
  CURV_CHECK(x.shape.rank() >= 1 && x.shape.rows() > 0 && x.shape.row_size() == per_example,
             model_.name(), ": expected inputs (N,", model_.input_shape().str(), ") with ",
             per_example, " values per example, found ", x.shape.str());
  tape_.clear();
  adjoints_ready_ = false;
  x_ = x;
  Value in = tape_.input(x);
  out_ = model_.forward(tape_, in);
}

template <class T>
double Objective<T>::set_batch(View<const T> x, const Targets<T>& targets) {
  forward(x);
  targets_ = targets, has_targets_ = true;
  loss_value_ = loss_.forward(tape_.value(out_), targets);
  return loss_value_;
}

template <class T>
void Objective<T>::record(View<const T> x) {
  forward(x);
  targets_ = {}, has_targets_ = false;
  loss_value_ = std::numeric_limits<double>::quiet_NaN();
}

template <class T>
void Objective<T>::require_targets(const char* product) const {
  CURV_CHECK(has_targets_, model_.name(), ": expected a batch with targets for ", product,
             ", found inputs alone (recorded for predictions)");
}

template <class T>
View<const T> Objective<T>::inputs(index_t n) const {
  CURV_CHECK(n >= 1 && n <= examples(), "objective: expected 1..", examples(), " examples, found ",
             n);
  Shape s = x_.shape;
  s[0] = n;
  return {x_.data, s};
}

template <class T>
Targets<T> Objective<T>::targets(index_t n) const {
  CURV_CHECK(n >= 1 && n <= examples(), "objective: expected 1..", examples(), " examples, found ",
             n);
  require_targets("a sub-batch's targets");
  Targets<T> t = targets_;
  if (!t.values.empty())
    t.values.shape[0] = t.values.shape[0] / examples() * n;  // rows may be tokens
  return t;  // labels: the first n examples' come first
}

template <class T>
void Objective<T>::gradient(T* g, bool notify_observer,
                            const std::function<void(std::size_t)>& after_node) {
  require_targets("the gradient");
  std::fill(g, g + parameters(), T(0));
  loss_.grad(tape_.seed(out_, Bank::Grad).data);
  tape_.reverse(Bank::Grad, ParamGrad<T>::sum(g), notify_observer, 0, after_node);
  adjoints_ready_ = true;
}

template <class T>
void Objective<T>::per_example_gradients(T* G) {
  require_targets("per-example gradients");
  const index_t N = examples(), P = parameters();
  std::fill(G, G + N * P, T(0));
  loss_.grad(tape_.seed(out_, Bank::Grad).data);
  tape_.reverse(Bank::Grad, ParamGrad<T>::per_example(G, P));
  adjoints_ready_ = true;
  // The seed is ∇ℓₙ/N (the batch loss's adjoint); per-example gradients are ∇ℓₙ.
  const T n = T(N);
  for (index_t i = 0; i < N * P; ++i) G[i] *= n;
}

template <class T>
void Objective<T>::jvp(const T* v, T* out) {
  tape_.tangents(v);
  const View<T> t = tape_.tangent(out_);
  std::copy(t.begin(), t.end(), out);
}

template <class T>
void Objective<T>::vjp(const T* u, T* g) {
  std::fill(g, g + parameters(), T(0));
  pullback(u, ParamGrad<T>::sum(g));
}

template <class T>
void Objective<T>::pullback(const T* u, const ParamGrad<T>& dtheta, bool notify_observer,
                            const std::function<bool(index_t)>& wanted) {
  View<T> seed = tape_.seed(out_, Bank::Aux);
  std::copy(u, u + seed.numel(), seed.data);
  tape_.reverse(Bank::Aux, dtheta, notify_observer, wanted ? tape_.first_node_reading(wanted) : 0);
}

template <class T>
void Objective<T>::ensure_gradient_adjoints() {
  if (adjoints_ready_) return;
  require_targets("the Hessian");
  // Only the adjoints are needed, not ∇L itself: skip the parameter gradients.
  loss_.grad(tape_.seed(out_, Bank::Grad).data);
  tape_.reverse(Bank::Grad, ParamGrad<T>::none());
  adjoints_ready_ = true;
}

template <class T>
void Objective<T>::hvp(const T* v, T* out) {
  tape_.tangents(v);
  ensure_gradient_adjoints();
  loss_.hvp(tape_.tangent(out_).data, tape_.seed_rop(out_).data);  // R{∂L/∂z} = H_out ż
  std::fill(out, out + parameters(), T(0));
  tape_.reverse_rop(v, out);
}

template <class T>
void Objective<T>::ggn_vp(const T* v, T* out) {
  require_targets("the Gauss-Newton matrix");
  tape_.tangents(v);
  loss_.hvp(tape_.tangent(out_).data, tape_.seed(out_, Bank::Aux).data);  // H_out J v
  std::fill(out, out + parameters(), T(0));
  tape_.reverse(Bank::Aux, ParamGrad<T>::sum(out));
}

template <class T>
double Objective<T>::regularization() const {
  const ParamStore<T>& p = model_.params();
  const View<const T> theta(p.data(), Shape{p.size()});
  double r = 0;
  for (const Regularizer<T>* reg : regularizers_) r += reg->value(theta);
  return r;
}

template <class T>
void Objective<T>::add_regularizer_curvature(const T* v, T* out) const {
  const ParamStore<T>& p = model_.params();
  const View<const T> theta(p.data(), Shape{p.size()}), vv(v, Shape{p.size()});
  for (const Regularizer<T>* reg : regularizers_) {
    reg->curvature_mv(theta, vv, reg_out_);
    CURV_CHECK(index_t(reg_out_.size()) == p.size(), "regularizer '", reg->name(),
               "': expected a curvature product of ", p.size(), " entries, found ",
               reg_out_.size());
    for (index_t i = 0; i < p.size(); ++i) out[i] += reg_out_[std::size_t(i)];
  }
}

template class Objective<float>;
template class Objective<double>;

}  // namespace curv
