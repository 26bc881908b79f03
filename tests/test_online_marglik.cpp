// Online marginal-likelihood training (laplace/online.hpp): a fit maximizes log Z at the current
// weights from the current prior (stationary in every log δ_g, and in log σ² for regression),
// the regularizer it hands the training loop is ½ Σ_g (s·δ_g/N) ‖θ_g‖² with s = σ² for
// regression and 1 otherwise, and fits happen at the ends of the epochs the schedule names.
#include <doctest/doctest.h>

#include <cmath>

#include "curv/data/task.hpp"
#include "curv/laplace/fit.hpp"
#include "curv/laplace/online.hpp"
#include "curv/optim/optimizer.hpp"
#include "support/errors.hpp"
#include "support/toy_data.hpp"

using namespace curv;
using namespace curv::testing;

namespace {

// ½ Σ_g (s·δ_g/N) ‖θ_g‖², from the definition.
double prior_value(const Model<double>& model, const std::vector<laplace::PriorGroup>& groups,
                   const std::vector<double>& delta, double s, double n) {
  double r = 0;
  for (std::size_t g = 0; g < groups.size(); ++g)
    for (index_t i = groups[g].begin; i < groups[g].begin + groups[g].size; ++i)
      r += 0.5 * s * delta[g] / n * model.params().data()[i] * model.params().data()[i];
  return r;
}

}  // namespace

TEST_CASE("a fit maximizes log Z at the current weights and sets the regularizer from it") {
  ToyClassifier f;
  laplace::OnlineMarglikOptions o;
  o.structure = "full", o.prior = "layer", o.prior_start = 3;
  laplace::OnlineMarglik<double> m(*f.model, f.train, f.fit, 4, o);
  const View<const double> theta{f.model->params().data(), Shape{f.model->params().size()}};
  // Before any fit: δ = prior_start on every group.
  CHECK(m.regularizer().value(theta) ==
        doctest::Approx(prior_value(*f.model, m.groups(), {3, 3}, 1, 40)).epsilon(1e-12));
  const laplace::MarglikFit& fit = m.fit(7);
  CHECK(fit.step == 7);
  CHECK(fit.noise == 0);
  REQUIRE(fit.prior.size() == 2);
  CHECK(m.regularizer().value(theta) ==
        doctest::Approx(prior_value(*f.model, m.groups(), fit.prior, 1, 40)).epsilon(1e-12));
  // The same posterior fitted afresh at that prior: the same log Z, and a stationary one.
  laplace::LaplaceSpec spec;
  spec.weights = "all", spec.structure = "full", spec.prior = "layer", spec.prior_precision = 1;
  auto post = laplace::fit_posterior(*f.model, f.train, f.fit, spec);
  post->set_prior(fit.prior);
  CHECK(post->log_marglik() == doctest::Approx(fit.log_marglik).epsilon(1e-12));
  const auto grad = post->log_marglik_gradient();
  for (std::size_t g = 0; g < grad.size(); ++g)
    CHECK(std::abs(grad[g]) <= 1e-6 * double(m.groups()[g].size));
}

TEST_CASE("regression: σ² is fitted too and scales the regularizer") {
  const auto task = make_task<double>("sine", "mse", TaskOptions{});
  auto model = make_model<double>("mlp", R"({"widths":[1,6,1],"activation":"tanh","loss":"mse"})");
  Rng rng(5);
  model->init(rng);
  std::vector<index_t> examples;
  for (index_t i = 0; i < 30; ++i) examples.push_back(i);
  laplace::OnlineMarglikOptions o;
  o.structure = "full", o.prior = "scalar";
  laplace::OnlineMarglik<double> m(*model, task->split("train"), examples, 1, o);
  const laplace::MarglikFit& fit = m.fit(1);
  REQUIRE(fit.noise > 0);
  const View<const double> theta{model->params().data(), Shape{model->params().size()}};
  CHECK(m.regularizer().value(theta) ==
        doctest::Approx(prior_value(*model, m.groups(), fit.prior, fit.noise, 30)).epsilon(1e-12));
  laplace::LaplaceSpec spec;
  spec.weights = "all", spec.structure = "full", spec.prior_precision = fit.prior[0];
  spec.noise = std::sqrt(fit.noise);
  auto post = laplace::fit_posterior(*model, task->split("train"), examples, spec);
  CHECK(post->log_marglik() == doctest::Approx(fit.log_marglik).epsilon(1e-10));
  CHECK(std::abs(post->log_marglik_noise_gradient()) <= 1e-6 * 30);
  CHECK(std::abs(post->log_marglik_gradient()[0]) <= 1e-6 * double(post->size()));
}

TEST_CASE("fits happen at the ends of epochs e >= burn-in that are multiples of every") {
  ToyClassifier f;
  laplace::OnlineMarglikOptions o;
  o.structure = "diag", o.burnin = 2, o.every = 2;
  laplace::OnlineMarglik<double> m(*f.model, f.train, f.fit, 3, o);
  auto opt = make_sgd<double>(0.1);
  for (int s = 0; s < 15; ++s) m.after_step(f.model->params(), *opt);
  REQUIRE(m.history().size() == 2);  // epochs 2 and 4: steps 6 and 12
  CHECK(m.history()[0].step == 6);
  CHECK(m.history()[1].step == 12);
  o.every = 0;
  CHECK(error_of([&] {
          laplace::OnlineMarglik<double>(*f.model, f.train, f.fit, 3, o);
        }).find("marglik: expected fits every >= 1 epochs") != std::string::npos);
}

TEST_CASE("a prior on some layers: the others train without one; kron over a LayerNorm refused") {
  ToyClassifier f;
  auto model =
      make_model<double>("mlp", R"({"widths":[16,6,3],"activation":"tanh","norm":"layer"})");
  Rng rng(2);
  model->init(rng);
  laplace::OnlineMarglikOptions o;  // kron over all weights: the LayerNorm's gains have no block
  CHECK(error_of([&] {
          laplace::OnlineMarglik<double>(*model, f.train, f.fit, 4, o);
        }).find("norm1.weight") != std::string::npos);
  o.weights = "fc1,fc2", o.prior_start = 3;
  laplace::OnlineMarglik<double> m(*model, f.train, f.fit, 4, o);
  CHECK(m.groups().size() == 2);
  // ½ (δ/N) ‖θ‖² over fc1 and fc2 alone.
  const ParamSubset fc = ParamSubset::parse("fc1,fc2", model->params().info());
  std::vector<double> theta(std::size_t(fc.size()));
  fc.gather(model->params().data(), theta.data());
  double want = 0;
  for (double w : theta) want += 0.5 * 3.0 / 40 * w * w;
  const View<const double> all{model->params().data(), Shape{model->params().size()}};
  CHECK(m.regularizer().value(all) == doctest::Approx(want).epsilon(1e-12));
  m.fit(4);
  CHECK(m.history().size() == 1);
}
