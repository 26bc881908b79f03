// Curvature operators against their dense definitions on tiny float64 models (curvature/):
// every operator's mv, diagonal, inverse, trace and log-determinant; K-FAC's exactness
// identities; KFC and "expand" factors against brute-force computations of their definitions;
// EK-FAC's scaling as the true block's diagonal in the K-FAC eigenbasis.
#include <doctest/doctest.h>

#include <cmath>

#include "curv/check/check.hpp"
#include "curv/curvature/kfac.hpp"
#include "curv/curvature/model_operators.hpp"
#include "curv/linalg/dense.hpp"
#include "support/dense_curvature.hpp"

using namespace curv;
using namespace curv::testing;
using curv::check::relative_error;

TEST_CASE(
    "hessian, ggn, ef and fisher equal their dense definitions, over batches and on subsets") {
  for (const char* which : {"mlp", "conv", "sequence", "mlp-bce"}) {
    CAPTURE(which);
    auto model = tiny(which);
    auto parts = random_batches(*model, {3, 2}, 7);
    const Dense d = dense_of(*model, concatenate(parts), true);
    CurvatureData<double> data(*model, std::move(parts));
    const index_t P = d.P;
    const auto all = ParamSubset::all(model->params().info());
    const auto last = ParamSubset::parse("last", model->params().info());

    const Matrix G = sandwich(d, d.Hout), EF = empirical_fisher(d), F = sampled_fisher(d, data, 4);
    struct Case {
      ModelCurvature kind;
      const Matrix* dense;
      double tol;
    };
    // The Hessian's reference is a central difference (error O(h²) ≈ 1e-9), the others exact.
    for (const Case c :
         {Case{ModelCurvature::Hessian, &d.H, 1e-8}, Case{ModelCurvature::GGN, &G, 1e-12},
          Case{ModelCurvature::EF, &EF, 1e-12}, Case{ModelCurvature::Fisher, &F, 1e-12}}) {
      ModelOperator<double> op(data, c.kind, all, 4, 0);
      CAPTURE(op.name());
      CHECK(relative_error(materialize(op), *c.dense) <= c.tol);
      ModelOperator<double> head(data, c.kind, last, 4, 0);
      CHECK(relative_error(materialize(head), restrict(*c.dense, P, last)) <= c.tol);
      if (op.has_diagonal()) {
        CHECK(relative_error(op.diagonal(), diag_of(*c.dense, P)) <= 1e-12);
        CHECK(relative_error(head.diagonal(), diag_of(restrict(*c.dense, P, last), last.size())) <=
              1e-12);
      }
    }
    // GGN and EF are PSD; the Hessian is symmetric but indefinite in general.
    const Eigenpairs eg = linalg::eigh(G, P);
    CHECK(eg.values.front() >= -1e-12 * eg.values.back());
  }
}

TEST_CASE("layer-wise block-diagonal operators keep exactly the dense layer blocks") {
  auto model = tiny("mlp");
  auto parts = random_batches(*model, {4}, 3);
  const Dense d = dense_of(*model, concatenate(parts), false);
  CurvatureData<double> data(*model, std::move(parts));
  const auto all = ParamSubset::all(model->params().info());
  auto blocks = layer_blocks(data, ModelCurvature::GGN, all);
  const Matrix G = sandwich(d, d.Hout);
  Matrix expected(G.size(), 0.0);
  // Layer l owns fcl.weight and fcl.bias, consecutive in the flat vector.
  index_t start = 0;
  for (index_t l = 0; l < 3; ++l) {
    const index_t size = blocks->block(l).size();
    for (index_t i = start; i < start + size; ++i)
      for (index_t j = start; j < start + size; ++j) expected[i * d.P + j] = G[i * d.P + j];
    start += size;
  }
  REQUIRE(start == d.P);
  CHECK(relative_error(materialize(*blocks), expected) <= 1e-12);
  CHECK(relative_error(blocks->diagonal(), diag_of(G, d.P)) <= 1e-12);
}

TEST_CASE("diagonal operators invert, decompose and take log-determinants exactly") {
  DiagonalOperator op({3.0, 0.5, 2.0});
  const Matrix v{1, 2, 3};
  Matrix out(3);
  op.inverse_mv(v.data(), 0.5, out.data());
  CHECK(out[0] == doctest::Approx(1 / 3.5));
  CHECK(out[1] == doctest::Approx(2.0));
  CHECK(op.logdet(0.5) == doctest::Approx(std::log(3.5 * 1.0 * 2.5)));
  CHECK(op.eigendecomposition().values == Matrix{0.5, 2.0, 3.0});
  CHECK_THROWS_WITH_AS(op.inverse_mv(v.data(), -1.0, out.data()), doctest::Contains("damping >= 0"),
                       Error);
  CHECK_THROWS_WITH_AS(DiagonalOperator({1.0, NAN}), doctest::Contains("finite"), Error);
}

TEST_CASE("operators without a structured inverse say which solver to use") {
  auto model = tiny("mlp");
  CurvatureData<double> data(*model, random_batches(*model, {2}, 1));
  ModelOperator<double> h(data, ModelCurvature::Hessian, ParamSubset::all(model->params().info()));
  std::vector<double> v(std::size_t(h.size()), 1.0), out(v.size());
  CHECK_THROWS_WITH_AS(h.inverse_mv(v.data(), 1.0, out.data()),
                       doctest::Contains("conjugate gradient"), Error);
  CHECK_THROWS_WITH_AS(h.diagonal(), doctest::Contains("Hutchinson"), Error);
  CHECK_THROWS_WITH_AS(h.logdet(1.0), doctest::Contains("Lanczos"), Error);
}
