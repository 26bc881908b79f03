// Checks of a loss's passes and of its output-Hessian square roots (see check.hpp).
#include <cmath>

#include "curv/check/check.hpp"
#include "curv/core/error.hpp"
#include "curv/loss/adapted.hpp"
#include "curv/loss/loss.hpp"

namespace curv::check {
namespace {

using Vec = std::vector<double>;
constexpr double kStep = 1e-6;
constexpr index_t N = 3, C = 4;

// S Sᵀ per example, as an (N, C, C) stack.
Vec outer_blocks(const Vec& s, index_t k) {
  Vec h(static_cast<std::size_t>(N * C * C), 0.0);
  for (index_t n = 0; n < N; ++n)
    for (index_t i = 0; i < C; ++i)
      for (index_t j = 0; j < C; ++j) {
        double acc = 0;
        for (index_t m = 0; m < k; ++m)
          acc += s[static_cast<std::size_t>((n * C + i) * k + m)] *
                 s[static_cast<std::size_t>((n * C + j) * k + m)];
        h[static_cast<std::size_t>((n * C + i) * C + j)] = acc;
      }
  return h;
}

// A loss by name: a base loss, "weighted:<base>" (random weights in [0, 2), one of them 0) or
// "bregman:<base>" (the targets' values are its anchors).
std::unique_ptr<Loss<double>> checked_loss(const std::string& name, Rng& rng) {
  const auto colon = name.find(':');
  if (colon == std::string::npos) return make_loss<double>(name);
  const std::string kind = name.substr(0, colon), base = name.substr(colon + 1);
  if (kind == "bregman") return make_bregman_loss<double>(base);
  CURV_CHECK(kind == "weighted",
             "check: expected a loss, weighted:<loss> or bregman:<loss>, found '", name, "'");
  auto w = std::make_unique<WeightedLoss<double>>(make_loss<double>(base));
  std::vector<double> weights(static_cast<std::size_t>(N));
  for (double& v : weights) v = 2 * rng.uniform();
  weights[1] = 0;
  w->set_weights(weights);
  return w;
}

}  // namespace

std::vector<std::string> loss_case_names() {
  std::vector<std::string> names;
  for (const char* prefix : {"", "weighted:", "bregman:"})
    for (const char* l : {"cross_entropy", "bce", "mse"}) names.push_back(prefix + std::string(l));
  return names;
}

std::vector<Row> check_loss(const std::string& name, std::uint64_t seed) {
  Rng rng(seed);
  auto loss = checked_loss(name, rng);
  const std::string subject = "loss/" + name;
  Vec z(static_cast<std::size_t>(N * C)), target(z.size());
  std::vector<std::int64_t> labels(static_cast<std::size_t>(N));
  for (double& v : z) v = rng.normal();
  for (double& v : target) v = name == "bce" ? rng.uniform() : rng.normal();
  for (auto& l : labels) l = static_cast<std::int64_t>(rng.below(C));
  const Targets<double> tg{labels.data(), View<const double>(target.data(), Shape{N, C})};
  auto value = [&](const Vec& p) {
    return loss->forward(View<const double>(p.data(), Shape{N, C}), tg);
  };
  auto gradient = [&](const Vec& p) {
    value(p);
    Vec g(p.size());
    loss->grad(g.data());
    return g;
  };
  std::vector<Row> rows;
  auto add = [&](const char* pass, double err, double tol) {
    rows.push_back({subject, pass, err, tol});
  };

  // vjp (the gradient) and vjp_rop (the output Hessian) against differences, column by column.
  const std::size_t nz = z.size();
  const Vec g = gradient(z);
  Vec g_fd(nz), H(nz * nz), H_fd(nz * nz);
  value(z);
  for (std::size_t i = 0; i < nz; ++i) {  // H e_i, before differences move the loss elsewhere
    Vec e(nz, 0.0);
    e[i] = 1;
    loss->hvp(e.data(), H.data() + i * nz);
  }
  for (std::size_t i = 0; i < nz; ++i) {
    Vec zp = z, zm = z;
    zp[i] += kStep, zm[i] -= kStep;
    g_fd[i] = (value(zp) - value(zm)) / (2 * kStep);
    const Vec gp = gradient(zp), gm = gradient(zm);
    for (std::size_t j = 0; j < nz; ++j) H_fd[i * nz + j] = (gp[j] - gm[j]) / (2 * kStep);
  }
  add("vjp", relative_error(g, g_fd), kDerivativeTol);
  add("vjp_rop", relative_error(H, H_fd), kDerivativeTol);

  // jvp: ⟨∇L, ż⟩ against the directional difference of L.
  Vec zd(nz), zp = z, zm = z;
  for (double& v : zd) v = rng.normal();
  for (std::size_t i = 0; i < nz; ++i) zp[i] += kStep * zd[i], zm[i] -= kStep * zd[i];
  double jvp = 0;
  for (std::size_t i = 0; i < nz; ++i) jvp += g[i] * zd[i];
  add("jvp", relative_error({jvp}, {(value(zp) - value(zm)) / (2 * kStep)}), kDerivativeTol);

  // Mean of per-example losses is the batch loss.
  const double L = value(z);
  Vec per(static_cast<std::size_t>(N));
  loss->per_example(per.data());
  double mean = 0;
  for (double v : per) mean += v / double(N);
  add("per_example", relative_error({mean}, {L}), kAdjointTol);

  // The output Hessian's blocks, from hvp, in (N, C, C) layout.
  Vec blocks(static_cast<std::size_t>(N * C * C));
  for (index_t n = 0; n < N; ++n)
    for (index_t i = 0; i < C; ++i)
      for (index_t j = 0; j < C; ++j)
        blocks[static_cast<std::size_t>((n * C + i) * C + j)] =
            H[static_cast<std::size_t>((n * C + i) * nz + n * C + j)];

  const index_t K = loss->sqrt_columns();
  Vec S(static_cast<std::size_t>(N * C * K));
  loss->sqrt_hessian(S.data());
  add("sqrt_factor", relative_error(outer_blocks(S, K), blocks), kAdjointTol);

  Vec R(static_cast<std::size_t>(N * C * C)), Rt(R.size());
  loss->symmetric_sqrt(R.data());
  for (index_t n = 0; n < N; ++n)
    for (index_t i = 0; i < C; ++i)
      for (index_t j = 0; j < C; ++j)
        Rt[static_cast<std::size_t>((n * C + i) * C + j)] =
            R[static_cast<std::size_t>((n * C + j) * C + i)];
  add("symmetric_sqrt", std::max(relative_error(outer_blocks(R, C), blocks), relative_error(R, Rt)),
      kAdjointTol);

  // Monte-Carlo factor: E[S Sᵀ] = H. With 40,000 draws the mean's relative error is ~1%;
  // 5% is a statistical bound, not a derivative tolerance.
  const index_t M = 40000;
  Vec Sm(static_cast<std::size_t>(N * C * M));
  loss->sampled_sqrt(rng, M, Sm.data());
  add("sampled_sqrt (MC)", relative_error(outer_blocks(Sm, M), blocks), 5e-2);
  return rows;
}

}  // namespace curv::check
