// batch_norm over the batch (and spatial) positions of each channel, x:(N,C) or (N,C,H,W).
// Train mode normalizes with the batch's statistics, exactly like layer_norm but over the
// M = N·H·W positions of a channel (see layer_norm.cpp for the four passes; here mean(·) is
// over those positions), and updates the running statistics:
//   running_mean ← (1−m) running_mean + m μ,  running_var ← (1−m) running_var + m var·M/(M−1)
// Eval mode is the fixed affine map y = γ (x − running_mean)/√(running_var + ε) + β.
// In train mode examples interact through μ and var: a "per-example" gradient there is each
// example's share of γ̄, β̄ and the input adjoints, which sums to the batch gradient but is not
// the gradient of ℓₙ alone.
#include <cmath>

#include "common.hpp"
#include "curv/ops/ops.hpp"

namespace curv {
namespace {

template <class T>
class BatchNorm final : public Node<T> {
 public:
  BatchNorm(View<const T> x, ParamRef<T> g, ParamRef<T> b, bool train, double eps)
      : x_(x),
        g_(g),
        b_(b),
        N_(x.shape[0]),
        C_(x.shape[1]),
        S_(x.numel() / (x.shape[0] * x.shape[1])),
        train_(train),
        eps_(eps),
        xhat_(x.shape),
        r_(Shape{C_}) {}
  std::string_view name() const override { return "batch_norm"; }
  std::array<index_t, 2> parameter_offsets() const override { return {g_.offset, b_.offset}; }

  // Normalizes with batch statistics (train) or the running ones (eval).
  void forward(T* y, T* running_mean, T* running_var, double momentum) {
    const T* gamma = g_.value.data;
    const T* beta = b_.value.data;
    const double M = double(N_ * S_);
    for (index_t c = 0; c < C_; ++c) {
      double mu = running_mean[c], var = running_var[c];
      if (train_) {
        mu = 0, var = 0;
        for_channel(c, [&](index_t i) { mu += double(x_[i]); });
        mu /= M;
        for_channel(c, [&](index_t i) { var += (double(x_[i]) - mu) * (double(x_[i]) - mu); });
        var /= M;
        running_mean[c] = T((1 - momentum) * running_mean[c] + momentum * mu);
        running_var[c] =
            T((1 - momentum) * running_var[c] + momentum * var * M / std::max(1.0, M - 1));
      }
      const T r = T(1 / std::sqrt(var + eps_));
      r_[c] = r;
      for_channel(c, [&](index_t i) {
        xhat_[i] = (x_[i] - T(mu)) * r;
        y[i] = gamma[c] * xhat_[i] + beta[c];
      });
    }
  }

  void vjp(const VjpArgs<T>& a) override {
    const T* gamma = g_.value.data;
    const index_t gc = a.dtheta.column(g_.offset), bc = a.dtheta.column(b_.offset);
    for (index_t c = 0; c < C_; ++c) {
      if (a.dtheta.mode != ParamGrad<T>::Mode::None)
        for (index_t n = 0; n < N_; ++n) {
          T* dp = a.dtheta.data +
                  (a.dtheta.mode == ParamGrad<T>::Mode::PerExample ? n * a.dtheta.stride : 0);
          for (index_t s = 0; s < S_; ++s) {
            const index_t i = (n * C_ + c) * S_ + s;
            if (gc >= 0) dp[gc + c] += a.dy[i] * xhat_[i];
            if (bc >= 0) dp[bc + c] += a.dy[i];
          }
        }
      if (a.dx[0].empty()) continue;
      if (!train_) {  // fixed affine map
        for_channel(c, [&](index_t i) { a.dx[0][i] += a.dy[i] * gamma[c] * r_[c]; });
        continue;
      }
      T mg = 0, mgx = 0;
      for_channel(
          c, [&](index_t i) { mg += a.dy[i] * gamma[c], mgx += a.dy[i] * gamma[c] * xhat_[i]; });
      mg /= T(N_ * S_), mgx /= T(N_ * S_);
      for_channel(
          c, [&](index_t i) { a.dx[0][i] += r_[c] * (a.dy[i] * gamma[c] - mg - xhat_[i] * mgx); });
    }
  }

  void jvp(const JvpArgs<T>& a) override {
    const T* gamma = g_.value.data;
    const T* xd = a.x_dot[0].empty() ? nullptr : a.x_dot[0].data;
    for (index_t c = 0; c < C_; ++c) {
      const auto [m, ad] = moments(c, xd);
      for_channel(c, [&](index_t i) {
        const T xhd = xd ? r_[c] * (xd[i] - (train_ ? m + xhat_[i] * ad : T(0))) : T(0);
        T v = gamma[c] * xhd;
        if (a.theta_dot) v += a.theta_dot[g_.offset + c] * xhat_[i] + a.theta_dot[b_.offset + c];
        a.y_dot[i] = v;
      });
    }
  }

  void vjp_rop(const VjpRopArgs<T>& a) override {
    const T* gamma = g_.value.data;
    const T* xd = a.x_dot[0].empty() ? nullptr : a.x_dot[0].data;
    const T* td = a.theta_dot;
    const T M = T(N_ * S_);
    for (index_t c = 0; c < C_; ++c) {
      const auto [m, ad] = moments(c, xd);
      auto xhd = [&](index_t i) {
        return xd ? r_[c] * (xd[i] - (train_ ? m + xhat_[i] * ad : T(0))) : T(0);
      };
      if (a.dtheta_dot)
        for_channel(c, [&](index_t i) {
          a.dtheta_dot[g_.offset + c] += a.dy_dot[i] * xhat_[i] + a.dy[i] * xhd(i);
          a.dtheta_dot[b_.offset + c] += a.dy_dot[i];
        });
      if (a.dx_dot[0].empty()) continue;
      const T gd_c = td ? td[g_.offset + c] : T(0);
      if (!train_) {
        for_channel(c, [&](index_t i) {
          a.dx_dot[0][i] += (a.dy_dot[i] * gamma[c] + a.dy[i] * gd_c) * r_[c];
        });
        continue;
      }
      const T r = r_[c], rd = -r * r * ad;
      T mg = 0, cc = 0, mgd = 0, cd = 0;
      for_channel(c, [&](index_t i) {
        const T g = a.dy[i] * gamma[c], gd = a.dy_dot[i] * gamma[c] + a.dy[i] * gd_c;
        mg += g, cc += g * xhat_[i], mgd += gd, cd += gd * xhat_[i] + g * xhd(i);
      });
      mg /= M, cc /= M, mgd /= M, cd /= M;
      for_channel(c, [&](index_t i) {
        const T g = a.dy[i] * gamma[c], gd = a.dy_dot[i] * gamma[c] + a.dy[i] * gd_c;
        a.dx_dot[0][i] +=
            rd * (g - mg - xhat_[i] * cc) + r * (gd - mgd - xhd(i) * cc - xhat_[i] * cd);
      });
    }
  }

 private:
  template <class F>
  void for_channel(index_t c, F&& f) const {
    for (index_t n = 0; n < N_; ++n)
      for (index_t s = 0; s < S_; ++s) f((n * C_ + c) * S_ + s);
  }
  // mean(ẋ) and a = mean(x̂ ⊙ ẋ) over channel c (zero without ẋ).
  std::pair<T, T> moments(index_t c, const T* xd) const {
    if (!xd) return {T(0), T(0)};
    T m = 0, a = 0;
    for_channel(c, [&](index_t i) { m += xd[i], a += xhat_[i] * xd[i]; });
    return {m / T(N_ * S_), a / T(N_ * S_)};
  }

  View<const T> x_;
  ParamRef<T> g_, b_;
  index_t N_, C_, S_;
  bool train_;
  double eps_;
  Tensor<T> xhat_, r_;
};

}  // namespace

namespace ops {

template <class T>
Value batch_norm(Tape<T>& t, Value x, ParamRef<T> gamma, ParamRef<T> beta, View<T> running_mean,
                 View<T> running_var, bool train, double momentum, double eps) {
  const Shape xs = t.shape(x);
  CURV_CHECK((xs.rank() == 2 || xs.rank() == 4) && gamma.value.shape == Shape{xs[1]} &&
                 beta.value.shape == Shape{xs[1]} && running_mean.numel() == xs[1] &&
                 running_var.numel() == xs[1],
             "batch_norm: expected input (N,C) or (N,C,H,W) with weight, bias and running "
             "statistics [C], found ",
             xs.str(), " and ", gamma.value.shape.str());
  CURV_CHECK(!train || xs[0] * (xs.numel() / (xs[0] * xs[1])) > 1,
             "batch_norm: expected more than one value per channel in train mode, found input ",
             xs.str());
  Value y = t.new_value(xs, true);
  auto node = std::make_unique<BatchNorm<T>>(t.value(x), gamma, beta, train, eps);
  node->forward(t.value(y).data, running_mean.data, running_var.data, momentum);
  t.record(std::move(node), {x}, y);
  return y;
}

template Value batch_norm<float>(Tape<float>&, Value, ParamRef<float>, ParamRef<float>, View<float>,
                                 View<float>, bool, double, double);
template Value batch_norm<double>(Tape<double>&, Value, ParamRef<double>, ParamRef<double>,
                                  View<double>, View<double>, bool, double, double);

}  // namespace ops
}  // namespace curv
