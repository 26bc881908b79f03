// embedding: y[n,t,:] = W[ids[n,t], :]   ids:(N,T) integer-valued, W:(V,d), y:(N,T,d)
// The ids are a constant input (token ids held as T, exact below 2²⁴), so W is the op's only
// differentiable argument:
//   vjp      W̄[ids[n,t]] += ȳ[n,t]  (summed, or per example n)
//   jvp      ẏ[n,t] = Ẇ[ids[n,t]]
//   vjp_rop  R{W̄}[ids[n,t]] += R{ȳ}[n,t]   (y is linear in W)
// positional: y = x + P[0:T] broadcast over the batch   x:(N,T,d), P:(T_max,d)
//   vjp      x̄ += ȳ, P̄[t] += Σ_n ȳ[n,t]     jvp  ẏ = ẋ + Ṗ[0:T]     vjp_rop  likewise with R{ȳ}
#include <vector>

#include "common.hpp"
#include "curv/ops/ops.hpp"

namespace curv {
namespace {

template <class T>
class Embedding final : public Node<T> {
 public:
  Embedding(std::vector<std::int64_t> ids, ParamRef<T> w, index_t examples)
      : ids_(std::move(ids)), w_(w), d_(w.value.shape[1]), N_(examples) {}
  std::string_view name() const override { return "embedding"; }
  std::array<index_t, 2> parameter_offsets() const override { return {w_.offset, index_t(-1)}; }

  void forward(T* y) const {
    for (std::size_t r = 0; r < ids_.size(); ++r) {
      const T* row = w_.value.data + ids_[r] * d_;
      std::copy(row, row + d_, y + index_t(r) * d_);
    }
  }
  void vjp(const VjpArgs<T>& a) override {
    const index_t wc = a.dtheta.column(w_.offset);
    if (a.dtheta.mode == ParamGrad<T>::Mode::None || wc < 0) return;
    const index_t per = index_t(ids_.size()) / N_;
    for (std::size_t r = 0; r < ids_.size(); ++r) {
      T* g = a.dtheta.data + wc + ids_[r] * d_;
      if (a.dtheta.mode == ParamGrad<T>::Mode::PerExample)
        g += (index_t(r) / per) * a.dtheta.stride;
      const T* dy = a.dy.data + index_t(r) * d_;
      for (index_t j = 0; j < d_; ++j) g[j] += dy[j];
    }
  }
  void jvp(const JvpArgs<T>& a) override {
    if (!a.theta_dot) return std::fill(a.y_dot.begin(), a.y_dot.end(), T(0));
    for (std::size_t r = 0; r < ids_.size(); ++r) {
      const T* row = a.theta_dot + w_.offset + ids_[r] * d_;
      std::copy(row, row + d_, a.y_dot.data + index_t(r) * d_);
    }
  }
  void vjp_rop(const VjpRopArgs<T>& a) override {
    if (!a.dtheta_dot) return;
    for (std::size_t r = 0; r < ids_.size(); ++r) {
      T* g = a.dtheta_dot + w_.offset + ids_[r] * d_;
      const T* rdy = a.dy_dot.data + index_t(r) * d_;
      for (index_t j = 0; j < d_; ++j) g[j] += rdy[j];
    }
  }

 private:
  std::vector<std::int64_t> ids_;
  ParamRef<T> w_;
  index_t d_, N_;
};

template <class T>
class Positional final : public Node<T> {
 public:
  Positional(ParamRef<T> p, index_t n, index_t tokens, index_t d)
      : p_(p), N_(n), T_(tokens), d_(d) {}
  std::string_view name() const override { return "positional"; }
  std::array<index_t, 2> parameter_offsets() const override { return {p_.offset, index_t(-1)}; }

  void forward(const T* x, T* y) const { add_positions(x, p_.value.data, y); }
  void vjp(const VjpArgs<T>& a) override {
    if (!a.dx[0].empty()) axpy(N_ * T_ * d_, T(1), a.dy.data, a.dx[0].data);
    const index_t pc = a.dtheta.column(p_.offset);
    if (a.dtheta.mode == ParamGrad<T>::Mode::None || pc < 0) return;
    for (index_t n = 0; n < N_; ++n) {
      T* g = a.dtheta.data + pc +
             (a.dtheta.mode == ParamGrad<T>::Mode::PerExample ? n * a.dtheta.stride : 0);
      axpy(T_ * d_, T(1), a.dy.data + n * T_ * d_, g);
    }
  }
  void jvp(const JvpArgs<T>& a) override {
    T* yd = a.y_dot.data;
    if (a.x_dot[0].empty())
      std::fill(yd, yd + N_ * T_ * d_, T(0));
    else
      std::copy(a.x_dot[0].data, a.x_dot[0].data + N_ * T_ * d_, yd);
    if (a.theta_dot) add_positions(yd, a.theta_dot + p_.offset, yd);
  }
  void vjp_rop(const VjpRopArgs<T>& a) override {
    if (!a.dx_dot[0].empty()) axpy(N_ * T_ * d_, T(1), a.dy_dot.data, a.dx_dot[0].data);
    if (!a.dtheta_dot) return;
    for (index_t n = 0; n < N_; ++n)
      axpy(T_ * d_, T(1), a.dy_dot.data + n * T_ * d_, a.dtheta_dot + p_.offset);
  }

 private:
  void add_positions(const T* x, const T* p, T* y) const {
    for (index_t n = 0; n < N_; ++n)
      for (index_t i = 0; i < T_ * d_; ++i) y[n * T_ * d_ + i] = x[n * T_ * d_ + i] + p[i];
  }
  ParamRef<T> p_;
  index_t N_, T_, d_;
};

}  // namespace

namespace ops {

template <class T>
Value embedding(Tape<T>& t, Value ids, ParamRef<T> w) {
  CURV_CHECK(w.value.shape.rank() == 2, "embedding: expected a weight (vocab,d), found ",
             w.value.shape.str());
  CURV_CHECK(!t.depends(ids),
             "embedding: expected constant token ids, found a value that depends on parameters");
  const Shape is = t.shape(ids);
  const index_t V = w.value.shape[0];
  const View<T> iv = t.value(ids);
  std::vector<std::int64_t> v(static_cast<std::size_t>(iv.numel()));
  for (std::size_t i = 0; i < v.size(); ++i) {
    const T id = iv[index_t(i)];
    CURV_CHECK(id >= T(0) && id < T(V) && id == T(std::int64_t(id)),
               "embedding: expected ids in [0,", V, "), found ", double(id), " at position ", i);
    v[i] = std::int64_t(id);
  }
  Shape ys = is;
  ys.push_back(w.value.shape[1]);
  Value y = t.new_value(ys, true);
  auto node = std::make_unique<Embedding<T>>(std::move(v), w, is[0]);
  node->forward(t.value(y).data);
  t.record(std::move(node), {ids}, y);
  return y;
}

template <class T>
Value positional(Tape<T>& t, Value x, ParamRef<T> p) {
  const Shape xs = t.shape(x), ps = p.value.shape;
  CURV_CHECK(xs.rank() == 3 && ps.rank() == 2 && xs[2] == ps[1] && xs[1] <= ps[0],
             "positional: expected input ", "(N,T,", ps.rank() == 2 ? ps[1] : -1,
             ") with T <= ", ps.rank() == 2 ? ps[0] : -1, ", found ", xs.str());
  Value y = t.new_value(xs, true);
  auto node = std::make_unique<Positional<T>>(p, xs[0], xs[1], xs[2]);
  node->forward(t.value(x).data, t.value(y).data);
  t.record(std::move(node), {x}, y);
  return y;
}

template Value embedding<float>(Tape<float>&, Value, ParamRef<float>);
template Value embedding<double>(Tape<double>&, Value, ParamRef<double>);
template Value positional<float>(Tape<float>&, Value, ParamRef<float>);
template Value positional<double>(Tape<double>&, Value, ParamRef<double>);

}  // namespace ops
}  // namespace curv
