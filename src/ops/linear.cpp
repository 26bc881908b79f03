// linear: y = x Wᵀ + b over the last dimension.   x:(R,I) as rows, W:(O,I), b:(O), y:(R,O)
// R = N·(rows per example), so a transformer's tokens fold into the rows.
#include "common.hpp"
#include "curv/ops/ops.hpp"

namespace curv {
namespace {

template <class T>
class Linear final : public Node<T> {
 public:
  Linear(View<const T> x, ParamRef<T> w, ParamRef<T> b, index_t examples)
      : x_(x),
        w_(w),
        b_(b),
        R_(x.numel() / w.value.shape[1]),
        I_(w.value.shape[1]),
        O_(w.value.shape[0]),
        N_(examples) {}

  std::string_view name() const override { return "linear"; }
  std::array<index_t, 2> parameter_offsets() const override { return {w_.offset, b_.offset}; }
  bool assigns_fresh_adjoints() const override { return true; }

  LayerEvent<T> event(View<const T> g) const {
    return {
        "linear", w_.offset, b_.empty() ? -1 : b_.offset, View<const T>(x_.data, Shape{R_, I_}), g,
        R_ / N_,  O_};
  }

  void forward(T* y) const {  // (R,O)
    T beta = 0;
    if (!b_.empty()) detail::fill_rows(y, R_, O_, b_.value.data), beta = 1;
    gemm(Trans::No, Trans::Yes, R_, O_, I_, T(1), x_.data, w_.value.data, beta, y);
  }

  void vjp(const VjpArgs<T>& a) override {
    const T* dy = a.dy.data;  // (R,O)
    if (!a.dx[0].empty())     // x̄ += ȳ W  (or = when fresh)
      gemm(Trans::No, Trans::No, R_, I_, O_, T(1), dy, w_.value.data, T(a.dx_assign[0] ? 0 : 1),
           a.dx[0].data);
    if (a.observer && a.observer->observes("linear", w_.offset))
      a.observer->on_backward(event(View<const T>(dy, Shape{R_, O_})));
    switch (a.dtheta.mode) {
      case ParamGrad<T>::Mode::None:
        break;
      case ParamGrad<T>::Mode::Sum:  // W̄ += ȳᵀ x,  b̄ += Σ_rows ȳ
        gemm(Trans::Yes, Trans::No, O_, I_, R_, T(1), dy, x_.data, T(1), a.dtheta.data + w_.offset);
        if (!b_.empty()) detail::add_column_sums(dy, R_, O_, a.dtheta.data + b_.offset);
        break;
      case ParamGrad<T>::Mode::PerExample: {
        const index_t rpe = R_ / N_, wc = a.dtheta.column(w_.offset),
                      bc = b_.empty() ? -1 : a.dtheta.column(b_.offset);
        if (wc < 0 && bc < 0) break;  // outside the subset
        detail::for_each_example(a.dtheta, N_, 0, [&](index_t n, T* row) {
          const T* dyn = dy + n * rpe * O_;
          if (wc >= 0)
            gemm(Trans::Yes, Trans::No, O_, I_, rpe, T(1), dyn, x_.data + n * rpe * I_, T(1),
                 row + wc);
          if (bc >= 0) detail::add_column_sums(dyn, rpe, O_, row + bc);
        });
        break;
      }
    }
  }

  void jvp(const JvpArgs<T>& a) override {  // ẏ = ẋ Wᵀ + x Ẇᵀ + ḃ
    T* yd = a.y_dot.data;
    T beta = 0;
    if (a.theta_dot && !b_.empty())
      detail::fill_rows(yd, R_, O_, a.theta_dot + b_.offset), beta = 1;
    if (!a.x_dot[0].empty())
      gemm(Trans::No, Trans::Yes, R_, O_, I_, T(1), a.x_dot[0].data, w_.value.data, beta, yd),
          beta = 1;
    if (a.theta_dot)
      gemm(Trans::No, Trans::Yes, R_, O_, I_, T(1), x_.data, a.theta_dot + w_.offset, beta, yd),
          beta = 1;
    if (beta == T(0)) std::fill(yd, yd + R_ * O_, T(0));
  }

  void vjp_rop(const VjpRopArgs<T>& a) override {
    const T* dy = a.dy.data;
    const T* rdy = a.dy_dot.data;
    if (!a.dx_dot[0].empty()) {  // R{x̄} += R{ȳ} W + ȳ Ẇ  (or = when fresh)
      T* rdx = a.dx_dot[0].data;
      gemm(Trans::No, Trans::No, R_, I_, O_, T(1), rdy, w_.value.data,
           T(a.dx_dot_assign[0] ? 0 : 1), rdx);
      if (a.theta_dot)
        gemm(Trans::No, Trans::No, R_, I_, O_, T(1), dy, a.theta_dot + w_.offset, T(1), rdx);
    }
    if (a.dtheta_dot) {  // R{W̄} += R{ȳ}ᵀ x + ȳᵀ ẋ,  R{b̄} += Σ_rows R{ȳ}
      T* rdw = a.dtheta_dot + w_.offset;
      gemm(Trans::Yes, Trans::No, O_, I_, R_, T(1), rdy, x_.data, T(1), rdw);
      if (!a.x_dot[0].empty())
        gemm(Trans::Yes, Trans::No, O_, I_, R_, T(1), dy, a.x_dot[0].data, T(1), rdw);
      if (!b_.empty()) detail::add_column_sums(rdy, R_, O_, a.dtheta_dot + b_.offset);
    }
  }

 private:
  View<const T> x_;
  ParamRef<T> w_, b_;
  index_t R_, I_, O_, N_;
};

}  // namespace

namespace ops {

template <class T>
Value linear(Tape<T>& t, Value x, ParamRef<T> w, ParamRef<T> b) {
  const Shape xs = t.shape(x);
  CURV_CHECK(w.value.shape.rank() == 2, "linear: expected a weight of rank 2 (out,in), found ",
             w.value.shape.str());
  const index_t in = w.value.shape[1], out = w.value.shape[0];
  CURV_CHECK(xs.rank() >= 2 && xs[xs.rank() - 1] == in, "linear: expected input (N,…,", in,
             "), found ", xs.str());
  CURV_CHECK(b.empty() || b.value.shape == Shape{out}, "linear: expected bias [", out, "], found ",
             b.value.shape.str());
  Shape ys = xs;
  ys[ys.rank() - 1] = out;
  Value y = t.new_value(ys, true);
  auto node = std::make_unique<Linear<T>>(t.value(x), w, b, t.examples());
  node->forward(t.value(y).data);
  if (t.observer() && t.observer()->observes("linear", w.offset))
    t.observer()->on_forward(node->event(View<const T>()));
  t.record(std::move(node), {x}, y);
  return y;
}

template Value linear<float>(Tape<float>&, Value, ParamRef<float>, ParamRef<float>);
template Value linear<double>(Tape<double>&, Value, ParamRef<double>, ParamRef<double>);

}  // namespace ops
}  // namespace curv
