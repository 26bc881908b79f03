// slice_tokens: the positions [begin, end) of x:(N,T,…) → (N, end−begin, …). Linear:
//   vjp  x̄[:, begin:end] += ȳ    jvp  ẏ = ẋ[:, begin:end]    vjp_rop  R{x̄}[:, begin:end] += R{ȳ}
#include "common.hpp"
#include "curv/ops/ops.hpp"

namespace curv {
namespace {

template <class T>
class SliceTokens final : public Node<T> {
 public:
  SliceTokens(index_t n, index_t t, index_t row, index_t begin, index_t end)
      : N_(n), T_(t), row_(row), b_(begin), len_(end - begin) {}
  std::string_view name() const override { return "slice_tokens"; }

  // out (N, len, row) = in[:, b:b+len] (or, adding, in[:, b:b+len] += out when scatter).
  void gather(const T* in, T* out) const {
    for (index_t n = 0; n < N_; ++n)
      std::copy(in + (n * T_ + b_) * row_, in + (n * T_ + b_ + len_) * row_, out + n * len_ * row_);
  }
  void scatter_add(const T* dy, T* dx) const {
    for (index_t n = 0; n < N_; ++n)
      axpy(len_ * row_, T(1), dy + n * len_ * row_, dx + (n * T_ + b_) * row_);
  }
  void vjp(const VjpArgs<T>& a) override {
    if (!a.dx[0].empty()) scatter_add(a.dy.data, a.dx[0].data);
  }
  void jvp(const JvpArgs<T>& a) override {
    if (a.x_dot[0].empty()) return std::fill(a.y_dot.begin(), a.y_dot.end(), T(0));
    gather(a.x_dot[0].data, a.y_dot.data);
  }
  void vjp_rop(const VjpRopArgs<T>& a) override {
    if (!a.dx_dot[0].empty()) scatter_add(a.dy_dot.data, a.dx_dot[0].data);
  }

 private:
  index_t N_, T_, row_, b_, len_;
};

}  // namespace

namespace ops {

template <class T>
Value slice_tokens(Tape<T>& t, Value x, index_t begin, index_t end) {
  const Shape s = t.shape(x);
  CURV_CHECK(s.rank() >= 2 && 0 <= begin && begin < end && end <= s[1],
             "slice_tokens: expected 0 <= begin < end <= ", s.rank() >= 2 ? s[1] : 0,
             " on (N,T,…), found [", begin, ", ", end, ") of ", s.str());
  Shape ys = s;
  ys[1] = end - begin;
  const index_t row = s.numel() / (s[0] * s[1]);
  Value y = t.new_value(ys, t.depends(x));
  auto node = std::make_unique<SliceTokens<T>>(s[0], s[1], row, begin, end);
  node->gather(t.value(x).data, t.value(y).data);
  t.record(std::move(node), {x}, y);
  return y;
}

template Value slice_tokens<float>(Tape<float>&, Value, index_t, index_t);
template Value slice_tokens<double>(Tape<double>&, Value, index_t, index_t);

}  // namespace ops
}  // namespace curv
