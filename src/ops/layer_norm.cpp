// layer_norm over the last dimension D, per row:  y = γ ⊙ x̂ + β,  x̂ = (x − μ) r,
// r = 1/√(var + ε), μ and var the row's mean and (biased) variance. mean(·) is over the row.
//   vjp      γ̄ += Σ_rows ȳ ⊙ x̂,  β̄ += Σ_rows ȳ,  with g = ȳ ⊙ γ:
//            x̄ += r (g − mean(g) − x̂ mean(g ⊙ x̂))
//   jvp      ẋ̂ = r (ẋ − mean(ẋ) − x̂ a),  a = mean(x̂ ⊙ ẋ);   ẏ = γ ⊙ ẋ̂ + γ̇ ⊙ x̂ + β̇
//   vjp_rop  with ṙ = −r² a, ġ = R{ȳ} ⊙ γ + ȳ ⊙ γ̇, c = mean(g ⊙ x̂), ċ = mean(ġ ⊙ x̂ + g ⊙ ẋ̂):
//            R{x̄} += ṙ (g − mean(g) − x̂ c) + r (ġ − mean(ġ) − ẋ̂ c − x̂ ċ)
//            R{γ̄} += Σ_rows (R{ȳ} ⊙ x̂ + ȳ ⊙ ẋ̂),  R{β̄} += Σ_rows R{ȳ}
// (The variance's derivative is 2 mean((x − μ) ẋ), so ṙ = −r³ mean((x − μ) ẋ) = −r² a.)
#include <cmath>

#include "common.hpp"
#include "curv/ops/ops.hpp"

namespace curv {
namespace {

template <class T>
class LayerNorm final : public Node<T> {
 public:
  LayerNorm(View<const T> x, ParamRef<T> g, ParamRef<T> b, index_t examples, double eps)
      : x_(x),
        g_(g),
        b_(b),
        D_(g.value.numel()),
        R_(x.numel() / g.value.numel()),
        N_(examples),
        eps_(eps),
        xhat_(Shape{R_, D_}),
        r_(Shape{R_}) {}

  std::string_view name() const override { return "layer_norm"; }
  std::array<index_t, 2> parameter_offsets() const override { return {g_.offset, b_.offset}; }

  void forward(T* y) {
    const T* gamma = g_.value.data;
    const T* beta = b_.value.data;
    parallel_for(R_, std::max<index_t>(1, kElementwiseGrain / D_), [&](index_t i0, index_t i1) {
      for (index_t i = i0; i < i1; ++i) {
        const T* x = x_.data + i * D_;
        T mu = 0, var = 0;  // two passes: the centred sum of squares stays accurate
        for (index_t j = 0; j < D_; ++j) mu += x[j];
        mu /= T(D_);
        for (index_t j = 0; j < D_; ++j) var += (x[j] - mu) * (x[j] - mu);
        const T r = T(1) / std::sqrt(var / T(D_) + T(eps_));
        r_[i] = r;
        T* xh = xhat(i);
        for (index_t j = 0; j < D_; ++j) {
          xh[j] = (x[j] - mu) * r;
          y[i * D_ + j] = gamma[j] * xh[j] + beta[j];
        }
      }
    });
  }

  void vjp(const VjpArgs<T>& a) override {
    const T* gamma = g_.value.data;
    std::vector<T> g(static_cast<std::size_t>(D_));
    const index_t gc = a.dtheta.column(g_.offset), bc = a.dtheta.column(b_.offset);
    for (index_t i = 0; i < R_; ++i) {
      const T* dy = a.dy.data + i * D_;
      const T* xh = xhat(i);
      if (T* dp = param_grad(a.dtheta, i)) {
        if (gc >= 0)
          for (index_t j = 0; j < D_; ++j) dp[gc + j] += dy[j] * xh[j];
        if (bc >= 0)
          for (index_t j = 0; j < D_; ++j) dp[bc + j] += dy[j];
      }
      if (a.dx[0].empty()) continue;
      T mg = 0, mgx = 0;
      for (index_t j = 0; j < D_; ++j) g[j] = dy[j] * gamma[j], mg += g[j], mgx += g[j] * xh[j];
      mg /= T(D_), mgx /= T(D_);
      T* dx = a.dx[0].data + i * D_;
      for (index_t j = 0; j < D_; ++j) dx[j] += r_[i] * (g[j] - mg - xh[j] * mgx);
    }
  }

  void jvp(const JvpArgs<T>& a) override {
    const T* gamma = g_.value.data;
    const T* xd_all = a.x_dot[0].empty() ? nullptr : a.x_dot[0].data;
    std::vector<T> xhd(static_cast<std::size_t>(D_));
    for (index_t i = 0; i < R_; ++i) {
      const T* xh = xhat(i);
      T* yd = a.y_dot.data + i * D_;
      xhat_dot(i, xd_all, xhd.data());
      for (index_t j = 0; j < D_; ++j) {
        T v = gamma[j] * xhd[j];
        if (a.theta_dot) v += a.theta_dot[g_.offset + j] * xh[j] + a.theta_dot[b_.offset + j];
        yd[j] = v;
      }
    }
  }

  void vjp_rop(const VjpRopArgs<T>& a) override {
    const T* gamma = g_.value.data;
    const T* xd_all = a.x_dot[0].empty() ? nullptr : a.x_dot[0].data;
    const T* td = a.theta_dot;
    std::vector<T> xhd(static_cast<std::size_t>(D_)), g(xhd.size()), gd(xhd.size());
    for (index_t i = 0; i < R_; ++i) {
      const T* dy = a.dy.data + i * D_;
      const T* rdy = a.dy_dot.data + i * D_;
      const T* xh = xhat(i);
      const T ad = xhat_dot(i, xd_all, xhd.data());  // a = mean(x̂ ⊙ ẋ)
      if (a.dtheta_dot)
        for (index_t j = 0; j < D_; ++j) {
          a.dtheta_dot[g_.offset + j] += rdy[j] * xh[j] + dy[j] * xhd[j];
          a.dtheta_dot[b_.offset + j] += rdy[j];
        }
      if (a.dx_dot[0].empty()) continue;
      const T r = r_[i], rd = -r * r * ad;
      T mg = 0, c = 0, mgd = 0, cd = 0;
      for (index_t j = 0; j < D_; ++j) {
        g[j] = dy[j] * gamma[j];
        gd[j] = rdy[j] * gamma[j] + (td ? dy[j] * td[g_.offset + j] : T(0));
        mg += g[j], c += g[j] * xh[j], mgd += gd[j], cd += gd[j] * xh[j] + g[j] * xhd[j];
      }
      mg /= T(D_), c /= T(D_), mgd /= T(D_), cd /= T(D_);
      T* rdx = a.dx_dot[0].data + i * D_;
      for (index_t j = 0; j < D_; ++j)
        rdx[j] += rd * (g[j] - mg - xh[j] * c) + r * (gd[j] - mgd - xhd[j] * c - xh[j] * cd);
    }
  }

 private:
  T* xhat(index_t i) { return xhat_.data() + i * D_; }
  // ẋ̂ of row i into out (zero without ẋ); returns a = mean(x̂ ⊙ ẋ).
  T xhat_dot(index_t i, const T* xd_all, T* out) {
    if (!xd_all) {
      std::fill(out, out + D_, T(0));
      return T(0);
    }
    const T* xd = xd_all + i * D_;
    const T* xh = xhat(i);
    T m = 0, a = 0;
    for (index_t j = 0; j < D_; ++j) m += xd[j], a += xh[j] * xd[j];
    m /= T(D_), a /= T(D_);
    for (index_t j = 0; j < D_; ++j) out[j] = r_[i] * (xd[j] - m - xh[j] * a);
    return a;
  }
  // Where row i's parameter gradients go: the flat sum, its example's row, or nowhere.
  T* param_grad(const ParamGrad<T>& p, index_t i) const {
    switch (p.mode) {
      case ParamGrad<T>::Mode::Sum:
        return p.data;
      case ParamGrad<T>::Mode::PerExample:
        return p.data + (i / (R_ / N_)) * p.stride;
      default:
        return nullptr;
    }
  }

  View<const T> x_;
  ParamRef<T> g_, b_;
  index_t D_, R_, N_;
  double eps_;
  Tensor<T> xhat_, r_;
};

}  // namespace

namespace ops {

template <class T>
Value layer_norm(Tape<T>& t, Value x, ParamRef<T> gamma, ParamRef<T> beta, double eps) {
  const Shape xs = t.shape(x);
  const index_t D = gamma.value.numel();
  CURV_CHECK(xs.rank() >= 2 && xs[xs.rank() - 1] == D && gamma.value.shape == Shape{D} &&
                 beta.value.shape == Shape{D},
             "layer_norm: expected input (N,…,", D, ") and weight, bias [", D, "], found ",
             xs.str(), ", ", gamma.value.shape.str(), ", ", beta.value.shape.str());
  Value y = t.new_value(xs, true);
  auto node = std::make_unique<LayerNorm<T>>(t.value(x), gamma, beta, t.examples(), eps);
  node->forward(t.value(y).data);
  t.record(std::move(node), {x}, y);
  return y;
}

template Value layer_norm<float>(Tape<float>&, Value, ParamRef<float>, ParamRef<float>, double);
template Value layer_norm<double>(Tape<double>&, Value, ParamRef<double>, ParamRef<double>, double);

}  // namespace ops
}  // namespace curv
