// Influence scores (influence/scores.hpp) against their dense float64 definition on a tiny model,
//   s[q, n] = ∇m(z'_q)ᵀ (H + λI)⁻¹ ∇ℓ(z_n),
// with H the mean-loss GGN (exact: the dense Jacobian sandwich) or Hessian (central differences),
// by the exact, CG and LiSSA inverses; scores that do not depend on the gradient batch; the
// margin as the queries' scalar; bad settings.
#include <doctest/doctest.h>

#include <cmath>

#include "curv/curvature/data.hpp"
#include "curv/curvature/factory.hpp"
#include "curv/data/batch_source.hpp"
#include "curv/influence/scores.hpp"
#include "curv/linalg/dense.hpp"
#include "curv/loss/loss.hpp"
#include "curv/nn/objective.hpp"
#include "support/dense_curvature.hpp"
#include "support/errors.hpp"
#include "support/memory_split.hpp"

using namespace curv;
using namespace curv::testing;

namespace {

std::vector<index_t> range(index_t n) {
  std::vector<index_t> r;
  for (index_t i = 0; i < n; ++i) r.push_back(i);
  return r;
}

// s[q, n] from dense pieces: query gradients (Q, P), training gradients (N, P), M + λI.
Matrix reference(const Matrix& queries, index_t Q, const Matrix& train, index_t N, const Matrix& M,
                 index_t P, double damping) {
  Matrix s(std::size_t(Q * N));
  for (index_t q = 0; q < Q; ++q) {
    const std::vector<double> b(queries.begin() + q * P, queries.begin() + (q + 1) * P);
    const std::vector<double> x = linalg::solve_spd(M, P, b, damping);
    for (index_t n = 0; n < N; ++n) {
      double dot = 0;
      for (index_t p = 0; p < P; ++p) dot += x[std::size_t(p)] * train[std::size_t(n * P + p)];
      s[std::size_t(q * N + n)] = dot;
    }
  }
  return s;
}

double max_abs(const Matrix& a) {
  double m = 0;
  for (double v : a) m = std::max(m, std::abs(v));
  return m;
}

double max_diff(const Matrix& a, const Matrix& b) {
  REQUIRE(a.size() == b.size());
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

struct Fixture {
  std::unique_ptr<Model<double>> model = tiny("mlp");
  static constexpr index_t N = 10, Q = 3;
  index_t P = model->params().size();
  MemorySplit train{concatenate(random_batches(*model, {N}, 11))};
  MemorySplit query{concatenate(random_batches(*model, {Q}, 12))};
  Dense d = dense_of(*model, collect_batches<double>(train, range(N), N)[0], true);
  Dense dq = dense_of(*model, collect_batches<double>(query, range(Q), Q)[0], false);
  CurvatureData<double> data{*model, train, range(N), 4};

  std::unique_ptr<LinearOperator> op(const char* name) {
    OperatorSpec spec;
    spec.name = name;
    return make_operator(data, spec);
  }
};

}  // namespace

TEST_CASE("exact, cg and lissa scores equal s = ∇m(z')ᵀ (GGN + λI)⁻¹ ∇ℓ(z) densely") {
  Fixture f;
  const double lambda = 0.1;
  const Matrix G = sandwich(f.d, f.d.Hout);
  const Matrix ref = reference(f.dq.grads, f.Q, f.d.grads, f.N, G, f.P, lambda);
  const double scale = max_abs(ref);
  REQUIRE(scale > 0);
  const double top = linalg::eigh(G, f.P).values.back();
  auto ggn = f.op("ggn");
  for (auto kind : {influence::Inverse::Exact, influence::Inverse::Cg, influence::Inverse::Lissa}) {
    CAPTURE(influence::inverse_name(kind));
    influence::InverseOptions io;
    io.kind = kind, io.damping = lambda, io.tolerance = 1e-12;
    // LiSSA contracts by 1 − λ/s per term at worst: 2,000 terms leave (1 − 0.1/s)^2000 ≪ 1e-12.
    io.lissa_scale = 1.1 * (top + lambda), io.lissa_depth = 2000;
    influence::InverseReport report;
    const Matrix s = influence::scores(*f.model, *ggn, f.train, range(f.N), f.query, range(f.Q), io,
                                       influence::ScoreOptions{}, &report);
    const double tol = kind == influence::Inverse::Exact ? 1e-10 : 1e-8;
    CHECK(max_diff(s, ref) <= tol * scale);
    CHECK(report.worst_residual <= (kind == influence::Inverse::Exact ? 1e-12 : 1e-9));
    CHECK(report.products > 0);
  }
}

TEST_CASE("the Hessian's scores equal the dense definition with its central-difference Hessian") {
  Fixture f;
  // Damped past the Hessian's most negative eigenvalue, so H + λI is positive definite.
  const auto values = linalg::eigh(f.d.H, f.P).values;
  const double lambda = std::max(0.0, -values.front()) + 0.2;
  const Matrix ref = reference(f.dq.grads, f.Q, f.d.grads, f.N, f.d.H, f.P, lambda);
  auto hessian = f.op("hessian");
  for (auto kind : {influence::Inverse::Exact, influence::Inverse::Cg}) {
    CAPTURE(influence::inverse_name(kind));
    influence::InverseOptions io;
    io.kind = kind, io.damping = lambda, io.tolerance = 1e-12;
    const Matrix s = influence::scores(*f.model, *hessian, f.train, range(f.N), f.query, range(f.Q),
                                       io, influence::ScoreOptions{});
    // The reference's differences (h = 1e-4) are accurate to about 1e-8.
    CHECK(max_diff(s, ref) <= 1e-6 * max_abs(ref));
  }
  // Undamped, this Hessian is indefinite: the exact inverse says so, naming the damping.
  influence::InverseOptions io;
  io.kind = influence::Inverse::Exact;
  REQUIRE(values.front() < 0);
  CHECK(error_of([&] {
          influence::scores(*f.model, *hessian, f.train, range(f.N), f.query, range(f.Q), io,
                            influence::ScoreOptions{});
        }).find("is not positive definite") != std::string::npos);
}

TEST_CASE("scores do not depend on the gradient batch, and follow the lists' order") {
  Fixture f;
  auto ggn = f.op("ggn");
  influence::InverseOptions io;
  io.kind = influence::Inverse::Exact, io.damping = 0.05;
  influence::ScoreOptions so;
  so.batch = 1;
  const Matrix one =
      influence::scores(*f.model, *ggn, f.train, range(f.N), f.query, range(f.Q), io, so);
  so.batch = 4;
  const Matrix four =
      influence::scores(*f.model, *ggn, f.train, range(f.N), f.query, range(f.Q), io, so);
  CHECK(max_diff(one, four) <= 1e-13 * max_abs(one));
  // Training examples {7, 2} and queries {2, 0}: the matching entries of the full matrix.
  const Matrix some = influence::scores(*f.model, *ggn, f.train, {7, 2}, f.query, {2, 0}, io, so);
  const std::vector<std::pair<index_t, index_t>> at = {{2, 7}, {2, 2}, {0, 7}, {0, 2}};
  for (std::size_t i = 0; i < at.size(); ++i)
    CHECK(std::abs(some[i] - one[std::size_t(at[i].first * f.N + at[i].second)]) <=
          1e-13 * max_abs(one));
}

TEST_CASE("the margin as the queries' scalar: its gradient through the dense Jacobian") {
  Fixture f;
  const index_t C = f.model->outputs(), P = f.P;
  // The queries' outputs z, from a forward pass.
  auto batches = collect_batches<double>(f.query, range(f.Q), f.Q);
  const Batch<double>& qb = batches[0];
  auto loss = make_loss<double>(f.model->loss());
  Objective<double> obj(*f.model, *loss);
  obj.record(qb.x.view());
  const double* z = obj.output().data;
  // ∇(z_y − log Σ_{c≠y} exp z_c) = J_y − Σ_{c≠y} softmax_{c≠y}(z)_c J_c.
  Matrix grads(std::size_t(f.Q * P), 0);
  for (index_t q = 0; q < f.Q; ++q) {
    const index_t y = index_t(qb.labels[std::size_t(q)]);
    double norm = 0;
    for (index_t c = 0; c < C; ++c)
      if (c != y) norm += std::exp(z[q * C + c]);
    for (index_t c = 0; c < C; ++c) {
      const double w = c == y ? 1.0 : -std::exp(z[q * C + c]) / norm;
      for (index_t p = 0; p < P; ++p)
        grads[std::size_t(q * P + p)] += w * f.dq.J[std::size_t((q * C + c) * P + p)];
    }
  }
  const double lambda = 0.1;
  const Matrix ref = reference(grads, f.Q, f.d.grads, f.N, sandwich(f.d, f.d.Hout), P, lambda);
  auto ggn = f.op("ggn");
  influence::InverseOptions io;
  io.kind = influence::Inverse::Exact, io.damping = lambda;
  influence::ScoreOptions so;
  so.query = Measurement::parse("margin");
  const Matrix s =
      influence::scores(*f.model, *ggn, f.train, range(f.N), f.query, range(f.Q), io, so);
  CHECK(max_diff(s, ref) <= 1e-10 * max_abs(ref));
}

TEST_CASE("bad settings are one-line errors naming what was expected") {
  Fixture f;
  auto ggn = f.op("ggn");
  auto run = [&](influence::InverseOptions io) {
    return error_of([&] {
      influence::scores(*f.model, *ggn, f.train, range(f.N), f.query, range(f.Q), io,
                        influence::ScoreOptions{});
    });
  };
  influence::InverseOptions io;
  io.damping = -1;
  CHECK(run(io) == "influence: expected a damping λ >= 0, found -1");
  io = {};
  io.kind = influence::Inverse::Exact, io.exact_limit = 5, io.damping = 0.1;
  CHECK(run(io).find("expected at most 5 parameters, found " + std::to_string(f.P)) !=
        std::string::npos);
  io = {};
  io.kind = influence::Inverse::Lissa, io.damping = 0.1;
  CHECK(run(io).find("lissa needs a scale") != std::string::npos);
  io = {};
  io.kind = influence::Inverse::Cg, io.damping = 0.1, io.tolerance = 1e-14, io.max_iterations = 1;
  CHECK(run(io).find("cg did not reach") != std::string::npos);
  CHECK(error_of([] { influence::parse_inverse("arnoldi"); }) ==
        "influence: expected an inverse among exact, cg, lissa, found 'arnoldi'");
}
