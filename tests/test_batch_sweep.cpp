// The batch-size sweep of spectra/batch_sweep.hpp: each draw's λ_max against the largest
// eigenvalue of its batch's dense GGN and Hessian (tiny model, float64), the means and standard
// errors by hand, the draws themselves, and both laws recovered from points they generate.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "curv/data/batch_source.hpp"
#include "curv/linalg/dense.hpp"
#include "curv/spectra/batch_sweep.hpp"
#include "support/dense_curvature.hpp"
#include "support/errors.hpp"
#include "support/memory_split.hpp"

using namespace curv;
using namespace curv::testing;

namespace {

std::vector<spectra::SweepPoint> points(const std::vector<index_t>& sizes,
                                        const std::vector<double>& means) {
  std::vector<spectra::SweepPoint> s;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    spectra::SweepPoint p;
    p.batch = sizes[i], p.mean = means[i];
    s.push_back(p);
  }
  return s;
}

}  // namespace

TEST_CASE("batches are distinct entries of the pool, drawn again the same, the pool at B = N") {
  const std::vector<index_t> pool = {4, 9, 11, 20, 21, 30, 33, 40};
  const auto a = spectra::draw_batch(pool, 5, 2, 7);
  CHECK(a.size() == 5);
  CHECK(std::set<index_t>(a.begin(), a.end()).size() == 5);
  for (index_t i : a) CHECK(std::count(pool.begin(), pool.end(), i) == 1);
  CHECK(spectra::draw_batch(pool, 5, 2, 7) == a);
  CHECK(spectra::draw_batch(pool, 5, 3, 7) != a);  // another draw of the same size
  CHECK(spectra::draw_batch(pool, 8, 0, 7) == pool);
  CHECK(error_of([&] { spectra::draw_batch(pool, 9, 0, 7); }).find("1..8") != std::string::npos);
}

TEST_CASE("each draw's λ_max is the top eigenvalue of its batch's dense GGN and Hessian") {
  auto model = tiny("mlp");
  const index_t N = 12, P = model->params().size();
  MemorySplit split(concatenate(random_batches(*model, {N}, 5)));
  std::vector<index_t> pool;
  for (index_t i = 0; i < N; ++i) pool.push_back(i);
  for (const char* op : {"ggn", "hessian"}) {
    CAPTURE(op);
    spectra::SweepOptions o;
    o.batch_sizes = {3, 6, N}, o.batches = 4, o.op.name = op, o.seed = 3;
    o.iterations = P, o.tolerance = 1e-10;  // Lanczos run to the whole space: exact
    std::vector<index_t> reported;          // on_draw: 4 + 4 + 1 draws, counted up to their total
    o.on_draw = [&](index_t done, index_t total) {
      CHECK(total == 9);
      reported.push_back(done);
    };
    const auto sweep = spectra::batch_sweep(*model, split, pool, o);
    CHECK(reported == std::vector<index_t>{1, 2, 3, 4, 5, 6, 7, 8, 9});
    REQUIRE(sweep.size() == 3);
    for (const auto& p : sweep) {
      CAPTURE(p.batch);
      const index_t K = p.batch == N ? 1 : 4;
      REQUIRE(index_t(p.lambda_max.size()) == K);
      CHECK(p.unconverged == 0);
      double sum = 0, ss = 0;
      for (index_t b = 0; b < K; ++b) {
        const auto idx = spectra::draw_batch(pool, p.batch, b, o.seed);
        const Dense d =
            dense_of(*model, collect_batches<double>(split, idx, p.batch)[0], op[0] == 'h');
        const Matrix M = op[0] == 'h' ? d.H : sandwich(d, d.Hout);
        const double top = linalg::eigh(M, P).values.back();
        // The Hessian's reference is a central difference of gradients (step 1e-4).
        CHECK(std::abs(p.lambda_max[std::size_t(b)] - top) <=
              (op[0] == 'h' ? 1e-6 : 1e-10) * std::abs(top));
        sum += p.lambda_max[std::size_t(b)];
      }
      CHECK(p.mean == doctest::Approx(sum / double(K)).epsilon(1e-14));
      for (double v : p.lambda_max) ss += (v - p.mean) * (v - p.mean);
      CHECK(p.standard_error ==
            doctest::Approx(K > 1 ? std::sqrt(ss / double(K - 1) / double(K)) : 0.0));
    }
    // E[λ_max(M_B)] ≥ λ_max(M_N) holds in expectation; with the GGN's 3-example batches of rank
    // ≤ 9 it holds here draw by draw for the smallest size's mean.
    if (op[0] == 'g') CHECK(sweep[0].mean > sweep[2].mean);
  }
}

TEST_CASE("Adam's preconditioned sweep: the pool's gradient moments and D^-1/2 G_B D^-1/2") {
  // The moments against per-example gradients by hand; E[ḡ_B²] = ḡ² + s²(1/B − 1/N) against an
  // exhaustive average over every batch of 2 (without replacement); each draw's λ_max against
  // the dense preconditioned GGN of its batch.
  auto model = tiny("mlp");
  const index_t N = 6, P = model->params().size();
  MemorySplit split(concatenate(random_batches(*model, {N}, 8)));
  std::vector<index_t> pool;
  for (index_t i = 0; i < N; ++i) pool.push_back(i);
  const Dense all = dense_of(*model, collect_batches<double>(split, pool, N)[0], false);
  const auto m = spectra::gradient_moments(*model, split, pool, 4);  // two chunks: 4 + 2
  REQUIRE((index_t(m.mean.size()) == P && m.count == N));
  std::vector<double> second(std::size_t(P), 0.0);  // E[ḡ_B²] over all pairs
  index_t pairs = 0;
  for (index_t j = 0; j < P; ++j) {
    double mean = 0, ss = 0;
    for (index_t n = 0; n < N; ++n) mean += all.grads[std::size_t(n * P + j)] / double(N);
    for (index_t n = 0; n < N; ++n) {
      const double d = all.grads[std::size_t(n * P + j)] - mean;
      ss += d * d;
    }
    CHECK(m.mean[std::size_t(j)] == doctest::Approx(mean).epsilon(1e-12));
    CHECK(m.variance[std::size_t(j)] == doctest::Approx(ss / double(N - 1)).epsilon(1e-10));
  }
  for (index_t a = 0; a < N; ++a)
    for (index_t b = a + 1; b < N; ++b, ++pairs)
      for (index_t j = 0; j < P; ++j) {
        const double g =
            (all.grads[std::size_t(a * P + j)] + all.grads[std::size_t(b * P + j)]) / 2;
        second[std::size_t(j)] += g * g;
      }
  const auto d2 = spectra::adam_denominator(m, 2, 1e-3);
  for (index_t j = 0; j < P; ++j) {
    const double expected = std::sqrt(second[std::size_t(j)] / double(pairs)) + 1e-3;
    CHECK(d2[std::size_t(j)] == doctest::Approx(expected).epsilon(1e-10));
  }
  const auto dN = spectra::adam_denominator(m, N, 0);  // the full batch: |ḡ|
  for (index_t j = 0; j < P; ++j)
    CHECK(dN[std::size_t(j)] == doctest::Approx(std::abs(m.mean[std::size_t(j)])).epsilon(1e-12));

  spectra::SweepOptions o;
  o.batch_sizes = {3}, o.batches = 2, o.op.name = "ggn", o.seed = 1;
  o.iterations = P, o.tolerance = 1e-10, o.adam_preconditioned = true, o.adam_eps = 1e-2;
  const auto sweep = spectra::batch_sweep(*model, split, pool, o);
  const auto d3 = spectra::adam_denominator(m, 3, 1e-2);
  for (index_t b = 0; b < 2; ++b) {
    const auto idx = spectra::draw_batch(pool, 3, b, o.seed);
    const Dense d = dense_of(*model, collect_batches<double>(split, idx, 3)[0], false);
    Matrix M = sandwich(d, d.Hout);
    for (index_t i = 0; i < P; ++i)
      for (index_t j = 0; j < P; ++j)
        M[std::size_t(i * P + j)] /= std::sqrt(d3[std::size_t(i)] * d3[std::size_t(j)]);
    const double top = linalg::eigh(M, P).values.back();
    CHECK(std::abs(sweep[0].lambda_max[std::size_t(b)] - top) <= 1e-10 * top);
  }
  CHECK(error_of([&] { spectra::adam_denominator(m, N + 1, 0); }).find("1..6") !=
        std::string::npos);
}

TEST_CASE("the linear law: exact through points on a line, least squares otherwise") {
  const index_t N = 1000;
  const std::vector<index_t> sizes = {10, 50, 200, 1000};
  std::vector<double> y;
  for (index_t B : sizes) y.push_back(3.5 + 40.0 * (1.0 / double(B) - 1.0 / double(N)));
  auto fit = spectra::fit_linear_law(points(sizes, y), N);
  CHECK(fit.lambda_full == doctest::Approx(3.5).epsilon(1e-12));
  CHECK(fit.slope == doctest::Approx(40.0).epsilon(1e-12));
  CHECK(fit.r2 == doctest::Approx(1.0).epsilon(1e-12));
  for (double r : fit.residuals) CHECK(std::abs(r) < 1e-12);
  // Moving one point: the residuals of a least-squares line sum to zero and are orthogonal to x.
  y[1] += 0.7;
  fit = spectra::fit_linear_law(points(sizes, y), N);
  const auto x = spectra::batch_noise(points(sizes, y), N);
  double rsum = 0, rx = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
    rsum += fit.residuals[i], rx += fit.residuals[i] * x[i];
  CHECK(std::abs(rsum) < 1e-12);
  CHECK(std::abs(rx) < 1e-12);
  CHECK(fit.r2 < 1);
  CHECK(error_of([&] {
          spectra::fit_linear_law(points({10, 10}, {1, 2}), N);
        }).find("two different batch sizes") != std::string::npos);
}

TEST_CASE("the spiked law: an outlier, then the bulk's edge, recovered from its own points") {
  const index_t N = 4096;
  const double lambda = 5, v = 400;  // the outlier leaves the bulk at x = λ²/v = 1/16
  CHECK(spectra::spiked_law(lambda, v, 0) == lambda);
  CHECK(spectra::spiked_law(lambda, v, 0.01) == doctest::Approx(5 + 400 * 0.01 / 5));
  CHECK(spectra::spiked_law(lambda, v, 0.25) == doctest::Approx(2 * std::sqrt(100.0)));
  const std::vector<index_t> sizes = {2, 4, 8, 16, 64, 256, 1024, 4096};
  std::vector<double> y;
  for (index_t B : sizes)
    y.push_back(spectra::spiked_law(lambda, v, 1.0 / double(B) - 1.0 / double(N)));
  const auto fit = spectra::fit_spiked_law(points(sizes, y), N);
  CHECK(fit.lambda_full == doctest::Approx(lambda).epsilon(1e-6));
  CHECK(fit.slope == doctest::Approx(v).epsilon(1e-6));
  CHECK(fit.r2 == doctest::Approx(1.0).epsilon(1e-10));
  // The linear law cannot follow the bulk's square root: it fits these points worse.
  CHECK(spectra::fit_linear_law(points(sizes, y), N).r2 < fit.r2 - 1e-3);
  CHECK(error_of([&] {
          spectra::fit_spiked_law(points({4, 8}, {-1, 2}), N);
        }).find("positive top eigenvalues") != std::string::npos);
}

TEST_CASE("a sweep refuses sizes outside 1..N, an empty list and no batches") {
  auto model = tiny("mlp");
  MemorySplit split(concatenate(random_batches(*model, {6}, 5)));
  const std::vector<index_t> pool = {0, 1, 2, 3, 4, 5};
  spectra::SweepOptions o;
  o.op.name = "ggn";
  CHECK(error_of([&] { spectra::batch_sweep(*model, split, pool, o); }).find("at least one") !=
        std::string::npos);
  o.batch_sizes = {2, 7};
  CHECK(error_of([&] {
          spectra::batch_sweep(*model, split, pool, o);
        }).find("batch sizes in 1..6 (the examples), found 7") != std::string::npos);
  o.batch_sizes = {0};
  CHECK(error_of([&] { spectra::batch_sweep(*model, split, pool, o); }).find("found 0") !=
        std::string::npos);
  o.batch_sizes = {2}, o.batches = 0;
  CHECK(error_of([&] {
          spectra::batch_sweep(*model, split, pool, o);
        }).find("batches, Lanczos iterations and chunk >= 1") != std::string::npos);
}
