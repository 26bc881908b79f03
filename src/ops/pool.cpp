// 2-D pooling over k×k windows with a stride.  x:(N,C,H,W) → y:(N,C,OH,OW)
//
// max_pool2d  y = x[argmax of window] (padding, if any, never wins: PyTorch's −∞ padding);
//             the argmax is saved, so every pass is a gather or a
//             scatter through it (the op is piecewise linear: its second-order term is zero)
//   vjp  x̄[arg] += ȳ     jvp  ẏ = ẋ[arg]     vjp_rop  R{x̄}[arg] += R{ȳ}
// avg_pool2d  y = mean of window; linear, so vjp_rop is the vjp applied to R{ȳ}.
#include <cstdint>
#include <vector>

#include "common.hpp"
#include "curv/ops/ops.hpp"

namespace curv {
namespace {

struct PoolGeometry {
  index_t n, c, h, w, k, stride, oh, ow, pad = 0;
  index_t planes() const { return n * c; }
  index_t out_plane() const { return oh * ow; }
  index_t in_plane() const { return h * w; }
};

template <class T>
class MaxPool final : public Node<T> {
 public:
  explicit MaxPool(PoolGeometry g)
      : g_(g), arg_(static_cast<std::size_t>(g.planes() * g.out_plane())) {}
  std::string_view name() const override { return "max_pool2d"; }

  void forward(const T* x, T* y) {
    parallel_for(g_.planes(), 1, [&](index_t p0, index_t p1) {
      for (index_t p = p0; p < p1; ++p) {
        const T* xp = x + p * g_.in_plane();
        for (index_t i = 0; i < g_.oh; ++i)
          for (index_t j = 0; j < g_.ow; ++j) {
            // The window clipped to the image (padding is never the maximum).
            const index_t h0 = std::max<index_t>(0, i * g_.stride - g_.pad),
                          h1 = std::min(g_.h, i * g_.stride - g_.pad + g_.k);
            const index_t w0 = std::max<index_t>(0, j * g_.stride - g_.pad),
                          w1 = std::min(g_.w, j * g_.stride - g_.pad + g_.k);
            index_t best = h0 * g_.w + w0;
            for (index_t a = h0; a < h1; ++a)
              for (index_t b = w0; b < w1; ++b) {
                const index_t q = a * g_.w + b;
                if (xp[q] > xp[best]) best = q;
              }
            const index_t o = p * g_.out_plane() + i * g_.ow + j;
            arg_[static_cast<std::size_t>(o)] = static_cast<std::int32_t>(best);
            y[o] = xp[best];
          }
      }
    });
  }

  void vjp(const VjpArgs<T>& a) override {
    if (!a.dx[0].empty()) scatter(a.dy.data, a.dx[0].data);
  }
  void jvp(const JvpArgs<T>& a) override {
    T* yd = a.y_dot.data;
    if (a.x_dot[0].empty()) return std::fill(yd, yd + a.y_dot.numel(), T(0));
    const T* xd = a.x_dot[0].data;
    for (index_t p = 0; p < g_.planes(); ++p)
      for (index_t o = 0; o < g_.out_plane(); ++o) {
        const index_t k = p * g_.out_plane() + o;
        yd[k] = xd[p * g_.in_plane() + arg_[static_cast<std::size_t>(k)]];
      }
  }
  void vjp_rop(const VjpRopArgs<T>& a) override {
    if (!a.dx_dot[0].empty()) scatter(a.dy_dot.data, a.dx_dot[0].data);
  }

 private:
  void scatter(const T* dy, T* dx) const {
    for (index_t p = 0; p < g_.planes(); ++p)
      for (index_t o = 0; o < g_.out_plane(); ++o) {
        const index_t k = p * g_.out_plane() + o;
        dx[p * g_.in_plane() + arg_[static_cast<std::size_t>(k)]] += dy[k];
      }
  }
  PoolGeometry g_;
  std::vector<std::int32_t> arg_;  // flat index of each output's maximum within its plane
};

template <class T>
class AvgPool final : public Node<T> {
 public:
  explicit AvgPool(PoolGeometry g) : g_(g) {}
  std::string_view name() const override { return "avg_pool2d"; }

  void forward(const T* x, T* y) const {
    const T s = T(1) / T(g_.k * g_.k);
    for (index_t p = 0; p < g_.planes(); ++p)
      for (index_t i = 0; i < g_.oh; ++i)
        for (index_t j = 0; j < g_.ow; ++j) {
          T acc = 0;
          for (index_t a = 0; a < g_.k; ++a)
            for (index_t b = 0; b < g_.k; ++b)
              acc += x[p * g_.in_plane() + (i * g_.stride + a) * g_.w + j * g_.stride + b];
          y[p * g_.out_plane() + i * g_.ow + j] = acc * s;
        }
  }
  void vjp(const VjpArgs<T>& a) override {
    if (!a.dx[0].empty()) adjoint(a.dy.data, a.dx[0].data);
  }
  void jvp(const JvpArgs<T>& a) override {
    if (a.x_dot[0].empty()) return std::fill(a.y_dot.begin(), a.y_dot.end(), T(0));
    forward(a.x_dot[0].data, a.y_dot.data);
  }
  void vjp_rop(const VjpRopArgs<T>& a) override {
    if (!a.dx_dot[0].empty()) adjoint(a.dy_dot.data, a.dx_dot[0].data);
  }

 private:
  void adjoint(const T* dy, T* dx) const {  // dx += forwardᵀ dy
    const T s = T(1) / T(g_.k * g_.k);
    for (index_t p = 0; p < g_.planes(); ++p)
      for (index_t i = 0; i < g_.oh; ++i)
        for (index_t j = 0; j < g_.ow; ++j) {
          const T v = dy[p * g_.out_plane() + i * g_.ow + j] * s;
          for (index_t a = 0; a < g_.k; ++a)
            for (index_t b = 0; b < g_.k; ++b)
              dx[p * g_.in_plane() + (i * g_.stride + a) * g_.w + j * g_.stride + b] += v;
        }
  }
  PoolGeometry g_;
};

PoolGeometry pool_geometry(const char* op, const Shape& s, index_t k, index_t stride,
                           index_t pad = 0) {
  CURV_CHECK(s.rank() == 4, op, ": expected input (N,C,H,W), found ", s.str());
  CURV_CHECK(k >= 1 && stride >= 1 && pad >= 0 && 2 * pad <= k && s[2] + 2 * pad >= k &&
                 s[3] + 2 * pad >= k,
             op, ": expected a ", k, "x", k, " window (padding ", pad,
             " <= half of it) to fit input ", s.str());
  return {s[0],
          s[1],
          s[2],
          s[3],
          k,
          stride,
          (s[2] + 2 * pad - k) / stride + 1,
          (s[3] + 2 * pad - k) / stride + 1,
          pad};
}

template <class T, class N>
Value record_pool(Tape<T>& t, Value x, const PoolGeometry& g) {
  Value y = t.new_value(Shape{g.n, g.c, g.oh, g.ow}, t.depends(x));
  auto node = std::make_unique<N>(g);
  node->forward(t.value(x).data, t.value(y).data);
  t.record(std::move(node), {x}, y);
  return y;
}

}  // namespace

namespace ops {

template <class T>
Value max_pool2d(Tape<T>& t, Value x, index_t k, index_t stride, index_t pad) {
  return record_pool<T, MaxPool<T>>(t, x, pool_geometry("max_pool2d", t.shape(x), k, stride, pad));
}
template <class T>
Value avg_pool2d(Tape<T>& t, Value x, index_t k, index_t stride) {
  return record_pool<T, AvgPool<T>>(t, x, pool_geometry("avg_pool2d", t.shape(x), k, stride));
}

template Value max_pool2d<float>(Tape<float>&, Value, index_t, index_t, index_t);
template Value max_pool2d<double>(Tape<double>&, Value, index_t, index_t, index_t);
template Value avg_pool2d<float>(Tape<float>&, Value, index_t, index_t);
template Value avg_pool2d<double>(Tape<double>&, Value, index_t, index_t);

}  // namespace ops
}  // namespace curv
