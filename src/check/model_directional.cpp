// Checks of the full-size models (MLP 784-256-256-10, LeNet-5), too large for dense matrices:
// every product is checked along random unit directions instead, in float64 on a small batch.
#include <cmath>

#include "curv/check/check.hpp"
#include "curv/nn/objective.hpp"
#include "vectors.hpp"

namespace curv::check {
namespace {

using detail::dot;
using detail::Vec;
// Small enough that no ReLU or max-pool kink is crossed along a unit direction, large enough
// that rounding stays far below the tolerance.
constexpr double kStep = 1e-7;

Vec unit(Rng& rng, std::size_t n) {
  Vec v(n);
  double s = 0;
  for (double& e : v) {
    e = rng.normal();
    s += e * e;
  }
  for (double& e : v) e /= std::sqrt(s);
  return v;
}

}  // namespace

std::vector<Row> check_model_directional(const std::string& name, std::uint64_t seed) {
  Rng rng(seed);
  auto model = make_model<double>(name);
  model->init(rng);
  auto loss = make_loss<double>(model->loss());
  Objective<double> obj(*model, *loss);
  const std::string subject = "model/" + name;
  const index_t N = 2;
  Shape xs{N};
  for (int i = 0; i < model->input_shape().rank(); ++i) xs.push_back(model->input_shape()[i]);
  Vec x(static_cast<std::size_t>(xs.numel()));
  const bool tokens = name == "transformer" || name == "t2t";
  for (double& e : x)
    e = tokens ? double(rng.below(std::uint64_t(model->outputs()))) : rng.uniform();
  const View<const double> xv(x.data(), xs);
  // Targets: a label per output row (one per position for sequence models), or the input
  // itself for a reconstruction loss.
  Tape<double> probe;
  const index_t out_rows = probe.shape(model->forward(probe, probe.input(xv))).rows();
  std::vector<std::int64_t> labels(static_cast<std::size_t>(out_rows));
  for (auto& l : labels) l = std::int64_t(rng.below(std::uint64_t(model->outputs())));
  const Targets<double> tg{labels.data(), View<const double>(x.data(), Shape{N, xs.numel() / N})};
  const std::size_t P = static_cast<std::size_t>(model->params().size()),
                    M = static_cast<std::size_t>(out_rows * model->outputs());
  double* theta = model->params().data();
  const Vec theta0(theta, theta + P);

  auto shifted = [&](const Vec& d, double h) {
    for (std::size_t i = 0; i < P; ++i) theta[i] = theta0[i] + h * d[i];
    return obj.set_batch(xv, tg);
  };
  auto grad_at = [&](const Vec& d, double h) {
    shifted(d, h);
    Vec g(P);
    obj.gradient(g.data());
    return g;
  };

  // The loss is checked along a direction half along the gradient, so the slope is large next
  // to the rounding of L in the difference quotient.
  Vec g(P), d = unit(rng, P);
  const Vec v = unit(rng, P), w = unit(rng, P);
  obj.set_batch(xv, tg);
  obj.gradient(g.data());
  const double gn = std::sqrt(dot(g, g));
  for (std::size_t i = 0; i < P; ++i) d[i] = (d[i] + g[i] / gn) / std::sqrt(2.0);
  const double fd_slope = (shifted(d, kStep) - shifted(d, -kStep)) / (2 * kStep);
  const Vec gp = grad_at(v, kStep), gm = grad_at(v, -kStep);
  Vec hv_fd(P), jv_fd(M);
  for (std::size_t i = 0; i < P; ++i) hv_fd[i] = (gp[i] - gm[i]) / (2 * kStep);
  shifted(v, kStep);
  const Vec op(obj.output().begin(), obj.output().end());
  shifted(v, -kStep);
  for (std::size_t i = 0; i < M; ++i)
    jv_fd[i] = (op[i] - obj.output()[static_cast<index_t>(i)]) / (2 * kStep);

  shifted(d, 0);  // back at θ₀, one recording for every exact product
  Vec Hv(P), Gv(P), Gw(P), G_rows(static_cast<std::size_t>(N) * P), Jv(M), HJv(M), G_fd(P);
  obj.gradient(g.data());
  obj.hvp(v.data(), Hv.data());
  obj.ggn_vp(v.data(), Gv.data());
  obj.ggn_vp(w.data(), Gw.data());
  obj.per_example_gradients(G_rows.data());
  obj.jvp(v.data(), Jv.data());
  loss->hvp(jv_fd.data(), HJv.data());  // G·v rebuilt around a finite-difference J·v
  obj.vjp(HJv.data(), G_fd.data());

  std::vector<Row> rows;
  auto add = [&](const char* pass, double err, double tol) {
    rows.push_back({subject, pass, err, tol});
  };
  add("gradient_along_d", relative_error({dot(g, d)}, {fd_slope}), kDerivativeTol);
  add("hvp_along_v", relative_error(Hv, hv_fd), kDerivativeTol);
  add("per_example_mean", relative_error(detail::mean_rows(G_rows, N, P), g), kAdjointTol);
  add("jvp_along_v", relative_error(Jv, jv_fd), kDerivativeTol);
  add("ggn_along_v", relative_error(Gv, G_fd), kDerivativeTol);
  const double wGv = dot(w, Gv), vGw = dot(v, Gw);
  add("ggn_symmetric", std::abs(wGv - vGw) / std::max(std::abs(wGv), std::abs(vGw)), kAdjointTol);
  // vᵀGv ≥ 0 for the unit vector v: any negative part, relative to ‖Gv‖, is an error.
  add("ggn_psd", std::max(0.0, -dot(v, Gv)) / std::sqrt(dot(Gv, Gv)), kAdjointTol);
  return rows;
}

}  // namespace curv::check
