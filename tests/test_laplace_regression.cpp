// Laplace for regression (mean squared error) with observation noise σ², against its dense
// definition in float64:
//   log Z = −Σₙ ℓₙ/σ² − (N·D/2) log 2πσ² − ½ θᵀP₀θ − ½ log det P + ½ log det P₀,
//   P = (N/σ²)·C + P₀ with C the unit-noise GGN;
// log Z's gradient in log σ² against finite differences, the joint fit of δ and σ stationary,
// fit_posterior on an mse network from the synthetic sine task, and a saved posterior keeping σ.
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

#include "curv/check/check.hpp"
#include "curv/curvature/factory.hpp"
#include "curv/curvature/model_operators.hpp"
#include "curv/data/task.hpp"
#include "curv/laplace/fit.hpp"
#include "curv/laplace/posterior.hpp"
#include "curv/laplace/store.hpp"
#include "curv/linalg/dense.hpp"
#include "support/dense_curvature.hpp"
#include "support/errors.hpp"

using namespace curv;
using namespace curv::testing;
using laplace::Posterior;

namespace {

constexpr double kN = 50;

std::unique_ptr<LinearOperator> curvature_of(CurvatureData<double>& data, const std::string& kind) {
  if (kind == "full") {
    ModelOperator<double> ggn(data, ModelCurvature::GGN,
                              ParamSubset::all(data.model().params().info()));
    return std::make_unique<DenseOperator>(materialize(ggn), ggn.size(), "full");
  }
  OperatorSpec spec;
  spec.name = kind, spec.factors = FactorKind::GGN;
  return make_operator(data, spec);
}

double dense_log_marglik(const Matrix& C, const std::vector<double>& theta,
                         const std::vector<double>& delta, double summed_loss, double sigma2,
                         double D) {
  const auto n = index_t(theta.size());
  Matrix P = C;
  for (double& x : P) x *= kN / sigma2;
  double quadratic = 0, logdet_prior = 0;
  for (index_t i = 0; i < n; ++i) {
    P[std::size_t(i * n + i)] += delta[std::size_t(i)];
    quadratic += delta[std::size_t(i)] * theta[std::size_t(i)] * theta[std::size_t(i)];
    logdet_prior += std::log(delta[std::size_t(i)]);
  }
  return -summed_loss / sigma2 - 0.5 * kN * D * std::log(2 * std::numbers::pi * sigma2) -
         0.5 * quadratic - 0.5 * linalg::cholesky_logdet(linalg::cholesky(P, n), n) +
         0.5 * logdet_prior;
}

}  // namespace

TEST_CASE("a Gaussian likelihood: log Z and its gradients against dense definitions") {
  auto model = tiny("linear-mse");  // 3 outputs
  CurvatureData<double> data(*model, random_batches(*model, {7}, 5));
  const ParamSubset all = ParamSubset::all(model->params().info());
  std::vector<double> theta(std::size_t(all.size()));
  all.gather(model->params().data(), theta.data());
  const double summed_loss = 9.5, D = 3;
  for (const char* kind : {"full", "kfac", "diag"})
    for (const char* prior : {"scalar", "layer"}) {
      CAPTURE(std::string(kind));
      CAPTURE(std::string(prior));
      auto C = curvature_of(data, kind);
      const Matrix Cd = materialize(*C);
      const auto groups = laplace::prior_groups(all, prior);
      Posterior post(std::move(C), kN, theta, summed_loss, groups);
      std::vector<double> delta;
      for (std::size_t g = 0; g < groups.size(); ++g) delta.push_back(0.4 + 0.3 * double(g));
      post.set_prior(delta);
      post.set_noise(0.3, 3);
      std::vector<double> d;
      for (std::size_t g = 0; g < groups.size(); ++g)
        d.insert(d.end(), std::size_t(groups[g].size), delta[g]);
      CHECK(post.log_marglik() ==
            doctest::Approx(dense_log_marglik(Cd, theta, d, summed_loss, 0.3, D)).epsilon(1e-10));
      // ∂ log Z/∂ log σ², and ∂/∂ log δ_g with the noise in P, by central differences.
      const double h = 1e-5, g_noise = post.log_marglik_noise_gradient();
      post.set_noise(0.3 * std::exp(h), 3);
      const double up = post.log_marglik();
      post.set_noise(0.3 * std::exp(-h), 3);
      const double down = post.log_marglik();
      CHECK(g_noise == doctest::Approx((up - down) / (2 * h)).epsilon(1e-6));
      post.set_noise(0.3, 3);
      const auto grad = post.log_marglik_gradient();
      for (std::size_t g = 0; g < groups.size(); ++g) {
        auto u = delta, w = delta;
        u[g] *= std::exp(h), w[g] *= std::exp(-h);
        post.set_prior(u);
        const double zu = post.log_marglik();
        post.set_prior(w);
        const double zw = post.log_marglik();
        CHECK(grad[g] == doctest::Approx((zu - zw) / (2 * h)).epsilon(1e-6));
      }
      post.set_prior(delta);
      // The joint fit: every gradient vanishes, and moving σ² or any δ either way lowers log Z.
      const double before = post.log_marglik();
      CHECK(post.fit_prior(100, 1e-6, {}, true) < 60);
      const double best = post.log_marglik(), sigma2 = post.noise();
      CHECK(best > before);
      CHECK(std::abs(post.log_marglik_noise_gradient()) <= 1e-6 * kN * D);
      for (std::size_t g = 0; g < groups.size(); ++g)
        CHECK(std::abs(post.log_marglik_gradient()[g]) <= 1e-6 * double(groups[g].size));
      for (double f : {1.05, 1 / 1.05}) {
        post.set_noise(sigma2 * f, 3);
        CHECK(post.log_marglik() < best);
      }
    }
  Posterior classifier(curvature_of(data, "diag"), kN, theta, 1.0,
                       laplace::prior_groups(all, "scalar"));
  classifier.set_prior({1.0});
  CHECK(error_of([&] { classifier.fit_prior(10, 1e-6, {}, true); }).find("Gaussian likelihood") !=
        std::string::npos);
  CHECK(error_of([&] { classifier.set_noise(0, 3); }).find("expected a noise variance σ² > 0") !=
        std::string::npos);
}

TEST_CASE("fit_posterior on an mse network: P = (N/σ²)·GGN + δI at the fitted δ and σ") {
  const auto task = make_task<double>("sine", "mse", TaskOptions{});
  const Split<double>& train = task->split("train");
  CHECK(train.size() == 150);
  CHECK(task->split("wide").size() == 1000);
  auto model = make_model<double>("mlp", R"({"widths":[1,6,1],"activation":"tanh","loss":"mse"})");
  Rng rng(3);
  model->init(rng);
  task->check_model(*model);
  std::vector<index_t> fit;
  for (index_t i = 0; i < 40; ++i) fit.push_back(i);
  laplace::LaplaceSpec spec;
  spec.weights = "all", spec.structure = "full";
  laplace::FitReport report;
  auto post = laplace::fit_posterior(*model, train, fit, spec, &report);
  REQUIRE(post->gaussian());
  CHECK(post->outputs() == 1);
  CHECK(report.prior_gradient <= 1e-6);
  CHECK(std::abs(post->log_marglik_noise_gradient()) <= 1e-6 * 40);
  CurvatureData<double> data(*model, train, fit, 128);
  ModelOperator<double> ggn(data, ModelCurvature::GGN, ParamSubset::all(model->params().info()));
  Matrix want = materialize(ggn);
  const auto n = ggn.size();
  for (double& x : want) x *= 40 / post->noise();
  for (index_t i = 0; i < n; ++i) want[std::size_t(i * n + i)] += post->prior()[0];
  CHECK(check::relative_error(materialize(post->precision()), want) <= 1e-10);
  // σ given: kept; the MLE start otherwise, 2·Σℓ/(N·D).
  spec.noise = 0.5, spec.prior_precision = 2;
  auto given = laplace::fit_posterior(*model, train, fit, spec);
  CHECK(given->noise() == 0.25);
  CHECK(given->prior() == std::vector<double>{2.0});
  // Refused: the empirical Fisher (it scales as 1/σ⁴), the linearized evidence, σ to fit with a
  // given prior, and a noise for a classifier.
  spec.noise = 0, spec.prior_precision = 0, spec.curvature = "ef";
  CHECK(error_of([&] {
          laplace::fit_posterior(*model, train, fit, spec);
        }).find("empirical Fisher") != std::string::npos);
  spec.curvature = "ggn", spec.evidence = "linearized";
  CHECK(error_of([&] {
          laplace::fit_posterior(*model, train, fit, spec);
        }).find("linearized evidence is for classifiers") != std::string::npos);
  spec.evidence = "naive", spec.prior_precision = 2;
  CHECK(error_of([&] {
          laplace::fit_posterior(*model, train, fit, spec);
        }).find("σ is fitted together with the prior") != std::string::npos);
  // A saved posterior keeps σ and D.
  TempDir dir;
  laplace::save_posterior(dir.file("p.safetensors"), *post, *model, "full", "all", "ggn", "scalar");
  const laplace::StoredPosterior back = laplace::load_posterior(dir.file("p.safetensors"), *model);
  CHECK(back.posterior->noise() == post->noise());
  CHECK(back.posterior->outputs() == 1);
  CHECK(back.posterior->log_marglik() == post->log_marglik());
}
