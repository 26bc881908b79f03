// The Lanczos learning-rate and momentum learner (spectra/rate_learner.hpp): heavy ball's tuning
// by hand, and inside a training loop on a tiny float64 model every measurement's L and μ against
// the dense Hessian of the batch it measured, at the weights of that step, the momentum it set
// and the rate it returned, the time it charged, and bad settings.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "curv/linalg/dense.hpp"
#include "curv/optim/optimizer.hpp"
#include "curv/spectra/batch_sweep.hpp"
#include "curv/spectra/rate_learner.hpp"
#include "support/dense_curvature.hpp"
#include "support/errors.hpp"
#include "support/memory_split.hpp"

using namespace curv;
using namespace curv::testing;

TEST_CASE("heavy ball's tuning: the optimal rate and momentum, the cap, no positive μ") {
  spectra::RateLearnerOptions o;
  o.max_momentum = 0.99, o.fraction = 1;
  // L = 100, μ = 1: β = (9/11)², lr = 4/(√L + √μ)² = 4/121.
  auto [beta, lr] = spectra::heavy_ball_rate(100, 1, o);
  CHECK(beta == doctest::Approx(81.0 / 121.0).epsilon(1e-14));
  CHECK(lr == doctest::Approx(4.0 / 121.0).epsilon(1e-14));
  o.max_momentum = 0.5, o.fraction = 0.25;  // capped: (1 + √½)²/L, a quarter of it
  std::tie(beta, lr) = spectra::heavy_ball_rate(100, 1, o);
  CHECK(beta == 0.5);
  CHECK(lr == doctest::Approx(0.25 * (1 + std::sqrt(0.5)) * (1 + std::sqrt(0.5)) / 100));
  std::tie(beta, lr) = spectra::heavy_ball_rate(100, 0, o);  // no μ: the cap
  CHECK(beta == 0.5);
  CHECK(error_of([&] { spectra::heavy_ball_rate(-2, 1, o); }).find("found -2") !=
        std::string::npos);
}

TEST_CASE("the learner measures every T steps on the current weights and sets rate and momentum") {
  bool never_raise = false;
  SUBCASE("each measurement sets the peak rate") {}
  SUBCASE("never_raise: the peak applied is the lowest rate measured so far") {
    never_raise = true;
  }
  auto model = tiny("mlp");
  const index_t N = 16, P = model->params().size();
  MemorySplit split(concatenate(random_batches(*model, {N}, 24)));
  std::vector<index_t> examples;
  for (index_t i = 0; i < N; ++i) examples.push_back(i);
  auto opt = make_sgd<double>(0.1, 0.5);
  TrainLoop<double> loop(*model, *opt, split, examples, 4, 1);
  spectra::RateLearnerOptions o;
  o.every = 16, o.iterations = P, o.batch = 6, o.seed = 10, o.max_momentum = 0.95;
  o.fraction = 0.5, o.never_raise = never_raise;
  spectra::LanczosRateLearner<double> learner(split, examples, o);
  // Measurements at 0, then ⌊T/16⌋ doubling up to T, then every T.
  const std::vector<index_t> measured = {0, 1, 2, 4, 8, 16};
  index_t done = 0, last = 0, raised = 0;
  double peak = 0;
  for (index_t step = 0; step < 20; ++step) {
    const double shape = 1.0 / double(step + 1);
    // The reference, before the learner measures: the measured batch's dense Hessian at the
    // current weights.
    double L = 0, mu = 0;
    const bool measures = std::find(measured.begin(), measured.end(), step) != measured.end();
    if (measures) {
      const auto idx = spectra::draw_batch(examples, 6, done++, o.seed);
      last = step;
      const Dense d = dense_of(*model, collect_batches<double>(split, idx, 6)[0], true);
      const auto values = linalg::eigh(d.H, P).values;  // ascending
      L = values.back();
      for (double v : values) {
        // No eigenvalue near the learner's floor of 1e-6·L, so the reference is unambiguous.
        REQUIRE(!(v > 1e-7 * L && v < 1e-5 * L));
        if (v > 1e-6 * L) {
          mu = v;
          break;
        }
      }
    }
    const double lr = learner.rate(loop, shape);
    const auto& m = learner.history().back();
    CHECK(m.step == last);
    if (measures) {
      CAPTURE(step);
      // Lanczos to the whole space is exact; the reference Hessian is a central difference.
      CHECK(std::abs(m.lambda_max - L) <= 1e-6 * L);
      CHECK(std::abs(m.lambda_min_positive - mu) <= 1e-6 * L);
      const auto [beta, rate] = spectra::heavy_ball_rate(m.lambda_max, m.lambda_min_positive, o);
      CHECK(m.momentum == beta);
      CHECK(m.lr == rate);
      CHECK(opt->momentum() == beta);
      raised += step > 0 && rate > peak;
      peak = never_raise && step > 0 ? std::min(peak, rate) : rate;
    }
    CHECK(m.peak == peak);
    CHECK(lr == doctest::Approx(peak * shape).epsilon(1e-15));
    loop.step(lr);
  }
  CHECK(learner.history().size() == measured.size());
  CHECK(raised > 0);  // some measurement asks for a higher rate, so never_raise is exercised
  CHECK(loop.seconds() >= learner.seconds());
  CHECK(learner.seconds() > 0);
}

TEST_CASE("the learner refuses bad settings, and optimizers without momentum to set") {
  auto model = tiny("mlp");
  MemorySplit split(concatenate(random_batches(*model, {8}, 2)));
  const std::vector<index_t> examples = {0, 1, 2, 3, 4, 5, 6, 7};
  auto refuse = [&](spectra::RateLearnerOptions o) {
    return error_of([&] { spectra::LanczosRateLearner<double>(split, examples, o); });
  };
  spectra::RateLearnerOptions o;
  o.batch = 4;
  o.every = 0;
  CHECK(refuse(o).find("every T >= 1 steps, found 0") != std::string::npos);
  o.every = 10, o.iterations = 1;
  CHECK(refuse(o).find(">= 2 Lanczos iterations") != std::string::npos);
  o.iterations = 5, o.batch = 9;
  CHECK(refuse(o).find("1..8 examples, found 9") != std::string::npos);
  o.batch = 4, o.fraction = 0;
  CHECK(refuse(o).find("fraction > 0") != std::string::npos);
  o.fraction = 1, o.max_momentum = 1;
  CHECK(refuse(o).find("momentum cap in [0, 1), found 1") != std::string::npos);
  auto adam = make_adam<double>(0.01);
  CHECK(error_of([&] { adam->set_momentum(0.9); }).find("adam: has no heavy-ball momentum") !=
        std::string::npos);
}
