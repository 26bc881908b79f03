// conv2d: y = W ⋆ x + b (cross-correlation, PyTorch layouts), as im2col + GEMM.
//   x:(N,C,H,W)  W:(O,C,KH,KW) seen as (O,K), K = C·KH·KW   b:(O)   y:(N,O,OH,OW)
// With A = im2col(x) of shape (R,K), R = N·OH·OW, one row per output position:
//   forward  Y = A Wᵀ + b            (Y is y in rows layout, (R,O))
//   vjp      W̄ += Ȳᵀ A,  b̄ += Σ Ȳ,  x̄ += col2im(Ȳ W)
//   jvp      Ẏ = im2col(ẋ) Wᵀ + A Ẇᵀ + ḃ
//   vjp_rop  R{W̄} += R{Ȳ}ᵀ A + Ȳᵀ im2col(ẋ),  R{b̄} += Σ R{Ȳ},  R{x̄} += col2im(R{Ȳ} W + Ȳ Ẇ)
// The rows A and Ȳ are what observers see (KFC: positions are extra samples).
#include "common.hpp"
#include "curv/kernels/im2col.hpp"
#include "curv/ops/ops.hpp"

namespace curv {
namespace {

template <class T>
class Conv2d final : public Node<T> {
 public:
  Conv2d(const ConvGeometry& g, ParamRef<T> w, ParamRef<T> b, View<T> cols)
      : g_(g), w_(w), b_(b), O_(w.value.shape[0]), cols_(cols) {}

  std::string_view name() const override { return "conv2d"; }

  LayerEvent<T> event(View<const T> g) const {
    return {"conv2d", w_.offset, b_.empty() ? -1 : b_.offset, cols_, g, g_.positions()};
  }

  void forward(const T* x, T* y) {
    im2col(g_, x, cols_.data);
    T* rows = buffer(rows_, O_);
    T beta = 0;
    if (!b_.empty()) detail::fill_rows(rows, R(), O_, b_.value.data), beta = 1;
    gemm(Trans::No, Trans::Yes, R(), O_, K(), T(1), cols_.data, w_.value.data, beta, rows);
    detail::rows_to_images(rows, g_.n, O_, g_.positions(), y);
  }

  void vjp(const VjpArgs<T>& a) override {
    T* dy = buffer(rows_, O_);
    detail::images_to_rows(a.dy.data, g_.n, O_, g_.positions(), dy);
    if (a.observer) a.observer->on_backward(event(View<const T>(dy, Shape{R(), O_})));
    switch (a.dtheta.mode) {
      case ParamGrad<T>::Mode::None:
        break;
      case ParamGrad<T>::Mode::Sum:
        gemm(Trans::Yes, Trans::No, O_, K(), R(), T(1), dy, cols_.data, T(1), a.dtheta.data + w_.offset);
        if (!b_.empty()) detail::add_column_sums(dy, R(), O_, a.dtheta.data + b_.offset);
        break;
      case ParamGrad<T>::Mode::PerExample: {
        const index_t P = g_.positions();
        detail::for_each_example(a.dtheta, g_.n, 0, [&](index_t n, T* row) {
          const T* dyn = dy + n * P * O_;
          gemm(Trans::Yes, Trans::No, O_, K(), P, T(1), dyn, cols_.data + n * P * K(), T(1),
               row + w_.offset);
          if (!b_.empty()) detail::add_column_sums(dyn, P, O_, row + b_.offset);
        });
        break;
      }
    }
    if (!a.dx[0].empty()) {
      T* dcols = buffer(dcols_, K());
      gemm(Trans::No, Trans::No, R(), K(), O_, T(1), dy, w_.value.data, T(0), dcols);
      col2im_add(g_, dcols, a.dx[0].data);
    }
  }

  void jvp(const JvpArgs<T>& a) override {
    T* rows = buffer(rows_, O_);
    T beta = 0;
    if (a.theta_dot && !b_.empty()) detail::fill_rows(rows, R(), O_, a.theta_dot + b_.offset), beta = 1;
    if (!a.x_dot[0].empty()) {
      T* cd = buffer(cols_dot_, K());  // kept for vjp_rop
      im2col(g_, a.x_dot[0].data, cd);
      gemm(Trans::No, Trans::Yes, R(), O_, K(), T(1), cd, w_.value.data, beta, rows), beta = 1;
    }
    if (a.theta_dot)
      gemm(Trans::No, Trans::Yes, R(), O_, K(), T(1), cols_.data, a.theta_dot + w_.offset, beta, rows), beta = 1;
    if (beta == T(0)) std::fill(rows, rows + R() * O_, T(0));
    detail::rows_to_images(rows, g_.n, O_, g_.positions(), a.y_dot.data);
  }

  void vjp_rop(const VjpRopArgs<T>& a) override {
    T* dy = buffer(rows_, O_);
    T* rdy = buffer(rrows_, O_);
    detail::images_to_rows(a.dy.data, g_.n, O_, g_.positions(), dy);
    detail::images_to_rows(a.dy_dot.data, g_.n, O_, g_.positions(), rdy);
    const bool has_xdot = !a.x_dot[0].empty();
    if (a.dtheta_dot) {
      T* rdw = a.dtheta_dot + w_.offset;
      gemm(Trans::Yes, Trans::No, O_, K(), R(), T(1), rdy, cols_.data, T(1), rdw);
      if (has_xdot) gemm(Trans::Yes, Trans::No, O_, K(), R(), T(1), dy, cols_dot_.data(), T(1), rdw);
      if (!b_.empty()) detail::add_column_sums(rdy, R(), O_, a.dtheta_dot + b_.offset);
    }
    if (!a.dx_dot[0].empty()) {
      T* dcols = buffer(dcols_, K());
      gemm(Trans::No, Trans::No, R(), K(), O_, T(1), rdy, w_.value.data, T(0), dcols);
      if (a.theta_dot)
        gemm(Trans::No, Trans::No, R(), K(), O_, T(1), dy, a.theta_dot + w_.offset, T(1), dcols);
      col2im_add(g_, dcols, a.dx_dot[0].data);
    }
  }

 private:
  index_t R() const { return g_.rows(); }
  index_t K() const { return g_.cols(); }
  T* buffer(Tensor<T>& t, index_t cols) {
    t.resize(Shape{R(), cols});
    return t.data();
  }

  ConvGeometry g_;
  ParamRef<T> w_, b_;
  index_t O_;
  View<T> cols_;                            // A = im2col(x), (R,K), in the tape's arena
  Tensor<T> cols_dot_, rows_, rrows_, dcols_;  // per-node scratch, reused across products
};

}  // namespace

namespace ops {

template <class T>
Value conv2d(Tape<T>& t, Value x, ParamRef<T> w, ParamRef<T> b, index_t stride, index_t pad) {
  const Shape xs = t.shape(x), ws = w.value.shape;
  CURV_CHECK(ws.rank() == 4, "conv2d: expected a weight (O,C,KH,KW), found ", ws.str());
  CURV_CHECK(xs.rank() == 4 && xs[1] == ws[1], "conv2d: expected input (N,", ws[1],
             ",H,W), found ", xs.str());
  CURV_CHECK(b.empty() || b.value.shape == Shape{ws[0]}, "conv2d: expected bias [", ws[0],
             "], found ", b.value.shape.str());
  const ConvGeometry g = ConvGeometry::make(xs[0], xs[1], xs[2], xs[3], ws[2], ws[3], stride, pad);
  Value y = t.new_value(Shape{g.n, ws[0], g.oh, g.ow}, true);
  auto node = std::make_unique<Conv2d<T>>(g, w, b, t.scratch(Shape{g.rows(), g.cols()}));
  node->forward(t.value(x).data, t.value(y).data);
  if (t.observer()) t.observer()->on_forward(node->event(View<const T>()));
  t.record(std::move(node), {x}, y);
  return y;
}

template Value conv2d<float>(Tape<float>&, Value, ParamRef<float>, ParamRef<float>, index_t, index_t);
template Value conv2d<double>(Tape<double>&, Value, ParamRef<double>, ParamRef<double>, index_t, index_t);

}  // namespace ops
}  // namespace curv
