// Elementwise activations y = f(x). Each is a derivative table, side by side with its forward:
// f(x), f'(x) and f''(x), the last two given x and y = f(x) (whichever is cheaper). One local
// derivative serves every pass:
//   vjp      x̄ += f'(x) ȳ
//   jvp      ẏ  = f'(x) ẋ
//   vjp_rop  R{x̄} += f'(x) R{ȳ} + f''(x) ẋ ȳ   (the last term vanishes for piecewise-linear f)
#include <cmath>

#include "common.hpp"
#include "curv/kernels/exp.hpp"
#include "curv/ops/ops.hpp"

namespace curv {
namespace {

struct Relu {
  static constexpr std::string_view name = "relu";
  static constexpr bool piecewise_linear = true;  // f'' = 0 away from the kink
  static constexpr bool store_d1 = false;
  template <class T>
  static T f(T x) {
    return x > T(0) ? x : T(0);
  }
  template <class T>
  static T d1(T x, T) {
    return x > T(0) ? T(1) : T(0);
  }
  template <class T>
  static T d2(T, T) {
    return T(0);
  }
};

struct Tanh {
  static constexpr std::string_view name = "tanh";
  static constexpr bool piecewise_linear = false;
  static constexpr bool store_d1 = false;
  template <class T>
  static T f(T x) {
    return std::tanh(x);
  }
  template <class T>
  static T d1(T, T y) {
    return T(1) - y * y;
  }
  template <class T>
  static T d2(T, T y) {
    return T(-2) * y * (T(1) - y * y);
  }
};

struct Sigmoid {
  static constexpr std::string_view name = "sigmoid";
  static constexpr bool piecewise_linear = false;
  static constexpr bool store_d1 = false;
  template <class T>
  static T f(T x) {
    // e = exp(−|x|) ≤ 1 never overflows; a select instead of a branch keeps loops vectorized.
    const T e = fast_exp(-std::abs(x));
    return (x >= T(0) ? T(1) : e) / (T(1) + e);
  }
  template <class T>
  static T d1(T, T y) {
    return y * (T(1) - y);
  }
  template <class T>
  static T d2(T, T y) {
    return y * (T(1) - y) * (T(1) - T(2) * y);
  }
};

struct Gelu {  // exact GELU, x Φ(x), as PyTorch's default
  static constexpr std::string_view name = "gelu";
  static constexpr bool piecewise_linear = false;
  // erfc and exp cost more than the memory for f'(x): the forward keeps it for vjp and jvp.
  static constexpr bool store_d1 = true;
  template <class T>
  static T pdf(T x) {
    return T(0.3989422804014327) * std::exp(T(-0.5) * x * x);
  }
  template <class T>
  static T cdf(T x) {
    return T(0.5) * std::erfc(-x * T(0.7071067811865476));
  }
  template <class T>
  static T f(T x) {
    return x * cdf(x);
  }
  template <class T>
  static T d1(T x, T) {
    return cdf(x) + x * pdf(x);
  }
  template <class T>
  static T d2(T x, T) {
    return pdf(x) * (T(2) - x * x);
  }
};

template <class T, class Fn>
class Activation final : public Node<T> {
 public:
  Activation(View<const T> x, View<const T> y) : x_(x), y_(y) {}
  std::string_view name() const override { return Fn::name; }
  bool assigns_fresh_adjoints() const override { return true; }

  void forward(T* y) {
    const T* x = x_.data;
    if constexpr (Fn::store_d1) {
      d1_.resize(x_.shape);
      T* d = d1_.data();
      parallel_for(x_.numel(), kElementwiseGrain, [&](index_t b, index_t e) {
        for (index_t i = b; i < e; ++i) y[i] = Fn::f(x[i]), d[i] = Fn::d1(x[i], y[i]);
      });
    } else {
      parallel_for(x_.numel(), kElementwiseGrain, [&](index_t b, index_t e) {
        for (index_t i = b; i < e; ++i) y[i] = Fn::f(x[i]);
      });
    }
  }
  // f'(xᵢ), kept from the forward pass or recomputed.
  T d1(index_t i) const {
    if constexpr (Fn::store_d1) return d1_.data()[i];
    return Fn::d1(x_.data[i], y_.data[i]);
  }

  void vjp(const VjpArgs<T>& a) override {
    if (a.dx[0].empty()) return;
    const T* dy = a.dy.data;
    detail::write_elementwise(a.dx[0].data, x_.numel(), a.dx_assign[0],
                              [&](index_t i) { return d1(i) * dy[i]; });
  }

  void jvp(const JvpArgs<T>& a) override {
    T* yd = a.y_dot.data;
    if (a.x_dot[0].empty()) {
      std::fill(yd, yd + x_.numel(), T(0));
      return;
    }
    const T* xd = a.x_dot[0].data;
    parallel_for(x_.numel(), kElementwiseGrain, [&](index_t b, index_t e) {
      for (index_t i = b; i < e; ++i) yd[i] = d1(i) * xd[i];
    });
  }

  void vjp_rop(const VjpRopArgs<T>& a) override {
    if (a.dx_dot[0].empty()) return;
    const T *x = x_.data, *y = y_.data, *dy = a.dy.data, *rdy = a.dy_dot.data;
    T* rdx = a.dx_dot[0].data;
    const bool assign = a.dx_dot_assign[0];
    // With and without the second-order term as separate loops, both branch-free.
    if (a.x_dot[0].empty() || Fn::piecewise_linear) {
      detail::write_elementwise(rdx, x_.numel(), assign, [&](index_t i) { return d1(i) * rdy[i]; });
      return;
    }
    const T* xd = a.x_dot[0].data;
    detail::write_elementwise(rdx, x_.numel(), assign, [&](index_t i) {
      return d1(i) * rdy[i] + Fn::d2(x[i], y[i]) * xd[i] * dy[i];
    });
  }

 private:
  View<const T> x_, y_;
  Tensor<T> d1_;  // f'(x), for Fn::store_d1
};

template <class Fn, class T>
Value activation(Tape<T>& t, Value x) {
  Value y = t.new_value(t.shape(x), t.depends(x));
  auto node = std::make_unique<Activation<T, Fn>>(t.value(x), t.value(y));
  node->forward(t.value(y).data);
  t.record(std::move(node), {x}, y);
  return y;
}

}  // namespace

namespace ops {

template <class T>
Value relu(Tape<T>& t, Value x) {
  return activation<Relu>(t, x);
}
template <class T>
Value tanh(Tape<T>& t, Value x) {
  return activation<Tanh>(t, x);
}
template <class T>
Value sigmoid(Tape<T>& t, Value x) {
  return activation<Sigmoid>(t, x);
}
template <class T>
Value gelu(Tape<T>& t, Value x) {
  return activation<Gelu>(t, x);
}

#define CURV_INSTANTIATE(T)                   \
  template Value relu<T>(Tape<T>&, Value);    \
  template Value tanh<T>(Tape<T>&, Value);    \
  template Value sigmoid<T>(Tape<T>&, Value); \
  template Value gelu<T>(Tape<T>&, Value);
CURV_INSTANTIATE(float)
CURV_INSTANTIATE(double)
#undef CURV_INSTANTIATE

}  // namespace ops
}  // namespace curv
