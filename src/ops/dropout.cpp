// dropout: y = x ⊙ m with m ∈ {0, 1/(1−p)} drawn once, when the op is recorded, from the caller's
// seeded Rng (so a run is reproducible and every pass sees the same mask). Linear in x:
//   vjp  x̄ += m ⊙ ȳ     jvp  ẏ = m ⊙ ẋ     vjp_rop  R{x̄} += m ⊙ R{ȳ}
#include <vector>

#include "common.hpp"
#include "curv/core/rng.hpp"
#include "curv/ops/ops.hpp"

namespace curv {
namespace {

template <class T>
class Dropout final : public Node<T> {
 public:
  explicit Dropout(std::vector<T> mask) : m_(std::move(mask)) {}
  std::string_view name() const override { return "dropout"; }
  bool assigns_fresh_adjoints() const override { return true; }

  void apply(const T* x, T* y) const {
    for (std::size_t i = 0; i < m_.size(); ++i) y[i] = m_[i] * x[i];
  }
  void vjp(const VjpArgs<T>& a) override {
    if (a.dx[0].empty()) return;
    detail::write_elementwise(a.dx[0].data, index_t(m_.size()), a.dx_assign[0],
                              [&](index_t i) { return m_[std::size_t(i)] * a.dy[i]; });
  }
  void jvp(const JvpArgs<T>& a) override {
    if (a.x_dot[0].empty()) return std::fill(a.y_dot.begin(), a.y_dot.end(), T(0));
    apply(a.x_dot[0].data, a.y_dot.data);
  }
  void vjp_rop(const VjpRopArgs<T>& a) override {
    if (a.dx_dot[0].empty()) return;
    detail::write_elementwise(a.dx_dot[0].data, index_t(m_.size()), a.dx_dot_assign[0],
                              [&](index_t i) { return m_[std::size_t(i)] * a.dy_dot[i]; });
  }

 private:
  std::vector<T> m_;
};

}  // namespace

namespace ops {

template <class T>
Value dropout(Tape<T>& t, Value x, double p, Rng& rng) {
  CURV_CHECK(p >= 0 && p < 1, "dropout: expected a probability in [0,1), found ", p);
  if (p == 0) return x;
  const index_t n = t.shape(x).numel();
  std::vector<T> mask(static_cast<std::size_t>(n));
  const T keep = T(1 / (1 - p));
  for (T& m : mask) m = rng.uniform() < p ? T(0) : keep;
  Value y = t.new_value(t.shape(x), t.depends(x));
  auto node = std::make_unique<Dropout<T>>(std::move(mask));
  node->apply(t.value(x).data, t.value(y).data);
  t.record(std::move(node), {x}, y);
  return y;
}

template Value dropout<float>(Tape<float>&, Value, double, Rng&);
template Value dropout<double>(Tape<double>&, Value, double, Rng&);

}  // namespace ops
}  // namespace curv
