// Local-ensemble extrapolation scores and the named posterior fit (laplace/fit.hpp) against
// dense definitions on a tiny float64 MLP: E_m(x) = ‖(I − U_m U_mᵀ) g(x)‖ with U_m the top m
// eigenvectors of the dense GGN, for the predicted logit's gradient and the minimum over
// classes; a low-rank posterior holding every positive eigenpair equals the full one.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "curv/check/check.hpp"
#include "curv/curvature/gradients.hpp"
#include "curv/curvature/model_operators.hpp"
#include "curv/data/task.hpp"
#include "curv/laplace/fit.hpp"
#include "curv/laplace/local_ensemble.hpp"
#include "curv/linalg/dense.hpp"
#include "support/errors.hpp"
#include "support/toy_data.hpp"

using namespace curv;
using namespace curv::testing;
using curv::check::relative_error;

TEST_CASE("local-ensemble scores against the dense projection off the top GGN eigenvectors") {
  ToyClassifier f;
  const Split<double>& test = f.task->split("test");
  for (const char* subset : {"all", "last"}) {
    CAPTURE(std::string(subset));
    CurvatureData<double> data(*f.model, f.task->split("train"), f.fit, 16);
    ModelOperator<double> ggn(data, ModelCurvature::GGN,
                              ParamSubset::parse(subset, f.model->params().info()));
    const index_t n = ggn.size();
    const Eigenpairs e = linalg::eigh(materialize(ggn), n);  // ascending
    // Lanczos run to the operator's size finds every pair: the top 8 as eigh's.
    const laplace::LocalEnsemble le(ggn, 8, n, 3);
    REQUIRE(le.eigenvectors() == 8);
    for (index_t i = 0; i < 8; ++i)
      CHECK(std::abs(le.eigenvalues()[std::size_t(i)] - e.values[std::size_t(n - 1 - i)]) <=
            1e-10 * e.values.back());

    GradientOptions g;
    g.measurement = Measurement::parse("jacobian"), g.subset = subset;
    GradientStream<double> stream(*f.model, test, f.points, g);
    std::vector<double> J;
    stream.run([&](const GradientBlock<double>& b) {
      J.insert(J.end(), b.data, b.data + b.rows * b.columns);
    });
    auto residual = [&](const double* row, index_t m) {  // ‖(I − U_m U_mᵀ) g‖, densely
      std::vector<double> r(row, row + n);
      for (index_t k = 0; k < m; ++k) {
        const auto& u = e.vectors[std::size_t(n - 1 - k)];
        double c = 0;
        for (index_t i = 0; i < n; ++i) c += u[std::size_t(i)] * row[i];
        for (index_t i = 0; i < n; ++i) r[std::size_t(i)] -= c * u[std::size_t(i)];
      }
      double s = 0;
      for (double x : r) s += x * x;
      return std::sqrt(s);
    };
    // The logits at θ*, for the predicted class.
    Batch<double> b;
    test.fill(f.points, nullptr, b);
    auto loss = make_loss<double>("cross_entropy");
    Objective<double> obj(*f.model, *loss);
    obj.record(b.x);
    const View<const double> z = obj.output();
    const std::vector<index_t> ms = {0, 3, 8};
    std::vector<double> want_predicted, want_min;
    for (index_t x = 0; x < 12; ++x) {
      const index_t top =
          index_t(std::max_element(z.data + x * 3, z.data + x * 3 + 3) - (z.data + x * 3));
      for (index_t m : ms) {
        want_predicted.push_back(residual(J.data() + (x * 3 + top) * n, m));
        double best = INFINITY;
        for (index_t c = 0; c < 3; ++c)
          best = std::min(best, residual(J.data() + (x * 3 + c) * n, m));
        want_min.push_back(best);
      }
    }
    CHECK(relative_error(le.scores(*f.model, test, f.points, subset, "predicted", ms, 5),
                         want_predicted) <= 1e-10);
    CHECK(relative_error(le.scores(*f.model, test, f.points, subset, "min-class", ms, 5),
                         want_min) <= 1e-10);
    // m = 0 is the gradient's norm; more eigenvectors never raise the score.
    const auto s = le.scores(*f.model, test, f.points, subset, "predicted", {0, 1, 2, 8}, 7);
    for (index_t x = 0; x < 12; ++x)
      for (index_t j = 1; j < 4; ++j)
        CHECK(s[std::size_t(x * 4 + j)] <= s[std::size_t(x * 4 + j - 1)]);
  }
}

TEST_CASE("local ensembles: bad requests are one-line errors") {
  ToyClassifier f;
  const laplace::LocalEnsemble le(std::vector<double>(2 * 5, 0.0), 2, 5);
  std::vector<double> out(3);
  const std::vector<double> G(5, 1.0);
  CHECK(error_of([&] { le.score_rows(G.data(), 1, {3}, out.data()); }) ==
        "local ensemble: expected m in 0..2, found 3");
  CHECK(error_of([&] {
          le.scores(*f.model, f.task->split("test"), f.points, "all", "entropy", {0});
        }) == "local ensemble: expected a gradient among predicted, min-class, found 'entropy'");
  CHECK(error_of([&] {
          le.scores(*f.model, f.task->split("test"), f.points, "all", "predicted", {0});
        }) ==
        "local ensemble: expected gradients over the 5 weights of the curvature, found 123 "
        "for 'all'");
}

TEST_CASE("fit_posterior: lowrank with every positive eigenpair is the full posterior") {
  ToyClassifier f;
  const Split<double>& train = f.task->split("train");
  for (const char* subset : {"all", "last"}) {
    CAPTURE(std::string(subset));
    laplace::LaplaceSpec spec;
    spec.weights = subset, spec.structure = "full", spec.prior_precision = 3, spec.batch = 16;
    auto full = laplace::fit_posterior(*f.model, train, f.fit, spec);
    spec.structure = "lowrank", spec.rank = full->size();
    laplace::FitReport report;
    auto low = laplace::fit_posterior(*f.model, train, f.fit, spec, &report);
    CHECK(report.n == 40);
    CHECK(std::abs(low->log_marglik() - full->log_marglik()) <=
          1e-9 * std::abs(full->log_marglik()));
    CHECK(relative_error(low->variances(), full->variances()) <= 1e-9);
    // Fitted by the marginal likelihood: the same δ from either.
    spec.prior_precision = 0;
    auto fitted_low = laplace::fit_posterior(*f.model, train, f.fit, spec, &report);
    CHECK(report.prior_gradient <= 1e-6);
    spec.structure = "full";
    auto fitted_full = laplace::fit_posterior(*f.model, train, f.fit, spec);
    CHECK(std::abs(fitted_low->prior()[0] - fitted_full->prior()[0]) <=
          1e-6 * fitted_full->prior()[0]);
  }
}

TEST_CASE("fit_posterior: unknown names and a non-positive prior are one-line errors") {
  ToyClassifier f;
  const Split<double>& train = f.task->split("train");
  laplace::LaplaceSpec spec;
  spec.structure = "block";
  CHECK(error_of([&] { laplace::fit_posterior(*f.model, train, f.fit, spec); }) ==
        "laplace: expected a structure among kron, diag, lowrank, full, found 'block'");
  spec.structure = "kron", spec.curvature = "hessian";
  CHECK(error_of([&] { laplace::fit_posterior(*f.model, train, f.fit, spec); }) ==
        "laplace: expected a curvature among ggn, ef, fisher, found 'hessian'");
  spec.curvature = "ggn", spec.prior_precision = -1;
  CHECK(error_of([&] { laplace::fit_posterior(*f.model, train, f.fit, spec); }) ==
        "laplace: expected a prior precision > 0 (or 0 to fit it), found -1");
  spec.prior_precision = 0, spec.structure = "full", spec.max_full = 10;
  CHECK(error_of([&] { laplace::fit_posterior(*f.model, train, f.fit, spec); }) ==
        "laplace: --structure full on 21 weights would build a 21² matrix: expected at most 10 "
        "(use --weights last, or --structure kron or lowrank)");
}
