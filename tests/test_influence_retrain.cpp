// Leave-out retraining (influence/retrain.hpp), the ground truth of the influence estimators:
// Newton's minimizer of L₋R(θ) = (1/N) Σ_{n∉R} ℓₙ + (wd/2)‖θ‖² equals the closed form of a
// quadratic model and reaches a gradient norm of 1e-10 (and 1e-15, past what the objective
// resolves) on a convex one; retraining several kept lists gives each list's own outcome and the
// model back at θ*; the LDS's random subsets are seeded and distinct. (How well s/N predicts the
// outcomes is measured by curv influence-eval, tests/cli_influence.sh.) Networks are retrained
// from scratch by their recipe, each kept list alone, the seeds averaged.
#include <doctest/doctest.h>

#include <cmath>
#include <set>

#include "curv/data/batch_source.hpp"
#include "curv/influence/retrain.hpp"
#include "curv/influence/retrain_recipe.hpp"
#include "curv/linalg/dense.hpp"
#include "support/dense_curvature.hpp"
#include "support/errors.hpp"
#include "support/memory_split.hpp"
#include "support/toy_data.hpp"

using namespace curv;
using namespace curv::testing;

TEST_CASE("leaving one out of a quadratic model: Newton's minimizer equals the closed form") {
  // One linear layer under the squared error: L₋z is quadratic, with the constant Hessian
  // s·Jᵀ(∇²ℓ/N_kept)J + wd·I, s = (N − 1)/N.
  auto model = std::make_unique<TinyMlp>(std::vector<index_t>{4, 3}, "none", "mse");
  Rng rng(5);
  model->init(rng);
  constexpr index_t N = 9, removed = 4;
  const double wd = 0.03;
  MemorySplit split{concatenate(random_batches(*model, {N}, 21))};
  const index_t P = model->params().size();
  const std::vector<index_t> kept = all_but(N, removed);
  // The closed form: θ₋z = θ₀ − (s H̄ + wd I)⁻¹ (s ḡ + wd θ₀), H̄ and ḡ the kept examples' means.
  const Dense d = dense_of(*model, collect_batches<double>(split, kept, N - 1)[0], false);
  const Matrix H = sandwich(d, d.Hout);
  const double s = double(N - 1) / double(N);
  std::vector<double> theta(model->params().data(), model->params().data() + P), rhs(P, 0.0);
  for (index_t i = 0; i < P; ++i) {
    for (index_t n = 0; n < N - 1; ++n) rhs[std::size_t(i)] += d.grads[std::size_t(n * P + i)];
    rhs[std::size_t(i)] = s * rhs[std::size_t(i)] / double(N - 1) + wd * theta[std::size_t(i)];
  }
  Matrix A(H);
  for (double& a : A) a *= s;
  const std::vector<double> step = linalg::solve_spd(A, P, rhs, wd);

  influence::NewtonOptions o;
  o.weight_decay = wd, o.total = N, o.batch = 4, o.cg_tolerance = 1e-12;
  const influence::NewtonReport r = influence::newton_minimize(*model, split, kept, o);
  CHECK(r.converged);
  CHECK(r.gradient_norm <= 1e-10);
  CHECK(r.steps <= 2);  // one exact step, and at most one more to polish CG's residual
  double worst = 0, scale = 0;
  for (index_t i = 0; i < P; ++i) {
    const double want = theta[std::size_t(i)] - step[std::size_t(i)];
    worst = std::max(worst, std::abs(model->params().data()[i] - want));
    scale = std::max(scale, std::abs(want));
  }
  CHECK(worst <= 1e-10 * scale);
}

TEST_CASE("a convex model reaches ‖∇L₋z‖ <= 1e-10, and bad settings are one-line errors") {
  auto model = std::make_unique<TinyMlp>(std::vector<index_t>{4, 3}, "none", "cross_entropy");
  Rng rng(6);
  model->init(rng);
  constexpr index_t N = 12;
  MemorySplit split{concatenate(random_batches(*model, {N}, 22))};
  influence::NewtonOptions o;
  o.weight_decay = 0.01, o.total = N, o.batch = 5;
  const auto r = influence::newton_minimize(*model, split, all_but(N, 3), o);
  CHECK(r.converged);
  CHECK(r.gradient_norm <= 1e-10);
  CHECK(r.steps >= 2);  // not a quadratic: the line-searched Newton iteration did work
  // The gradient at the result, from the dense per-example gradients of the kept examples.
  const index_t P = model->params().size();
  const Dense d = dense_of(*model, collect_batches<double>(split, all_but(N, 3), N - 1)[0], false);
  double g2 = 0;
  for (index_t i = 0; i < P; ++i) {
    double g = 0;
    for (index_t n = 0; n < N - 1; ++n) g += d.grads[std::size_t(n * P + i)];
    g = g / double(N) + 0.01 * model->params().data()[i];
    g2 += g * g;
  }
  CHECK(std::sqrt(g2) <= 2e-10);
  // Near the optimum Newton's predicted decrease ‖∇L‖²/(2h) is far below what float64
  // resolves in L (~1e-16): the iteration must keep converging on ‖∇L‖ rather than stall in a
  // line search the objective cannot referee.
  MemorySplit other{concatenate(random_batches(*model, {N}, 23))};
  o.gradient_tolerance = 1e-15, o.max_steps = 30;
  const auto tight = influence::newton_minimize(*model, other, all_but(N, 3), o);
  CHECK(tight.converged);
  CHECK(tight.gradient_norm <= 1e-15);
  o.gradient_tolerance = 1e-10;
  o.weight_decay = -1;
  CHECK(error_of([&] { influence::newton_minimize(*model, split, all_but(N, 3), o); }) ==
        "newton: expected a weight decay >= 0, found -1");
  o.weight_decay = 0, o.total = 5;
  CHECK(error_of([&] { influence::newton_minimize(*model, split, all_but(N, 3), o); }) ==
        "newton: expected between 1 and N = 5 kept examples, found 11");
}

TEST_CASE("retraining outcomes: each kept list from θ*, the model given back, failures named") {
  auto model = std::make_unique<TinyMlp>(std::vector<index_t>{4, 3}, "none", "cross_entropy");
  Rng rng(7);
  model->init(rng);
  constexpr index_t N = 10;
  MemorySplit split{concatenate(random_batches(*model, {N}, 24))};
  MemorySplit queries{concatenate(random_batches(*model, {3}, 25))};
  const index_t P = model->params().size();
  const std::vector<double> star(model->params().data(), model->params().data() + P);
  influence::NewtonOptions o;
  o.weight_decay = 0.05, o.total = N, o.batch = 4;
  const Measurement loss = Measurement::parse("loss");
  const std::vector<index_t> q{0, 1, 2};
  const std::vector<double> base = influence::measurement_values(*model, queries, q, loss);
  const std::vector<std::vector<index_t>> kept{all_but(N, 2), all_but(N, 7)};
  std::vector<index_t> seen;
  const auto r = influence::retrain_outcomes(*model, split, kept, queries, q, loss, o,
                                             [&](index_t i) { seen.push_back(i); });
  CHECK(seen == std::vector<index_t>{0, 1});
  REQUIRE(r.change.size() == 2);
  CHECK(r.steps >= 2);
  CHECK(r.worst_gradient_norm <= 1e-10);
  for (index_t i = 0; i < P; ++i) CHECK(model->params().data()[i] == star[std::size_t(i)]);
  // Each list's change is what retraining that list alone gives.
  for (std::size_t l = 0; l < kept.size(); ++l) {
    influence::newton_minimize(*model, split, kept[l], o);
    const std::vector<double> v = influence::measurement_values(*model, queries, q, loss);
    for (std::size_t j = 0; j < q.size(); ++j)
      CHECK(r.change[l][j] == doctest::Approx(v[j] - base[j]).epsilon(1e-9));
    std::copy(star.begin(), star.end(), model->params().data());
  }
  o.max_steps = 0;
  CHECK(error_of([&] {
          influence::retrain_outcomes(*model, split, kept, queries, q, loss, o);
        }).find("retraining on kept list 0 (9 examples) stopped at") == 0);
  for (index_t i = 0; i < P; ++i) CHECK(model->params().data()[i] == star[std::size_t(i)]);
}

TEST_CASE("random subsets: seeded, distinct positions, every position drawn") {
  const auto a = influence::random_subsets(20, 10, 30, 3);
  REQUIRE(a.size() == 30);
  std::set<index_t> drawn;
  for (const auto& s : a) {
    CHECK(s.size() == 10);
    CHECK(std::set<index_t>(s.begin(), s.end()).size() == 10);
    for (index_t i : s) CHECK((i >= 0 && i < 20));
    drawn.insert(s.begin(), s.end());
  }
  CHECK(drawn.size() == 20);
  CHECK(a != influence::random_subsets(20, 10, 30, 4));
  CHECK(a == influence::random_subsets(20, 10, 30, 3));
  CHECK(a[0] != a[1]);
  CHECK(error_of([] { influence::random_subsets(5, 6, 1, 0); }) ==
        "random subsets: expected a size in 1..5, found 6");
}

TEST_CASE("retraining by recipe: each list trained from the recipe's seeds alone, seeds averaged") {
  const auto task = make_image_task<double>(toy_dataset(60, 1), toy_dataset(20, 2));
  Recipe r;
  r.model = "mlp", r.config = R"({"widths":[16,8,3],"activation":"tanh"})";
  r.epochs = 3, r.batch = 8, r.lr = 0.1, r.seed = 5, r.data_seed = 7;
  const std::vector<index_t> queries = {0, 3, 11};
  const Measurement loss = Measurement::parse("loss");
  const Split<double>& test = task->split("test");
  // One model by hand: the recipe on the examples `kept`, with seeds offset by j.
  auto by_hand = [&](const std::vector<index_t>& kept, std::uint64_t j) {
    Recipe h = r;
    h.examples.clear();
    for (index_t n : kept) h.examples += (h.examples.empty() ? "" : ",") + std::to_string(n);
    h.seed += j, h.data_seed += j;
    auto model = make_recipe_model<double>(h);
    auto opt = make_recipe_optimizer<double>(h);
    run_training(h, *task, *model, *opt);
    return influence::measurement_values(*model, test, queries, loss);
  };
  std::vector<index_t> first, second;
  for (index_t n = 0; n < 60; ++n) (n % 3 == 0 ? second : first).push_back(n);
  index_t calls = 0;
  const auto out = influence::recipe_outcomes(r, *task, {first, second, first}, test, queries, loss,
                                              2, [&](index_t i) { CHECK(i == calls++); });
  CHECK(calls == 6);
  REQUIRE(out.values.size() == 3);
  CHECK(out.steps == 2 * (3 * (40 / 8)) + 2 * (3 * (20 / 8)) + 2 * (3 * (40 / 8)));
  const auto a0 = by_hand(first, 0), a1 = by_hand(first, 1), b0 = by_hand(second, 0),
             b1 = by_hand(second, 1);
  for (std::size_t q = 0; q < queries.size(); ++q) {
    CHECK(out.values[0][q] == doctest::Approx(0.5 * (a0[q] + a1[q])).epsilon(1e-14));
    CHECK(out.values[1][q] == doctest::Approx(0.5 * (b0[q] + b1[q])).epsilon(1e-14));
    CHECK(out.values[2][q] == out.values[0][q]);  // the same seeds for every list
    CHECK(a0[q] != a1[q]);                        // and the two seeds differ
  }
  CHECK(error_of([&] { influence::recipe_outcomes(r, *task, {first}, test, queries, loss, 0); }) ==
        "retraining by recipe: expected seeds >= 1, found 0");
  CHECK(error_of([&] { influence::recipe_outcomes(r, *task, {{}}, test, queries, loss, 1); }) ==
        "retraining by recipe: kept list 0 is empty");
}
