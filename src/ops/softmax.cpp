// softmax and log-softmax over the last dimension, row by row (C = row length).
//
// softmax      y = exp(x) / Σ exp(x)
//   vjp        x̄ += y ⊙ (ȳ − ⟨ȳ,y⟩)
//   jvp        ẏ  = y ⊙ (ẋ − ⟨ẋ,y⟩)
//   vjp_rop    R{x̄} += ẏ ⊙ (ȳ − ⟨ȳ,y⟩) + y ⊙ (R{ȳ} − ⟨R{ȳ},y⟩ − ⟨ȳ,ẏ⟩)
// log_softmax  y = x − log Σ exp(x),  p = exp(y)
//   vjp        x̄ += ȳ − p Σȳ
//   jvp        ẏ  = ẋ − ⟨p,ẋ⟩
//   vjp_rop    R{x̄} += R{ȳ} − p ΣR{ȳ} − (p ⊙ ẏ) Σȳ
#include <cmath>

#include "common.hpp"
#include "curv/ops/ops.hpp"

namespace curv {
namespace {

template <class T>
void log_softmax_rows(const T* x, T* y, index_t rows, index_t c) {
  for (index_t r = 0; r < rows; ++r) {
    const T* xr = x + r * c;
    T* yr = y + r * c;
    const T m = *std::max_element(xr, xr + c);
    T s = 0;
    for (index_t j = 0; j < c; ++j) s += std::exp(xr[j] - m);
    const T lse = m + std::log(s);
    for (index_t j = 0; j < c; ++j) yr[j] = xr[j] - lse;
  }
}

template <class T>
T row_dot(const T* a, const T* b, index_t c) {
  T s = 0;
  for (index_t j = 0; j < c; ++j) s += a[j] * b[j];
  return s;
}

template <class T>
class Softmax final : public Node<T> {
 public:
  Softmax(View<const T> y, index_t c) : y_(y), rows_(y.numel() / c), c_(c) {}
  std::string_view name() const override { return "softmax"; }

  void vjp(const VjpArgs<T>& a) override {
    if (a.dx[0].empty()) return;
    for (index_t r = 0; r < rows_; ++r) {
      const T *y = row(y_.data, r), *dy = row(a.dy.data, r);
      T* dx = row(a.dx[0].data, r);
      const T s = row_dot(dy, y, c_);
      for (index_t j = 0; j < c_; ++j) dx[j] += y[j] * (dy[j] - s);
    }
  }
  void jvp(const JvpArgs<T>& a) override {
    if (a.x_dot[0].empty()) return std::fill(a.y_dot.begin(), a.y_dot.end(), T(0));
    for (index_t r = 0; r < rows_; ++r) {
      const T *y = row(y_.data, r), *xd = row(a.x_dot[0].data, r);
      T* yd = row(a.y_dot.data, r);
      const T s = row_dot(xd, y, c_);
      for (index_t j = 0; j < c_; ++j) yd[j] = y[j] * (xd[j] - s);
    }
  }
  void vjp_rop(const VjpRopArgs<T>& a) override {
    if (a.dx_dot[0].empty()) return;
    for (index_t r = 0; r < rows_; ++r) {
      const T *y = row(y_.data, r), *dy = row(a.dy.data, r), *rdy = row(a.dy_dot.data, r);
      T* rdx = row(a.dx_dot[0].data, r);
      const T s = row_dot(dy, y, c_), rs = row_dot(rdy, y, c_);
      if (a.x_dot[0].empty()) {
        for (index_t j = 0; j < c_; ++j) rdx[j] += y[j] * (rdy[j] - rs);
        continue;
      }
      // ẏ recomputed from ẋ: cheaper than keeping the tangent sweep's copy alive.
      const T* xd = row(a.x_dot[0].data, r);
      const T xs = row_dot(xd, y, c_);
      T dy_ydot = 0;
      for (index_t j = 0; j < c_; ++j) dy_ydot += dy[j] * y[j] * (xd[j] - xs);
      for (index_t j = 0; j < c_; ++j) {
        const T ydot = y[j] * (xd[j] - xs);
        rdx[j] += ydot * (dy[j] - s) + y[j] * (rdy[j] - rs - dy_ydot);
      }
    }
  }

 private:
  template <class P>
  P* row(P* base, index_t r) const {
    return base + r * c_;
  }
  View<const T> y_;
  index_t rows_, c_;
};

template <class T>
class LogSoftmax final : public Node<T> {
 public:
  LogSoftmax(View<const T> y, index_t c) : y_(y), rows_(y.numel() / c), c_(c) {}
  std::string_view name() const override { return "log_softmax"; }

  void vjp(const VjpArgs<T>& a) override {
    if (a.dx[0].empty()) return;
    for (index_t r = 0; r < rows_; ++r) {
      const T *y = row(y_.data, r), *dy = row(a.dy.data, r);
      T* dx = row(a.dx[0].data, r);
      T s = 0;
      for (index_t j = 0; j < c_; ++j) s += dy[j];
      for (index_t j = 0; j < c_; ++j) dx[j] += dy[j] - std::exp(y[j]) * s;
    }
  }
  void jvp(const JvpArgs<T>& a) override {
    if (a.x_dot[0].empty()) return std::fill(a.y_dot.begin(), a.y_dot.end(), T(0));
    for (index_t r = 0; r < rows_; ++r) {
      const T *y = row(y_.data, r), *xd = row(a.x_dot[0].data, r);
      T* yd = row(a.y_dot.data, r);
      T s = 0;
      for (index_t j = 0; j < c_; ++j) s += std::exp(y[j]) * xd[j];
      for (index_t j = 0; j < c_; ++j) yd[j] = xd[j] - s;
    }
  }
  void vjp_rop(const VjpRopArgs<T>& a) override {
    if (a.dx_dot[0].empty()) return;
    for (index_t r = 0; r < rows_; ++r) {
      const T *y = row(y_.data, r), *dy = row(a.dy.data, r), *rdy = row(a.dy_dot.data, r);
      T* rdx = row(a.dx_dot[0].data, r);
      T s = 0, rs = 0, ps = 0;
      for (index_t j = 0; j < c_; ++j) s += dy[j], rs += rdy[j];
      const T* xd = a.x_dot[0].empty() ? nullptr : row(a.x_dot[0].data, r);
      if (xd)
        for (index_t j = 0; j < c_; ++j) ps += std::exp(y[j]) * xd[j];
      for (index_t j = 0; j < c_; ++j) {
        const T p = std::exp(y[j]);
        T v = rdy[j] - p * rs;
        if (xd) v -= p * (xd[j] - ps) * s;  // ṗ = p ⊙ ẏ,  ẏ = ẋ − ⟨p,ẋ⟩
        rdx[j] += v;
      }
    }
  }

 private:
  template <class P>
  P* row(P* base, index_t r) const {
    return base + r * c_;
  }
  View<const T> y_;
  index_t rows_, c_;
};

template <class T, template <class> class N, bool log>
Value record_softmax(Tape<T>& t, Value x) {
  const Shape s = t.shape(x);
  const index_t c = s[s.rank() - 1];
  Value y = t.new_value(s, t.depends(x));
  const View<T> vx = t.value(x), vy = t.value(y);
  log_softmax_rows(vx.data, vy.data, vx.numel() / c, c);
  if (!log)
    for (T& v : vy) v = std::exp(v);
  t.record(std::make_unique<N<T>>(vy, c), {x}, y);
  return y;
}

}  // namespace

namespace ops {

template <class T>
Value softmax(Tape<T>& t, Value x) {
  return record_softmax<T, Softmax, false>(t, x);
}
template <class T>
Value log_softmax(Tape<T>& t, Value x) {
  return record_softmax<T, LogSoftmax, true>(t, x);
}

template Value softmax<float>(Tape<float>&, Value);
template Value softmax<double>(Tape<double>&, Value);
template Value log_softmax<float>(Tape<float>&, Value);
template Value log_softmax<double>(Tape<double>&, Value);

}  // namespace ops
}  // namespace curv
