// add: y = a + b, same shapes (residual connections). Linear, so every pass is a sum:
//   vjp  ā += ȳ, b̄ += ȳ     jvp  ẏ = ȧ + ḃ     vjp_rop  R{ā} += R{ȳ}, R{b̄} += R{ȳ}
#include "common.hpp"
#include "curv/ops/ops.hpp"

namespace curv {
namespace {

template <class T>
void add_into(const T* src, T* dst, index_t n) {
  parallel_for(n, kElementwiseGrain, [&](index_t b, index_t e) {
    for (index_t i = b; i < e; ++i) dst[i] += src[i];
  });
}

template <class T>
class Add final : public Node<T> {
 public:
  explicit Add(index_t n) : n_(n) {}
  std::string_view name() const override { return "add"; }

  void vjp(const VjpArgs<T>& a) override {
    for (int i = 0; i < 2; ++i)
      if (!a.dx[i].empty()) add_into(a.dy.data, a.dx[i].data, n_);
  }
  void jvp(const JvpArgs<T>& a) override {
    T* yd = a.y_dot.data;
    std::fill(yd, yd + n_, T(0));
    for (int i = 0; i < 2; ++i)
      if (!a.x_dot[i].empty()) add_into(a.x_dot[i].data, yd, n_);
  }
  void vjp_rop(const VjpRopArgs<T>& a) override {
    for (int i = 0; i < 2; ++i)
      if (!a.dx_dot[i].empty()) add_into(a.dy_dot.data, a.dx_dot[i].data, n_);
  }

 private:
  index_t n_;
};

}  // namespace

namespace ops {

template <class T>
Value add(Tape<T>& t, Value a, Value b) {
  CURV_CHECK(t.shape(a) == t.shape(b), "add: expected equal shapes, found ", t.shape(a).str(),
             " and ", t.shape(b).str());
  Value y = t.new_value(t.shape(a), t.depends(a) || t.depends(b));
  const View<T> va = t.value(a), vb = t.value(b), vy = t.value(y);
  parallel_for(vy.numel(), kElementwiseGrain, [&](index_t s, index_t e) {
    for (index_t i = s; i < e; ++i) vy[i] = va[i] + vb[i];
  });
  t.record(std::make_unique<Add<T>>(vy.numel()), {a, b}, y);
  return y;
}

template Value add<float>(Tape<float>&, Value, Value);
template Value add<double>(Tape<double>&, Value, Value);

}  // namespace ops
}  // namespace curv
