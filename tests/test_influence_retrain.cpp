// Leave-out retraining (influence/retrain.hpp), the ground truth of the influence estimators:
// Newton's minimizer of L₋R(θ) = (1/N) Σ_{n∉R} ℓₙ + (wd/2)‖θ‖² equals the closed form of a
// quadratic model, reaches a gradient norm of 1e-10 on a convex one, and follows the first-order
// prediction s(z, z')/N of influence functions as the removed example's weight shrinks.
#include <doctest/doctest.h>

#include <cmath>

#include "curv/data/batch_source.hpp"
#include "curv/influence/retrain.hpp"
#include "curv/linalg/dense.hpp"
#include "support/dense_curvature.hpp"
#include "support/errors.hpp"
#include "support/memory_split.hpp"

using namespace curv;
using namespace curv::testing;

namespace {

std::vector<index_t> all_but(index_t N, index_t removed) {
  std::vector<index_t> r;
  for (index_t i = 0; i < N; ++i)
    if (i != removed) r.push_back(i);
  return r;
}

}  // namespace

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
