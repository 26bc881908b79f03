// Subsets of single entries (curvature/subset.hpp, "entries:…") and the subnetwork Laplace
// posterior over them (laplace/subnet.hpp), against their definitions on tiny float64 models:
// the subset's ranges and spec round trip, a curvature and its diagonal restricted to the entries
// are the full ones' rows and columns, Kronecker structures refuse them, and a subnetwork
// posterior's precision is N·C_SS + δI with S the k largest |θ*| or the k largest diagonal-
// Laplace variances; its GLM covariance J_S P⁻¹ J_Sᵀ against a dense solve.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "curv/check/check.hpp"
#include "curv/curvature/factory.hpp"
#include "curv/curvature/gradients.hpp"
#include "curv/curvature/model_operators.hpp"
#include "curv/laplace/fit.hpp"
#include "curv/laplace/predictive.hpp"
#include "curv/laplace/store.hpp"
#include "curv/laplace/subnet.hpp"
#include "curv/linalg/dense.hpp"
#include "support/dense_curvature.hpp"
#include "support/errors.hpp"
#include "support/toy_data.hpp"

using namespace curv;
using namespace curv::testing;
using curv::check::relative_error;

TEST_CASE("a subset of single entries: ranges cut at tensors, its spec, its support") {
  auto model = tiny("mlp");  // 4-6-5-3: fc1.weight 0..23, fc1.bias 24..29, fc2.weight 30..59, …
  const auto& info = model->params().info();
  const ParamSubset s = ParamSubset::entries({27, 3, 24, 25, 26, 2, 31}, info);
  CHECK(s.size() == 7);
  CHECK(s.partial());
  REQUIRE(s.ranges().size() ==
          3);  // 2-3 | 24-27 (a whole-tensor boundary cuts 2-3 from 24-27) | 31
  CHECK(s.ranges()[0].offset == 2);
  CHECK(s.ranges()[1].offset == 24);
  CHECK(s.ranges()[1].size == 4);
  CHECK(s.names() == std::vector<std::string>{"fc1.weight", "fc1.bias", "fc2.weight"});
  CHECK(s.spec() == "entries:2-3,24-27,31");
  const ParamSubset back = ParamSubset::parse(s.spec(), info);
  CHECK(back.ranges().size() == 3);
  CHECK(back.size() == 7);
  const ParamSubset support = s.support();
  CHECK(!support.partial());
  CHECK(support.size() == 24 + 6 + 30);
  CHECK(support.contains(0));  // fc1.weight: its first entry is not held, its tensor is touched
  CHECK(!s.contains(0));
  CHECK(!support.contains(60));  // fc2.bias
  // Whole tensors given entry by entry are not partial, and read back by name.
  std::vector<index_t> bias;
  for (index_t i = 24; i < 30; ++i) bias.push_back(i);
  CHECK(!ParamSubset::entries(bias, info).partial());
  CHECK(ParamSubset::entries(bias, info).spec() == "fc1.bias");
  CHECK(error_of([&] {
          ParamSubset::entries({3, 3}, info);
        }) == "parameter subset: entry 3 given twice");
  CHECK(error_of([&] { ParamSubset::parse("entries:2,x", info); }) ==
        "parameter subset 'entries:2,x': expected entries as N or N-M, found 'x'");
  CHECK(error_of([&] { ParamSubset::parse("entries:0-99999999999", info); }) ==
        "parameter subset 'entries:0-99999999999': expected entries N-M with 0 <= N <= M <= 82, "
        "found '0-99999999999'");
  CHECK(error_of([&] { ParamSubset::parse("entries:1,2,", info); }) ==
        "parameter subset 'entries:1,2,': expected entries as N or N-M separated by commas");
  CHECK(error_of([&] {
          ParamSubset::entries({5000}, info);
        }).find("expected entries in 0..82, found 5000") != std::string::npos);
}

TEST_CASE("a curvature on single entries is the full one's rows and columns; kron refuses it") {
  auto model = tiny("mlp");
  CurvatureData<double> data(*model, random_batches(*model, {7}, 5));
  const auto& info = model->params().info();
  const std::vector<index_t> picked = {1, 25, 26, 40, 62, 70};
  const ParamSubset s = ParamSubset::entries(picked, info);
  ModelOperator<double> full(data, ModelCurvature::GGN, ParamSubset::all(info));
  ModelOperator<double> part(data, ModelCurvature::GGN, s);
  const Matrix F = materialize(full), Sd = materialize(part);
  const index_t P = full.size(), k = index_t(picked.size());
  Matrix want(std::size_t(k * k));
  for (index_t a = 0; a < k; ++a)
    for (index_t b = 0; b < k; ++b)
      want[std::size_t(a * k + b)] =
          F[std::size_t(picked[std::size_t(a)] * P + picked[std::size_t(b)])];
  CHECK(relative_error(Sd, want) <= 1e-12);
  const std::vector<double> dfull = full.diagonal(), dpart = part.diagonal();
  for (index_t a = 0; a < k; ++a)
    CHECK(dpart[std::size_t(a)] ==
          doctest::Approx(dfull[std::size_t(picked[std::size_t(a)])]).epsilon(1e-12));
  OperatorSpec spec;
  spec.name = "kfac", spec.subset = s.spec();
  CHECK(error_of([&] { make_operator(data, spec); }) ==
        "curvature: kfac acts on whole layers: expected hessian, ggn, ef, fisher or diag on a "
        "subset of single entries");
}

TEST_CASE("a subnetwork posterior: the chosen weights, P = N·C_SS + δI, J_S P⁻¹ J_Sᵀ") {
  ToyClassifier f;
  const index_t P = f.model->params().size(), k = 12;
  laplace::LaplaceSpec spec;
  spec.weights = "subnet", spec.subnet_size = k, spec.structure = "full", spec.prior_precision = 2;
  for (const char* by : {"magnitude", "variance"}) {
    CAPTURE(std::string(by));
    spec.subnet_by = by;
    laplace::FitReport report;
    auto post = laplace::fit_posterior(*f.model, f.train, f.fit, spec, &report);
    const ParamSubset s = ParamSubset::parse(report.weights, f.model->params().info());
    REQUIRE(s.size() == k);
    // The chosen entries hold the k largest scores.
    std::vector<double> score(static_cast<std::size_t>(P));
    if (std::string(by) == "magnitude") {
      for (index_t i = 0; i < P; ++i) score[std::size_t(i)] = std::abs(f.model->params().data()[i]);
    } else {
      laplace::LaplaceSpec diag;
      diag.weights = "all", diag.structure = "diag", diag.prior = "scalar";
      score = laplace::fit_posterior(*f.model, f.train, f.fit, diag)->variances();
    }
    std::vector<double> in(static_cast<std::size_t>(k));
    std::vector<double> full_scores(score);
    s.gather(score.data(), in.data());
    std::sort(full_scores.rbegin(), full_scores.rend());
    CHECK(*std::min_element(in.begin(), in.end()) >= full_scores[std::size_t(k - 1)]);
    // P = N·(the GGN's rows and columns at S) + δI.
    CurvatureData<double> data(*f.model, f.train, f.fit, 128);
    ModelOperator<double> ggn(data, ModelCurvature::GGN, s);
    Matrix want = materialize(ggn);
    for (double& x : want) x *= 40;
    for (index_t i = 0; i < k; ++i) want[std::size_t(i * k + i)] += 2;
    CHECK(relative_error(materialize(post->precision()), want) <= 1e-10);
    // The predictive's covariance from the Jacobian's columns at S, against a dense solve.
    const auto l = laplace::linearize(*post, *f.model, f.test, f.points, report.weights, 5);
    GradientOptions o;
    o.measurement = Measurement::parse("jacobian");
    GradientStream<double> rows(*f.model, f.test, f.points, o);
    std::vector<double> J;
    rows.run([&](const GradientBlock<double>& b) {
      for (index_t r = 0; r < b.rows; ++r) {
        std::vector<double> sub(static_cast<std::size_t>(k));
        s.gather(b.data + r * b.columns, sub.data());
        J.insert(J.end(), sub.begin(), sub.end());
      }
    });
    const index_t C = f.model->outputs();
    std::vector<double> dense;
    for (std::size_t e = 0; e < f.points.size(); ++e)
      for (index_t a = 0; a < C; ++a) {
        const std::vector<double> row(
            J.begin() + std::ptrdiff_t((e * std::size_t(C) + std::size_t(a)) * std::size_t(k)),
            J.begin() + std::ptrdiff_t((e * std::size_t(C) + std::size_t(a) + 1) * std::size_t(k)));
        const auto x = linalg::solve_spd(want, k, row);
        for (index_t b = 0; b < C; ++b) {
          double v = 0;
          for (index_t i = 0; i < k; ++i)
            v += J[(e * std::size_t(C) + std::size_t(b)) * std::size_t(k) + std::size_t(i)] *
                 x[std::size_t(i)];
          dense.push_back(v);
        }
      }
    CHECK(relative_error(l.covariance, dense) <= 1e-10);
  }
  spec.structure = "kron";
  CHECK(error_of([&] {
          laplace::fit_posterior(*f.model, f.train, f.fit, spec);
        }).find("a subnetwork holds single weights") != std::string::npos);
}

TEST_CASE("a saved subnetwork posterior reloads over the same entries") {
  ToyClassifier f;
  laplace::LaplaceSpec spec;
  spec.weights = "subnet", spec.subnet_size = 9, spec.subnet_by = "magnitude";
  spec.structure = "full";
  laplace::FitReport report;
  auto post = laplace::fit_posterior(*f.model, f.train, f.fit, spec, &report);
  TempDir dir;
  laplace::save_posterior(dir.file("s.safetensors"), *post, *f.model, "full", report.weights, "ggn",
                          "scalar");
  const auto back = laplace::load_posterior(dir.file("s.safetensors"), *f.model);
  CHECK(back.weights == report.weights);
  CHECK(back.posterior->log_marglik() == post->log_marglik());
}
