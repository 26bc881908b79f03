// Composed operators against dense matrices (float64): sums, scales and diagonals, the exact
// inverse, its diagonal and the log-determinant a sum keeps where structure allows it (Kronecker +
// a diagonal constant per block, diagonal + diagonal, low-rank + diagonal), and the error naming
// the solver where it does not.
#include <doctest/doctest.h>

#include "curv/check/check.hpp"
#include "curv/curvature/compose.hpp"
#include "curv/curvature/kfac.hpp"
#include "curv/curvature/low_rank_operator.hpp"
#include "curv/curvature/model_operators.hpp"
#include "curv/linalg/dense.hpp"
#include "curv/linalg/solvers.hpp"
#include "support/dense_curvature.hpp"
#include "support/errors.hpp"

using namespace curv;
using namespace curv::testing;
using curv::check::relative_error;

namespace {

std::vector<double> random_vector(index_t n, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<double> v(static_cast<std::size_t>(n));
  for (auto& x : v) x = rng.normal();
  return v;
}

// Checks op's mv, diagonal, damped inverse (single and batched) and log-determinant against
// the dense matrix M.
void check_against(LinearOperator& op, const Matrix& M, double lambda) {
  const index_t n = op.size();
  CHECK(relative_error(materialize(op), M) <= 1e-13);
  CHECK(relative_error(op.diagonal(), diag_of(M, n)) <= 1e-13);
  Matrix D = M;
  for (index_t i = 0; i < n; ++i) D[std::size_t(i * n + i)] += lambda;
  REQUIRE(op.has_inverse());
  const auto v = random_vector(3 * n, 4);
  std::vector<double> x(v.size()), y(v.size());
  op.inverse_mm(v.data(), 3, lambda, x.data());
  for (index_t j = 0; j < 3; ++j) {
    const std::vector<double> vj(v.begin() + j * n, v.begin() + (j + 1) * n);
    const std::vector<double> xj(x.begin() + j * n, x.begin() + (j + 1) * n);
    CHECK(relative_error(xj, linalg::solve_spd(D, n, vj)) <= 1e-10);
    op.inverse_mv(vj.data(), lambda, y.data() + j * n);
  }
  CHECK(relative_error(x, y) <= 1e-14);
  CHECK(op.logdet(lambda) ==
        doctest::Approx(linalg::cholesky_logdet(linalg::cholesky(D, n), n)).epsilon(1e-10));
  // The inverse's diagonal, against the dense inverse's column by column.
  std::vector<double> want(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) {
    std::vector<double> e(static_cast<std::size_t>(n), 0.0);
    e[std::size_t(i)] = 1;
    want[std::size_t(i)] = linalg::solve_spd(D, n, e)[std::size_t(i)];
  }
  CHECK(relative_error(op.inverse_diagonal(lambda), want) <= 1e-10);
  DenseOperator dense(M, n);
  CHECK(relative_error(dense.inverse_diagonal(lambda), want) <= 1e-10);
}

// A diagonal holding value(prefix) on every parameter of the layer `prefix`.
template <class F>
std::vector<double> per_layer(const Model<double>& m, F value) {
  std::vector<double> d;
  for (const auto& p : m.params().info()) {
    const double x = value(p.name.substr(0, p.name.rfind('.')));
    d.insert(d.end(), std::size_t(p.shape.numel()), x);
  }
  return d;
}

Matrix dense_sum(const Matrix& A, double a, const Matrix& B, double b) {
  Matrix S(A.size());
  for (std::size_t i = 0; i < S.size(); ++i) S[i] = a * A[i] + b * B[i];
  return S;
}

Matrix diag_matrix(const std::vector<double>& d) {
  const auto n = d.size();
  Matrix M(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) M[i * n + i] = d[i];
  return M;
}

}  // namespace

TEST_CASE("Kronecker + a diagonal constant per block: exact inverse and log-determinant") {
  auto model = tiny("mlp");
  CurvatureData<double> data(*model, random_batches(*model, {6}, 3));
  const auto all = ParamSubset::all(model->params().info());
  const auto prior = per_layer(*model, [](const std::string& layer) {
    return layer == "fc1" ? 0.3 : layer == "fc2" ? 0.7 : 1.1;
  });
  for (const char* kind : {"kfac", "ekfac", "kfac-factored"}) {
    CAPTURE(kind);
    std::unique_ptr<KfacOperator> k = std::string(kind) == "ekfac"
                                          ? make_ekfac(data, all, KfacOptions{})
                                          : make_kfac(data, all, KfacOptions{});
    if (std::string(kind) == "kfac-factored") k = factored_damping(*k, 0.05);
    const Matrix K = materialize(*k);
    // A Laplace posterior's precision: N·K + P₀ with a per-layer prior.
    SumOperator posterior(std::make_unique<ScaledOperator>(40.0, std::move(k)),
                          std::make_unique<DiagonalOperator>(prior, "prior"));
    REQUIRE(posterior.exact() != nullptr);
    const Matrix M = dense_sum(K, 40.0, diag_matrix(prior), 1.0);
    check_against(posterior, M, 0.0);
    check_against(posterior, M, 0.2);
  }
}

TEST_CASE("diagonal + diagonal and low-rank + diagonal fold into exact structures") {
  const index_t n = 9, m = 3;
  const auto d1 = random_vector(n, 1), d2 = random_vector(n, 2);
  std::vector<double> a(d1.size()), b(d2.size());
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = 0.5 + d1[i] * d1[i], b[i] = d2[i] * d2[i];
  SumOperator dd(std::make_unique<DiagonalOperator>(a), std::make_unique<DiagonalOperator>(b));
  check_against(dd, dense_sum(diag_matrix(a), 1, diag_matrix(b), 1), 0.1);

  const auto U = random_vector(m * n, 7);
  Matrix UtU(std::size_t(n * n), 0.0);
  for (index_t r = 0; r < m; ++r)
    for (index_t i = 0; i < n; ++i)
      for (index_t j = 0; j < n; ++j) UtU[i * n + j] += U[r * n + i] * U[r * n + j] / double(m);
  LowRankOperator lr(U, m, n, 1.0 / double(m));
  check_against(lr, UtU, 0.3);  // rank 3 of 9: singular without λ
  CHECK(error_of([&] {
          std::vector<double> v(std::size_t(n), 1.0), out(v.size());
          lr.inverse_mv(v.data(), 0.0, out.data());
        }) ==
        "lowrank: entry 0 of the damped diagonal is 0, not invertible: expected a damping > 0");
  // The sum with a varying diagonal: Woodbury with D = 2·0 + b (+ λ), no λ needed.
  SumOperator lrd(std::make_unique<ScaledOperator>(2.0, std::make_unique<LowRankOperator>(lr)),
                  std::make_unique<DiagonalOperator>(a));
  REQUIRE(dynamic_cast<LowRankOperator*>(lrd.exact()) != nullptr);
  check_against(lrd, dense_sum(UtU, 2.0, diag_matrix(a), 1.0), 0.0);
  // Sums nest: (low-rank + diag) + diag is still exact.
  SumOperator nested(std::make_unique<SumOperator>(std::make_unique<LowRankOperator>(lr),
                                                   std::make_unique<DiagonalOperator>(a)),
                     std::make_unique<DiagonalOperator>(b));
  check_against(nested, dense_sum(dense_sum(UtU, 1, diag_matrix(a), 1), 1, diag_matrix(b), 1), 0);
}

TEST_CASE("a sum without exact structure multiplies, and its inverse names CG, its logdet SLQ") {
  auto model = tiny("mlp");
  CurvatureData<double> data(*model, random_batches(*model, {6}, 3));
  const auto all = ParamSubset::all(model->params().info());
  const index_t P = all.size();
  auto varying = random_vector(P, 5);
  for (auto& x : varying) x = 0.1 + x * x;
  auto k = make_kfac(data, all, KfacOptions{});
  const Matrix K = materialize(*k);
  SumOperator s(std::move(k), std::make_unique<DiagonalOperator>(varying));
  CHECK(!s.has_inverse());
  CHECK(relative_error(materialize(s), dense_sum(K, 1, diag_matrix(varying), 1)) <= 1e-13);
  std::vector<double> v(std::size_t(P), 1.0), out(v.size());
  const std::string inv = error_of([&] { s.inverse_mv(v.data(), 0.1, out.data()); });
  CHECK(inv.find("sum(kfac,diag): no exact inverse (the diagonal varies within the block") == 0);
  CHECK(inv.find("conjugate gradient (curv::linalg::cg)") != std::string::npos);
  CHECK(error_of([&] { s.logdet(0.1); }).find("stochastic Lanczos quadrature") !=
        std::string::npos);

  // A matrix-free operator plus a diagonal: CG solves what the sum cannot invert itself.
  ModelOperator<double> ggn_probe(data, ModelCurvature::GGN, all);
  const Matrix G = materialize(ggn_probe);
  SumOperator g(std::make_unique<ModelOperator<double>>(data, ModelCurvature::GGN, all),
                std::make_unique<DiagonalOperator>(varying));
  CHECK(g.why_not() == "ggn has no structure a diagonal can be added to exactly");
  const auto r = linalg::cg(g, v, {.damping = 0.05, .tolerance = 1e-12});
  Matrix D = dense_sum(G, 1, diag_matrix(varying), 1);
  for (index_t i = 0; i < P; ++i) D[i * P + i] += 0.05;
  CHECK(r.converged);
  CHECK(relative_error(r.x, linalg::solve_spd(D, P, v)) <= 1e-9);
  CHECK(error_of([&] {
          SumOperator(std::make_unique<DiagonalOperator>(varying),
                      std::make_unique<DiagonalOperator>(std::vector<double>{1}));
        }).find("expected operators of one size") != std::string::npos);
  CHECK(error_of([&] { ScaledOperator(-1, std::make_unique<DiagonalOperator>(varying)); }) ==
        "scaled diag: expected a scale > 0, found -1");
}
