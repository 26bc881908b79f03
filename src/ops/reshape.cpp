// reshape / flatten: the same values under another shape. The forward shares storage with its
// input; the other passes copy, since adjoints and tangents are the input's, reshaped.
#include "common.hpp"
#include "curv/ops/ops.hpp"

namespace curv {
namespace {

template <class T>
class Reshape final : public Node<T> {
 public:
  explicit Reshape(index_t n) : n_(n) {}
  std::string_view name() const override { return "reshape"; }
  bool assigns_fresh_adjoints() const override { return true; }

  void vjp(const VjpArgs<T>& a) override {
    if (!a.dx[0].empty()) pass_back(a.dy.data, a.dx[0].data, a.dx_assign[0]);
  }
  void jvp(const JvpArgs<T>& a) override {
    T* yd = a.y_dot.data;
    if (a.x_dot[0].empty())
      std::fill(yd, yd + n_, T(0));
    else
      std::copy(a.x_dot[0].data, a.x_dot[0].data + n_, yd);
  }
  void vjp_rop(const VjpRopArgs<T>& a) override {
    if (!a.dx_dot[0].empty()) pass_back(a.dy_dot.data, a.dx_dot[0].data, a.dx_dot_assign[0]);
  }

 private:
  void pass_back(const T* dy, T* dx, bool assign) const {
    if (assign)
      std::copy(dy, dy + n_, dx);
    else
      axpy(n_, T(1), dy, dx);
  }
  index_t n_;
};

}  // namespace

namespace ops {

template <class T>
Value reshape(Tape<T>& t, Value x, Shape s) {
  CURV_CHECK(s.numel() == t.shape(x).numel(), "reshape: expected ", t.shape(x).numel(),
             " elements to match ", t.shape(x).str(), ", found ", s.str());
  Value y = t.alias(x, s);
  t.record(std::make_unique<Reshape<T>>(s.numel()), {x}, y);
  return y;
}

template <class T>
Value flatten(Tape<T>& t, Value x) {
  const Shape xs = t.shape(x);
  return reshape(t, x, Shape{xs.rows(), xs.row_size()});
}

template Value reshape<float>(Tape<float>&, Value, Shape);
template Value reshape<double>(Tape<double>&, Value, Shape);
template Value flatten<float>(Tape<float>&, Value);
template Value flatten<double>(Tape<double>&, Value);

}  // namespace ops
}  // namespace curv
