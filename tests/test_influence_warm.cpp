// Warm-started retraining (influence/retrain_warm.hpp) and the losses it is built from
// (loss/adapted.hpp; their derivatives are checked with every loss in test_derivatives.cpp).
// Leave-out on the training loop, run long on a strongly convex model, reaches Newton's
// leave-out minimizer; the proximal Bregman response of a linear least-squares model, where the
// response function is exactly quadratic, equals its closed form; a weighted step is the step of
// the kept examples at the full batch's divisor.
#include <doctest/doctest.h>

#include <cmath>

#include "curv/data/batch_source.hpp"
#include "curv/influence/retrain.hpp"
#include "curv/influence/retrain_warm.hpp"
#include "curv/linalg/dense.hpp"
#include "curv/loss/adapted.hpp"
#include "curv/optim/registry.hpp"
#include "curv/train/loop.hpp"
#include "support/dense_curvature.hpp"
#include "support/errors.hpp"
#include "support/memory_split.hpp"

using namespace curv;
using namespace curv::testing;

namespace {

std::vector<double> params_of(const Model<double>& m) {
  return {m.params().data(), m.params().data() + m.params().size()};
}

}  // namespace

TEST_CASE("the Bregman divergence of cross-entropy is KL(softmax(a) ‖ softmax(z)), zero at a") {
  constexpr index_t N = 2, C = 3;
  const std::vector<double> z{0.3, -1.2, 2.0, 0.5, 0.5, -0.7}, a{1.1, 0.2, -0.4, 0.5, 0.5, -0.7};
  const std::vector<std::int64_t> labels{2, 0};
  auto loss = make_bregman_loss<double>("cross_entropy");
  const Targets<double> t{labels.data(), View<const double>(a.data(), Shape{N, C})};
  const double L = loss->forward(View<const double>(z.data(), Shape{N, C}), t);
  auto softmax = [&](const std::vector<double>& x, index_t n) {
    std::vector<double> p(C);
    double s = 0;
    for (index_t c = 0; c < C; ++c) s += p[std::size_t(c)] = std::exp(x[std::size_t(n * C + c)]);
    for (double& v : p) v /= s;
    return p;
  };
  double kl = 0;
  for (index_t n = 0; n < N; ++n) {
    const auto p = softmax(a, n), q = softmax(z, n);
    for (index_t c = 0; c < C; ++c)
      kl += p[std::size_t(c)] * std::log(p[std::size_t(c)] / q[std::size_t(c)]);
  }
  CHECK(L == doctest::Approx(kl / N).epsilon(1e-13));
  std::vector<double> per(N), g(N * C);
  loss->per_example(per.data());
  CHECK(per[1] == doctest::Approx(0).epsilon(1e-15));  // example 1 sits at its anchor
  loss->grad(g.data());
  for (index_t c = 0; c < C; ++c) CHECK(std::abs(g[std::size_t(C + c)]) <= 1e-16);
  CHECK(error_of([&] {
          loss->forward(View<const double>(z.data(), Shape{N, C}),
                        Targets<double>{labels.data(), {}});
        }) == "bregman: expected anchor outputs like [2,3] as targets, found []");
}

TEST_CASE("a weighted step is the kept examples' step at the full batch's divisor") {
  auto model = std::make_unique<TinyMlp>(std::vector<index_t>{4, 5, 3}, "tanh", "cross_entropy");
  Rng rng(3);
  model->init(rng);
  constexpr index_t N = 8, removed = 5;
  const double lr = 0.7, wd = 0.02;
  MemorySplit split{concatenate(random_batches(*model, {N}, 31))};
  const std::vector<double> start = params_of(*model);
  // By hand: θ₁ = θ₀ − lr ((1/N) Σ_{n≠removed} ∇ℓₙ + wd θ₀).
  const Dense d =
      dense_of(*model, collect_batches<double>(split, all_but(N, removed), N - 1)[0], false);
  const index_t P = model->params().size();
  SecondOrderConfig cfg;
  cfg.weight_decay = wd;
  auto opt = make_optimizer<double>("sgd", lr, 0, false, cfg);
  TrainLoop<double> loop(*model, *opt, split, range(N), N, 9);
  std::vector<double> w(N, 1.0);
  w[removed] = 0;
  loop.set_example_weights(w);
  loop.step(lr);
  double worst = 0;
  for (index_t i = 0; i < P; ++i) {
    double g = 0;
    for (index_t n = 0; n < N - 1; ++n) g += d.grads[std::size_t(n * P + i)];
    const double want = start[std::size_t(i)] - lr * (g / N + wd * start[std::size_t(i)]);
    worst = std::max(worst, std::abs(model->params().data()[i] - want));
  }
  CHECK(worst <= 1e-14);
  CHECK(error_of([&] { loop.set_example_weights(std::vector<double>(3, 1.0)); }) ==
        "train: expected 8 example weights (one per example of memory/train), found 3");
  w[0] = -1;
  CHECK(error_of([&] { loop.set_example_weights(w); }) ==
        "train: expected example weights finite and >= 0, found -1");
}

TEST_CASE("warm leave-out on a strongly convex model reaches Newton's leave-out minimizer") {
  // Full-batch steps with momentum, long enough to converge: the full run stays at θ* and each
  // reduced run ends at θ₋R, so the change is Newton's.
  auto model = std::make_unique<TinyMlp>(std::vector<index_t>{4, 3}, "none", "cross_entropy");
  Rng rng(8);
  model->init(rng);
  constexpr index_t N = 16;
  MemorySplit split{concatenate(random_batches(*model, {N}, 41))};
  MemorySplit queries{concatenate(random_batches(*model, {3}, 42))};
  const double wd = 0.2;
  influence::NewtonOptions newton;
  newton.weight_decay = wd, newton.total = N, newton.batch = N;
  REQUIRE(influence::newton_minimize(*model, split, range(N), newton).converged);
  const std::vector<double> star = params_of(*model);
  const Measurement loss = Measurement::parse("loss");
  const std::vector<index_t> q{0, 1, 2};
  const auto exact = influence::retrain_outcomes(*model, split, {all_but(N, 4), all_but(N, 11)},
                                                 queries, q, loss, newton);
  influence::WarmOptions o;
  o.steps = 1500, o.batch = N, o.lr = 0.5, o.momentum = 0.9, o.weight_decay = wd;
  std::vector<index_t> runs;
  const auto warm = influence::warm_leave_out(*model, split, range(N), {{4}, {11}}, queries, q,
                                              loss, o, [&](index_t i) { runs.push_back(i); });
  CHECK(runs == std::vector<index_t>{0, 1, 2});
  CHECK(warm.steps == 3 * o.steps);
  CHECK(warm.drift <= 1e-12);
  CHECK(params_of(*model) == star);
  REQUIRE(warm.change.size() == 2);
  double worst = 0, scale = 0;
  for (std::size_t r = 0; r < 2; ++r)
    for (std::size_t j = 0; j < q.size(); ++j) {
      worst = std::max(worst, std::abs(warm.change[r][j] - exact.change[r][j]));
      scale = std::max(scale, std::abs(exact.change[r][j]));
    }
  CHECK(scale > 1e-4);
  CHECK(worst <= 1e-9 * scale);
  o.batch = N + 1;
  CHECK(error_of([&] {
          influence::warm_leave_out(*model, split, range(N), {{4}}, queries, q, loss, o);
        }) == "warm leave-out: expected a batch in 1..16, found 17");
  o.batch = 4;
  CHECK(error_of([&] {
          influence::warm_leave_out(*model, split, all_but(N, 4), {{4}}, queries, q, loss, o);
        }) ==
        "warm leave-out: removed set 0 holds example 4, which is not among the training "
        "examples");
}

TEST_CASE("the Bregman response of a linear least-squares model equals its closed form") {
  // f(x) = Wx + b under ½‖f − y‖²: D(f(θ), f(θ*)) = ½‖J(θ − θ*)‖², so the response objective is
  // ½ δᵀ(G + λI − H_R/N)δ − gᵣᵀδ/N + const in δ = θ − θ*, with G = JᵀJ/N over the training set,
  // H_R = Σ_{m∈R} JₘᵀJₘ and gᵣ = Σ_{m∈R} ∇ℓₘ(θ*): δ = (G + λI − H_R/N)⁻¹ gᵣ / N exactly.
  auto model = std::make_unique<TinyMlp>(std::vector<index_t>{3, 2}, "none", "mse");
  Rng rng(12);
  model->init(rng);
  constexpr index_t N = 10;
  MemorySplit split{concatenate(random_batches(*model, {N}, 51))};
  MemorySplit queries{concatenate(random_batches(*model, {2}, 52))};
  const index_t P = model->params().size();
  const double wd = 0.05, damping = 0.1;
  const std::vector<index_t> R{2, 7};
  const std::vector<double> star = params_of(*model);
  const Dense all = dense_of(*model, collect_batches<double>(split, range(N), N)[0], false);
  Matrix A = sandwich(all, all.Hout);  // G of the mean loss
  std::vector<double> g(P, 0.0);
  for (index_t m : R) {
    const Dense one =
        dense_of(*model, collect_batches<double>(split, std::vector<index_t>{m}, 1)[0], false);
    const Matrix Hm = sandwich(one, one.Hout);  // Jₘᵀ Jₘ (a batch of one)
    for (std::size_t i = 0; i < A.size(); ++i) A[i] -= Hm[i] / N;
    for (index_t i = 0; i < P; ++i) g[std::size_t(i)] += one.grads[std::size_t(i)] / N;
  }
  const std::vector<double> delta = linalg::solve_spd(A, P, g, wd + damping);
  std::vector<double> moved = star;
  for (index_t i = 0; i < P; ++i) moved[std::size_t(i)] += delta[std::size_t(i)];
  const Measurement loss = Measurement::parse("loss");
  const std::vector<index_t> q{0, 1};
  const auto before = influence::measurement_values(*model, queries, q, loss);
  std::copy(moved.begin(), moved.end(), model->params().data());
  const auto after = influence::measurement_values(*model, queries, q, loss);
  std::copy(star.begin(), star.end(), model->params().data());

  influence::WarmOptions o;
  o.steps = 3000, o.batch = N, o.lr = 0.3, o.momentum = 0.9, o.weight_decay = wd;
  o.damping = damping;
  const auto r = influence::bregman_response(*model, split, range(N), {R}, queries, q, loss, o);
  CHECK(params_of(*model) == star);
  REQUIRE(r.change.size() == 1);
  for (std::size_t j = 0; j < q.size(); ++j) {
    const double want = after[j] - before[j];
    CHECK(std::abs(want) > 1e-4);
    CHECK(r.change[0][j] == doctest::Approx(want).epsilon(1e-9));
  }
  double norm = 0;
  for (double v : delta) norm += v * v;
  CHECK(r.drift == doctest::Approx(std::sqrt(norm)).epsilon(1e-9));
}

TEST_CASE("a run ending at its tail average is measured at the mean of its last iterates") {
  auto model = std::make_unique<TinyMlp>(std::vector<index_t>{4, 5, 3}, "tanh", "cross_entropy");
  Rng rng(4);
  model->init(rng);
  constexpr index_t N = 12;
  MemorySplit split{concatenate(random_batches(*model, {N}, 61))};
  MemorySplit queries{concatenate(random_batches(*model, {2}, 62))};
  const std::vector<double> star = params_of(*model);
  const Measurement loss = Measurement::parse("loss");
  const std::vector<index_t> q{0, 1};
  influence::WarmOptions o;
  o.steps = 5, o.average_last = 2, o.batch = 4, o.lr = 0.3, o.momentum = 0.5, o.data_seed = 3;
  // By hand: the same loop, its iterates after steps 4 and 5 averaged.
  auto by_hand = [&](const std::vector<double>& w) {
    std::copy(star.begin(), star.end(), model->params().data());
    auto opt = make_optimizer<double>("sgd", o.lr, o.momentum, false, SecondOrderConfig{});
    TrainLoop<double> loop(*model, *opt, split, range(N), o.batch, o.data_seed);
    loop.set_example_weights(w);
    std::vector<double> mean(star.size(), 0.0);
    for (index_t s = 0; s < o.steps; ++s) {
      loop.step(o.lr);
      if (s >= o.steps - o.average_last)
        for (std::size_t i = 0; i < mean.size(); ++i) mean[i] += model->params().data()[i] / 2;
    }
    std::copy(mean.begin(), mean.end(), model->params().data());
    const auto v = influence::measurement_values(*model, queries, q, loss);
    std::copy(star.begin(), star.end(), model->params().data());
    return v;
  };
  std::vector<double> w(N, 1.0);
  const auto full = by_hand(w);
  w[6] = 0;
  const auto reduced = by_hand(w);
  const auto r = influence::warm_leave_out(*model, split, range(N), {{6}}, queries, q, loss, o);
  for (std::size_t j = 0; j < q.size(); ++j) {
    CHECK(std::abs(reduced[j] - full[j]) > 1e-6);
    CHECK(r.change[0][j] == doctest::Approx(reduced[j] - full[j]).epsilon(1e-12));
  }
}
