// The training loop's hooks: regularizers (their gradient in every step, their curvature in
// K-FAC's quadratic model), mask projections that keep pruned weights and their optimizer state
// at zero, and optimizer state saved and restored exactly.
#include <doctest/doctest.h>

#include <cmath>

#include "curv/check/check.hpp"
#include "curv/optim/registry.hpp"
#include "curv/train/run.hpp"
#include "support/dense_curvature.hpp"
#include "support/errors.hpp"
#include "support/toy_data.hpp"

using namespace curv;
using namespace curv::testing;

namespace {

std::vector<std::uint8_t> half_mask(index_t P, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<std::uint8_t> keep(static_cast<std::size_t>(P));
  for (auto& k : keep) k = rng.uniform() < 0.5 ? 0 : 1;
  return keep;
}

// A regularizer whose gradient has the wrong length: the loop must refuse it.
struct ShortRegularizer final : Regularizer<float> {
  std::string name() const override { return "short"; }
  double value(View<const float>) const override { return 0; }
  void gradient(View<const float>, std::vector<float>& g) const override { g.assign(3, 0.f); }
  void curvature_mv(View<const float>, View<const float>, std::vector<float>& out) const override {
    out.assign(3, 0.f);
  }
};

}  // namespace

TEST_CASE("K-FAC's quadratic model adds the regularizers' curvature to the Gauss-Newton matrix") {
  auto model = tiny("mlp");
  const index_t P = model->params().size();
  auto batches = random_batches(*model, {8}, 4);
  const Batch<double>& batch = batches.front();
  std::vector<double> d(static_cast<std::size_t>(P)), c(d.size());
  Rng rng(2);
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = 0.5 + double(i % 3), c[i] = rng.uniform() - 0.5;
  const QuadraticRegularizer<double> reg(d, c);
  SecondOrderConfig cfg;
  cfg.damping = 0.1, cfg.factors = FactorKind::EF, cfg.adapt_damping = false;
  auto opt = make_kfac_optimizer<double>("kfac", 1.0, cfg);
  // One step as the training loop takes it: the regularizer's gradient joins ∇L.
  auto loss = make_loss<double>(model->loss());
  Objective<double> obj(*model, *loss);
  obj.set_regularizers({&reg});
  obj.set_batch(batch.x, batch.targets());
  opt->attach(obj);
  obj.gradient(model->params().grad(), opt->observes_gradient());
  const View<const double> theta(model->params().data(), Shape{P});
  std::vector<double> gr;
  reg.gradient(theta, gr);
  Matrix grad_h(model->params().grad(), model->params().grad() + P);
  for (index_t i = 0; i < P; ++i) grad_h[i] += gr[i], model->params().grad()[i] = grad_h[i];
  const Matrix before(theta.begin(), theta.end());
  opt->step(model->params());
  Matrix s(static_cast<std::size_t>(P));
  for (index_t i = 0; i < P; ++i) s[i] = model->params().data()[i] - before[i];
  // The first step is s = αΔ with α minimizing ½sᵀ(G + D + λ)s + ∇hᵀs along Δ, so
  // ∇hᵀs + sᵀ(G + D + λ)s = 0, with G the batch's GGN at the old θ and D = diag(d).
  std::copy(before.begin(), before.end(), model->params().data());
  obj.set_batch(batch.x, batch.targets());
  Matrix Gs(static_cast<std::size_t>(P));
  obj.ggn_vp(s.data(), Gs.data());
  double gs = 0, sGs = 0, sDs = 0, ss = 0;
  for (index_t i = 0; i < P; ++i)
    gs += grad_h[i] * s[i], sGs += s[i] * Gs[i], sDs += d[i] * s[i] * s[i], ss += s[i] * s[i];
  CHECK(std::abs(gs + sGs + sDs + cfg.damping * ss) <= 1e-10 * std::abs(gs));
  CHECK(sDs >= 0.01 * std::abs(gs));  // the regularizer's curvature mattered
  // h includes R: the objective's regularization is R at the current parameters.
  CHECK(obj.regularization() == doctest::Approx(reg.value(theta)).epsilon(1e-14));
}

TEST_CASE("a regularizer joins every step's loss and gradient; one of the wrong size is refused") {
  const auto task = make_image_task<float>(toy_dataset(64, 1), toy_dataset(32, 2));
  auto run = [&](const Regularizer<float>* reg) {
    auto model = toy_mlp(1);
    auto opt = make_sgd<float>(0.1, 0.0);
    TrainLoop<float> loop(*model, *opt, task->split("train"), all_of(*task, "train").indices, 16,
                          3);
    if (reg) loop.add_regularizer(*reg);
    const double l = loop.step(0.1);
    return std::make_pair(l, std::vector<float>(model->params().data(),
                                                model->params().data() + model->params().size()));
  };
  const auto [plain_loss, plain] = run(nullptr);
  const index_t P = index_t(plain.size());
  // R = ½·0.5‖θ‖²: SGD's step with it is SGD with weight decay 0.5.
  const QuadraticRegularizer<float> l2(std::vector<double>(plain.size(), 0.5),
                                       std::vector<double>(plain.size(), 0.0), "l2");
  const auto [reg_loss, regularized] = run(&l2);
  auto model = toy_mlp(1);
  const View<const float> theta0(model->params().data(), Shape{P});
  CHECK(reg_loss == doctest::Approx(plain_loss + l2.value(theta0)).epsilon(1e-6));
  auto decayed = make_sgd<float>(0.1, 0.0, false, 0.5);
  TrainLoop<float> loop(*model, *decayed, task->split("train"), all_of(*task, "train").indices, 16,
                        3);
  loop.step(0.1);
  CHECK(check::relative_error(
            std::vector<double>(regularized.begin(), regularized.end()),
            std::vector<double>(model->params().data(), model->params().data() + P)) <= 1e-6);
  const ShortRegularizer bad;
  CHECK(error_of([&] { run(&bad); }) ==
        "regularizer 'short': expected a gradient of " + std::to_string(P) + " entries, found 3");
}

TEST_CASE("a mask keeps pruned weights, and their optimizer state, at exactly zero") {
  const auto task = make_image_task<float>(toy_dataset(64, 1), toy_dataset(32, 2));
  for (const char* name : {"sgd", "adam", "lars", "lamb", "kfac", "foof", "mfac"}) {
    CAPTURE(name);
    for (bool masked : {true, false}) {
      auto model = toy_mlp(1);
      const index_t P = model->params().size();
      SecondOrderConfig cfg;
      cfg.rescale = std::string(name) == "kfac" ? "kl" : "none", cfg.factors = FactorKind::EF;
      cfg.damping = 0.1, cfg.inverse_every = 2, cfg.window = 4;
      auto opt = make_optimizer<float>(name, 0.05, 0.9, false, cfg);
      MaskProjection<float> mask(half_mask(P, 7));
      mask.apply(model->params());
      TrainLoop<float> loop(*model, *opt, task->split("train"), all_of(*task, "train").indices, 16,
                            3);
      if (masked) loop.add_hook(mask);
      for (int k = 0; k < 6; ++k) loop.step(0.05);
      index_t moved = 0, state_moved = 0;
      const OptimizerState<float> s = opt->state();
      for (index_t i = 0; i < P; ++i) {
        if (mask.keep()[std::size_t(i)]) continue;
        moved += model->params().data()[i] != 0.0f;
        for (const auto& [n, buf] : s.buffers) state_moved += buf[std::size_t(i)] != 0.0f;
      }
      if (masked) {
        CHECK(moved == 0);
        CHECK(state_moved == 0);
      } else {
        CHECK(moved > 0);  // without the projection the optimizer does move them
      }
    }
  }
}

TEST_CASE("optimizer state round-trips: a restored optimizer continues exactly") {
  const auto task = make_image_task<float>(toy_dataset(64, 1), toy_dataset(32, 2));
  for (const char* name : {"sgd", "adam", "adamw", "lars", "lamb"}) {
    CAPTURE(name);
    auto model = toy_mlp(1);
    auto opt = make_optimizer<float>(name, 0.01, 0.9, false, {});
    TrainLoop<float> loop(*model, *opt, task->split("train"), all_of(*task, "train").indices, 16,
                          3);
    for (int k = 0; k < 3; ++k) loop.step(0.01);
    const OptimizerState<float> saved = opt->state();
    CHECK_FALSE(saved.buffers.empty());
    auto twin = make_optimizer<float>(name, 0.01, 0.9, false, {});
    twin->load_state(saved);
    const OptimizerState<float> back = twin->state();
    CHECK(back.buffers == saved.buffers);
    CHECK(back.scalars == saved.scalars);
    // Both take the same next step from the same parameters and gradient.
    const std::vector<float> theta(model->params().data(),
                                   model->params().data() + model->params().size());
    for (index_t i = 0; i < model->params().size(); ++i)
      model->params().grad()[i] = 0.01f * float(i % 7);
    opt->step(model->params());
    const std::vector<float> one(model->params().data(),
                                 model->params().data() + model->params().size());
    std::copy(theta.begin(), theta.end(), model->params().data());
    twin->step(model->params());
    CHECK(std::equal(one.begin(), one.end(), model->params().data()));
  }
  OptimizerState<float> wrong;
  wrong.buffers["exp_avg"] = {1.f};
  CHECK(error_of([&] { make_sgd<float>(0.1, 0.9)->load_state(wrong); }) ==
        "sgd: expected state buffers among its own, found 'exp_avg'");
  SecondOrderConfig cfg;
  CHECK(error_of([&] {
          make_kfac_optimizer<float>("kfac", 0.1, cfg)->load_state({});
        }).find("kfac: expected to start from empty factors") == 0);
}
