// Laplace posteriors against their dense definitions (float64, tiny models): the precision
// P = N·C + P₀, log det P, log Z and P⁻¹'s diagonal for full, Kronecker, diagonal and low-rank
// curvatures, on all weights and on the last layer, with scalar and per-layer priors; log Z's
// gradient in log δ against finite differences; the fitted prior is stationary; the GLM
// covariance J P⁻¹ Jᵀ against a dense solve; and the predictives' formulas by hand.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "curv/check/check.hpp"
#include "curv/curvature/factory.hpp"
#include "curv/curvature/gradients.hpp"
#include "curv/curvature/kfac.hpp"
#include "curv/curvature/model_operators.hpp"
#include "curv/data/batch_source.hpp"
#include "curv/data/task.hpp"
#include "curv/io/safetensors.hpp"
#include "curv/laplace/fit.hpp"
#include "curv/laplace/posterior.hpp"
#include "curv/laplace/predictive.hpp"
#include "curv/laplace/store.hpp"
#include "curv/laplace/tune.hpp"
#include "curv/linalg/dense.hpp"
#include "curv/loss/loss.hpp"
#include "curv/metrics/metrics.hpp"
#include "curv/nn/objective.hpp"
#include "support/dense_curvature.hpp"
#include "support/errors.hpp"
#include "support/memory_split.hpp"
#include "support/toy_data.hpp"

using namespace curv;
using namespace curv::testing;
using curv::check::relative_error;
using laplace::Posterior;

namespace {

constexpr double kN = 50;  // training examples the posterior is for

// The curvature named `kind` on `subset` of the tiny MLP's data: a dense GGN ("full"), K-FAC,
// the GGN's diagonal or the low-rank empirical Fisher.
std::unique_ptr<LinearOperator> curvature(CurvatureData<double>& data, const std::string& kind,
                                          const std::string& subset) {
  if (kind == "full") {
    ModelOperator<double> ggn(data, ModelCurvature::GGN,
                              ParamSubset::parse(subset, data.model().params().info()));
    return std::make_unique<DenseOperator>(materialize(ggn), ggn.size(), "full");
  }
  OperatorSpec spec;
  spec.name = kind, spec.subset = subset, spec.factors = FactorKind::GGN;
  return make_operator(data, spec);
}

std::vector<double> theta_on(const Model<double>& m, const std::string& subset) {
  const ParamSubset s = ParamSubset::parse(subset, m.params().info());
  std::vector<double> t(static_cast<std::size_t>(s.size()));
  s.gather(m.params().data(), t.data());
  return t;
}

// log Z from its definition with a dense P.
double dense_log_marglik(const Matrix& C, const std::vector<double>& theta,
                         const std::vector<double>& prior, double summed_loss) {
  const auto n = index_t(theta.size());
  Matrix P = C;
  for (double& x : P) x *= kN;
  double quadratic = 0, logdet_prior = 0;
  for (index_t i = 0; i < n; ++i) {
    P[std::size_t(i * n + i)] += prior[std::size_t(i)];
    quadratic += prior[std::size_t(i)] * theta[std::size_t(i)] * theta[std::size_t(i)];
    logdet_prior += std::log(prior[std::size_t(i)]);
  }
  return -summed_loss - 0.5 * quadratic - 0.5 * linalg::cholesky_logdet(linalg::cholesky(P, n), n) +
         0.5 * logdet_prior;
}

std::vector<double> expand(const std::vector<laplace::PriorGroup>& groups,
                           const std::vector<double>& delta) {
  std::vector<double> d;
  for (std::size_t g = 0; g < groups.size(); ++g)
    d.insert(d.end(), std::size_t(groups[g].size), delta[g]);
  return d;
}

}  // namespace

TEST_CASE("log Z, P⁻¹'s diagonal and P⁻¹v against the dense posterior") {
  auto model = tiny("mlp");
  CurvatureData<double> data(*model, random_batches(*model, {7}, 5));
  const double summed_loss = 12.5;  // any value: log Z is linear in it
  for (const char* subset : {"all", "last"})
    for (const char* kind : {"full", "kfac", "diag", "lowrank"})
      for (const char* prior : {"scalar", "layer"}) {
        CAPTURE(std::string(subset));
        CAPTURE(std::string(kind));
        CAPTURE(std::string(prior));
        auto C = curvature(data, kind, subset);
        const Matrix Cd = materialize(*C);
        const auto theta = theta_on(*model, subset);
        const auto groups =
            laplace::prior_groups(ParamSubset::parse(subset, model->params().info()), prior);
        std::vector<double> delta;
        for (std::size_t g = 0; g < groups.size(); ++g) delta.push_back(0.3 + 0.4 * double(g));
        Posterior post(std::move(C), kN, theta, summed_loss, groups);
        post.set_prior(delta);
        const auto d = expand(groups, delta);
        CHECK(post.log_marglik() ==
              doctest::Approx(dense_log_marglik(Cd, theta, d, summed_loss)).epsilon(1e-10));
        const auto n = index_t(theta.size());
        Matrix P = Cd;
        for (double& x : P) x *= kN;
        for (index_t i = 0; i < n; ++i) P[std::size_t(i * n + i)] += d[std::size_t(i)];
        std::vector<double> want(static_cast<std::size_t>(n));
        for (index_t i = 0; i < n; ++i) {
          std::vector<double> e(static_cast<std::size_t>(n), 0.0);
          e[std::size_t(i)] = 1;
          want[std::size_t(i)] = linalg::solve_spd(P, n, e)[std::size_t(i)];
        }
        CHECK(relative_error(post.variances(), want) <= 1e-10);
        std::vector<double> out(theta.size());
        post.covariance_mm(theta.data(), 1, out.data());
        CHECK(relative_error(out, linalg::solve_spd(P, n, theta)) <= 1e-10);
      }
}

TEST_CASE("log Z's gradient in log δ is its finite difference; the fitted prior is stationary") {
  auto model = tiny("mlp");
  CurvatureData<double> data(*model, random_batches(*model, {7}, 5));
  for (const char* kind : {"full", "kfac", "diag"})
    for (const char* prior : {"scalar", "layer"}) {
      CAPTURE(std::string(kind));
      CAPTURE(std::string(prior));
      const auto groups = laplace::prior_groups(ParamSubset::all(model->params().info()), prior);
      Posterior post(curvature(data, kind, "all"), kN, theta_on(*model, "all"), 3.0, groups);
      std::vector<double> delta(groups.size(), 0.5);
      for (std::size_t g = 0; g < delta.size(); ++g) delta[g] *= double(g + 1);
      post.set_prior(delta);
      const auto grad = post.log_marglik_gradient();
      const double h = 1e-5;
      for (std::size_t g = 0; g < groups.size(); ++g) {
        auto up = delta, down = delta;
        up[g] *= std::exp(h), down[g] *= std::exp(-h);
        post.set_prior(up);
        const double zu = post.log_marglik();
        post.set_prior(down);
        const double zd = post.log_marglik();
        CHECK(grad[g] == doctest::Approx((zu - zd) / (2 * h)).epsilon(1e-6));
      }
      post.set_prior(delta);
      const double before = post.log_marglik();
      const int steps = post.fit_prior();
      CHECK(steps < 30);
      const auto fitted = post.prior();
      const double best = post.log_marglik();
      CHECK(best > before);
      for (std::size_t g = 0; g < groups.size(); ++g) {
        CHECK(std::abs(post.log_marglik_gradient()[g]) <= 1e-6 * double(groups[g].size));
        for (double f : {1.05, 1 / 1.05}) {
          auto moved = fitted;
          moved[g] *= f;
          post.set_prior(moved);
          CHECK(post.log_marglik() < best);
        }
        post.set_prior(fitted);
      }
    }
}

// Jₑ P⁻¹ Jₑᵀ (C, C) for every input e of the rows J (inputs · C, n), by dense solves.
std::vector<double> dense_glm_covariance(const Matrix& P, const std::vector<double>& J,
                                         index_t inputs, index_t C) {
  const index_t n = index_t(J.size()) / (inputs * C);
  std::vector<double> want;
  for (index_t e = 0; e < inputs; ++e)
    for (index_t r = 0; r < C; ++r) {
      const std::vector<double> row(J.begin() + (e * C + r) * n, J.begin() + (e * C + r + 1) * n);
      const auto x = linalg::solve_spd(P, n, row);
      for (index_t c = 0; c < C; ++c) {
        double s = 0;
        for (index_t i = 0; i < n; ++i)
          s += J[std::size_t((e * C + c) * n + i)] * x[std::size_t(i)];
        want.push_back(s);
      }
    }
  return want;
}

// With "kron" on the last layer, linearize takes Σ straight from the layer's inputs through the
// eigenbases (Posterior::output_layer_covariance); every other case applies P⁻¹ to Jacobian rows.
TEST_CASE("the GLM covariance J P⁻¹ Jᵀ of each input, against a dense solve") {
  ToyClassifier f;
  auto& [task, model, train, test, fit, points] = f;
  for (const std::string structure : {"full", "kron", "diag"})
    for (const char* subset : {"all", "last"}) {
      CAPTURE(structure);
      CAPTURE(std::string(subset));
      CurvatureData<double> data(*model, train, fit, 16);
      auto C = curvature(data, structure == "kron" ? "kfac" : structure, subset);
      const auto groups =
          laplace::prior_groups(ParamSubset::parse(subset, model->params().info()), "scalar");
      Posterior post(std::move(C), 40, theta_on(*model, subset), 10.0, groups);
      post.set_prior({2.0});
      const laplace::Linearized l = laplace::linearize(post, *model, test, points, subset, 5);
      REQUIRE(l.n == 12);
      REQUIRE(l.classes == 3);
      // The reference: every input's Jacobian rows (C × S) and a dense solve with P = 40·C + 2·I.
      const auto n = post.size();
      Matrix P = materialize(*curvature(data, structure == "kron" ? "kfac" : structure, subset));
      for (double& x : P) x *= 40;
      for (index_t i = 0; i < n; ++i) P[std::size_t(i * n + i)] += 2.0;
      GradientOptions g;
      g.measurement = Measurement::parse("jacobian"), g.subset = subset;
      GradientStream<double> stream(*model, test, points, g);
      std::vector<double> J;
      stream.run([&](const GradientBlock<double>& b) {
        J.insert(J.end(), b.data, b.data + b.rows * b.columns);
      });
      CHECK(relative_error(l.covariance, dense_glm_covariance(P, J, 12, 3)) <= 1e-10);
      // The logits are the model's at θ*.
      auto loss = make_loss<double>("cross_entropy");
      Objective<double> obj(*model, *loss);
      Batch<double> b;
      test.fill(points, nullptr, b);
      obj.record(b.x);
      const View<const double> out = obj.output();
      CHECK(relative_error(l.logits, std::vector<double>(out.begin(), out.end())) <= 1e-14);
    }
}

// An all-weights Kronecker posterior over conv2d and linear layers: the linear layer's share of
// Σ comes from its inputs and output adjoints (factored rows), the conv layer's from its rows
// (conv: 9 positions) or from its patches and their adjoints (conv-wide: 4 positions).
TEST_CASE("the GLM covariance of a Kronecker posterior over conv and linear layers") {
  for (const char* which : {"conv", "conv-wide"}) {
    CAPTURE(std::string(which));
    auto model = tiny(which);
    const index_t N = 12, C = model->outputs();
    MemorySplit train(concatenate(random_batches(*model, {N}, 3))),
        test(concatenate(random_batches(*model, {7}, 5)));
    std::vector<index_t> fit(static_cast<std::size_t>(N)), points = {6, 0, 3, 1, 5, 2, 4};
    for (index_t i = 0; i < N; ++i) fit[std::size_t(i)] = i;
    CurvatureData<double> data(*model, train, fit, 4);
    const auto groups =
        laplace::prior_groups(ParamSubset::parse("all", model->params().info()), "layer");
    Posterior post(curvature(data, "kfac", "all"), double(N), theta_on(*model, "all"), 3.0, groups);
    post.set_prior({0.7, 1.9});
    const laplace::Linearized l = laplace::linearize(post, *model, test, points, "all", 2);
    // P = N·(K-FAC) + diag(δ per layer), dense.
    const index_t n = post.size();
    Matrix P = materialize(*curvature(data, "kfac", "all"));
    for (double& x : P) x *= double(N);
    for (const auto& g : groups)
      for (index_t i = g.begin; i < g.begin + g.size; ++i)
        P[std::size_t(i * n + i)] += g.name == "conv" ? 0.7 : 1.9;
    GradientOptions o;
    o.measurement = Measurement::parse("jacobian");
    GradientStream<double> stream(*model, test, points, o);
    std::vector<double> J;
    stream.run([&](const GradientBlock<double>& b) {
      J.insert(J.end(), b.data, b.data + b.rows * b.columns);
    });
    CHECK(relative_error(l.covariance, dense_glm_covariance(P, J, 7, C)) <= 1e-10);
  }
}

TEST_CASE("the prior by validation NLL keeps the grid's best δ, each trial the NLL at its δ") {
  ToyClassifier f;
  auto& [task, model, train, test, fit, points] = f;
  std::vector<std::int64_t> labels;
  for (index_t i : points) labels.push_back(test.class_of(i));
  for (const char* subset : {"all", "last"}) {
    CAPTURE(std::string(subset));
    CurvatureData<double> data(*model, train, fit, 16);
    const auto groups =
        laplace::prior_groups(ParamSubset::parse(subset, model->params().info()), "layer");
    Posterior post(curvature(data, "kfac", subset), 40, theta_on(*model, subset), 10.0, groups);
    post.set_prior(std::vector<double>(groups.size(), 1.0));
    // Largest δ first: on this untrained model NLL falls with δ, so the best is not the last.
    std::vector<double> grid = laplace::log_grid(1e-3, 1e3, 7);
    std::reverse(grid.begin(), grid.end());
    const auto trials = laplace::tune_prior_by_nll(post, *model, test, points, subset, grid);
    REQUIRE(trials.size() == grid.size());
    std::size_t best = 0;
    for (std::size_t t = 0; t < trials.size(); ++t) {
      CHECK(trials[t].delta == grid[t]);
      if (trials[t].nll < trials[best].nll) best = t;
    }
    // The posterior keeps the best δ on every group.
    CHECK(post.prior() == std::vector<double>(groups.size(), grid[best]));
    // Each trial is the probit predictive's NLL with that δ set by hand; the grid's NLLs differ.
    for (const auto& t : trials) {
      post.set_prior(std::vector<double>(groups.size(), t.delta));
      const auto p = laplace::probit(laplace::linearize(post, *model, test, points, subset));
      CHECK(metrics::calibration(p, 3, labels).nll == doctest::Approx(t.nll).epsilon(1e-13));
    }
    CHECK(trials.front().nll != trials.back().nll);
  }
  const auto g = laplace::log_grid(1e-4, 1e4, 41);
  CHECK(g.front() == doctest::Approx(1e-4).epsilon(1e-14));
  CHECK(g[20] == doctest::Approx(1.0).epsilon(1e-14));
  CHECK(g.back() == 1e4);
  CHECK_THROWS_WITH_AS(laplace::log_grid(1, 1, 5),
                       doctest::Contains("0 < lo < hi, found n = 5 from 1 to 1"), Error);
}

TEST_CASE("predictives: probit, Monte-Carlo, bridge and MAP from logits and covariances") {
  laplace::Linearized l;
  l.n = 1, l.classes = 2;
  l.logits = {0.0, 1.0};
  l.covariance = {1.0, 0.0, 0.0, 2.0};
  // probit: κ = 1/√(1 + π/8·σ²) per logit.
  const double k0 = 1 / std::sqrt(1 + std::numbers::pi / 8),
               k1 = 1 / std::sqrt(1 + std::numbers::pi / 4);
  const auto p = laplace::probit(l);
  CHECK(p[1] == doctest::Approx(1 / (1 + std::exp(0 * k0 - 1 * k1))).epsilon(1e-15));
  // bridge: α_c = (1 − 2/C + e^{f_c} Σ_k e^{−f_k}/C²)/Σ_cc.
  const double s = 1 + std::exp(-1.0), a0 = (s / 4) / 1.0, a1 = (std::exp(1.0) * s / 4) / 2.0;
  const auto q = laplace::bridge(l);
  CHECK(q[0] == doctest::Approx(a0 / (a0 + a1)).epsilon(1e-15));
  // map: the softmax; a temperature divides the logits.
  CHECK(laplace::map_probabilities(l, 2.0)[1] ==
        doctest::Approx(1 / (1 + std::exp(-0.5))).epsilon(1e-15));
  // Monte-Carlo: σ(f₁ − f₀) with f₁ − f₀ ~ N(1, 3), against a quadrature of that integral.
  double integral = 0;
  const int K = 20000;
  for (int i = 0; i < K; ++i) {
    const double z = -10 + 20 * (i + 0.5) / K;
    integral += std::exp(-z * z / 2) / std::sqrt(2 * std::numbers::pi) * (20.0 / K) /
                (1 + std::exp(-(1 + std::sqrt(3.0) * z)));
  }
  const auto m = laplace::monte_carlo(l, 40000, 7);
  CHECK(std::abs(m[1] - integral) < 0.005);       // standard error ≈ 0.0013
  CHECK(m == laplace::monte_carlo(l, 40000, 7));  // seeded
  // Without variance every predictive is the MAP softmax.
  l.covariance = {0.0, 0.0, 0.0, 0.0};
  const auto map = laplace::map_probabilities(l);
  CHECK(relative_error(laplace::probit(l), map) <= 1e-15);
  CHECK(relative_error(laplace::monte_carlo(l, 10, 1), map) <= 1e-9);
}

// A saved posterior predicts as the fitted one did, for every structure, and is refused for
// other weights, for a file that is not a posterior, and for a truncated one.
TEST_CASE(
    "a saved posterior reloads with its prior and predicts the same, for these weights only") {
  ToyClassifier f;
  auto& [task, model, train, test, fit, points] = f;
  TempDir dir;
  for (const char* structure : {"full", "kron", "diag", "lowrank"})
    for (const char* weights : {"all", "last"}) {
      CAPTURE(std::string(structure));
      CAPTURE(std::string(weights));
      laplace::LaplaceSpec spec;
      spec.structure = structure, spec.weights = weights, spec.prior = "layer", spec.rank = 5;
      auto post = laplace::fit_posterior(*model, train, fit, spec);
      const std::string path = dir.file(std::string(structure) + "-" + weights + ".safetensors");
      laplace::save_posterior(path, *post, *model, structure, weights, "ggn", "layer");
      laplace::StoredPosterior back = laplace::load_posterior(path, *model);
      CHECK(back.structure == structure);
      CHECK(back.weights == weights);
      CHECK(back.prior == "layer");
      CHECK(back.posterior->prior() == post->prior());
      CHECK(back.posterior->log_marglik() == post->log_marglik());
      CHECK(back.posterior->variances() == post->variances());
      const auto a = laplace::linearize(*post, *model, test, points, weights, 5);
      const auto b = laplace::linearize(*back.posterior, *model, test, points, weights, 5);
      CHECK(a.covariance == b.covariance);
    }
  // Other weights: one parameter moved.
  const std::string path = dir.file("kron-all.safetensors");
  model->params().data()[3] += 1e-3;
  CHECK(error_of([&] {
          laplace::load_posterior(path, *model);
        }).find(": expected a posterior of these weights (mlp, ") != std::string::npos);
  model->params().data()[3] -= 1e-3;
  CHECK(laplace::load_posterior(path, *model).posterior != nullptr);
  // Not a posterior: a file with tensors but no posterior metadata; and a truncated file.
  const double x = 1;
  write_safetensors(dir.file("other.safetensors"), {{"x", "F64", Shape{1}, &x}}, {});
  CHECK(error_of([&] { laplace::load_posterior(dir.file("other.safetensors"), *model); }) ==
        dir.file("other.safetensors") +
            ": expected a Laplace posterior (metadata 'curv.posterior'), found none");
  const std::string bytes = read_bytes(path);
  write_bytes(dir.file("cut.safetensors"), bytes.substr(0, bytes.size() / 2));
  CHECK(error_of([&] {
          laplace::load_posterior(dir.file("cut.safetensors"), *model);
        }).find(dir.file("cut.safetensors")) != std::string::npos);
}

// Weight samples θ* + R ε have covariance R Rᵀ = P⁻¹: the root of every structure with a
// structured inverse, against P⁻¹ formed densely; low rank has none and says so.
TEST_CASE("posterior samples: R Rᵀ = P⁻¹, and the sampled predictive restores the weights") {
  ToyClassifier f;
  auto& [task, model, train, test, fit, points] = f;
  for (const char* structure : {"full", "kron", "diag", "lowrank"}) {
    CAPTURE(std::string(structure));
    laplace::LaplaceSpec spec;
    spec.structure = structure, spec.weights = "all", spec.prior = "layer", spec.rank = 5;
    auto post = laplace::fit_posterior(*model, train, fit, spec);
    const index_t n = post->size();
    LinearOperator& P = post->precision();
    if (std::string(structure) == "lowrank") {
      std::vector<double> e(static_cast<std::size_t>(n), 1.0), out(e.size());
      CHECK(error_of([&] {
              P.inverse_root_mv(e.data(), 0.0, out.data());
            }).find("inverse_root_mv") != std::string::npos);
      continue;
    }
    Matrix R(static_cast<std::size_t>(n * n)), e(static_cast<std::size_t>(n)), col(e.size());
    for (index_t j = 0; j < n; ++j) {  // column j of R
      std::fill(e.begin(), e.end(), 0.0);
      e[std::size_t(j)] = 1;
      P.inverse_root_mv(e.data(), 0.0, col.data());
      for (index_t i = 0; i < n; ++i) R[std::size_t(i * n + j)] = col[std::size_t(i)];
    }
    Matrix RRt(R.size(), 0.0), inverse(R.size());
    for (index_t i = 0; i < n; ++i)
      for (index_t j = 0; j < n; ++j)
        for (index_t k = 0; k < n; ++k) RRt[std::size_t(i * n + j)] += R[i * n + k] * R[j * n + k];
    const Matrix dense = materialize(P);
    for (index_t j = 0; j < n; ++j) {
      std::fill(e.begin(), e.end(), 0.0);
      e[std::size_t(j)] = 1;
      const auto x = linalg::solve_spd(dense, n, e);
      for (index_t i = 0; i < n; ++i) inverse[std::size_t(i * n + j)] = x[std::size_t(i)];
    }
    CHECK(relative_error(RRt, inverse) <= 1e-10);
  }
  // The sampled predictive: the weights come back bit for bit; one seed, one answer; under a
  // prior so strong that the samples barely move the weights it is the MAP softmax.
  laplace::LaplaceSpec spec;
  spec.weights = "all", spec.prior_precision = 2.0;
  auto post = laplace::fit_posterior(*model, train, fit, spec);
  const std::vector<double> before(model->params().data(),
                                   model->params().data() + model->params().size());
  const auto a = laplace::sample_predictive(*post, *model, test, points, "all", 20, 7);
  CHECK(std::vector<double>(model->params().data(),
                            model->params().data() + model->params().size()) == before);
  CHECK(a == laplace::sample_predictive(*post, *model, test, points, "all", 20, 7));
  CHECK(a != laplace::sample_predictive(*post, *model, test, points, "all", 20, 8));
  post->set_prior({1e14});
  const auto tight = laplace::sample_predictive(*post, *model, test, points, "all", 3, 7);
  const auto map = laplace::map_probabilities(laplace::logits_of(*model, test, points));
  CHECK(relative_error(tight, map) <= 1e-6);
  CHECK(relative_error(a, map) > 1e-3);  // the real posterior does move them
}
