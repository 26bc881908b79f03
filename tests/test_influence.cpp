// Influence scores (influence/) against their dense float64 definition on a tiny model,
//   s[q, n] = ∇m(z'_q)ᵀ M ∇ℓ(z_n),
// with M = (H + λI)⁻¹ for H the mean-loss GGN (exact: the dense Jacobian sandwich) or Hessian
// (central differences) by the exact, CG and LiSSA inverses, Arnoldi's top eigenpairs, the
// structured operators' inverses, the identity (Grad-Dot, Grad-Cos) and TracIn over saved
// checkpoints; self-influence; scores that do not depend on the gradient batch; the margin as
// the queries' scalar; per-layer parts; bad settings.
#include <doctest/doctest.h>

#include <cmath>

#include "curv/curvature/data.hpp"
#include "curv/curvature/factory.hpp"
#include "curv/data/batch_source.hpp"
#include "curv/influence/arnoldi.hpp"
#include "curv/influence/scores.hpp"
#include "curv/influence/tracin.hpp"
#include "curv/linalg/dense.hpp"
#include "curv/loss/loss.hpp"
#include "curv/nn/checkpoint.hpp"
#include "curv/nn/objective.hpp"
#include "support/dense_curvature.hpp"
#include "support/errors.hpp"
#include "support/memory_split.hpp"

using namespace curv;
using namespace curv::testing;

namespace {

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

// The scores with M = (H + λI)⁻¹ by io.kind.
Matrix inverse_scores(const Model<double>& model, LinearOperator& H, const MemorySplit& train,
                      const std::vector<index_t>& train_list, const MemorySplit& query,
                      const std::vector<index_t>& queries, const influence::InverseOptions& io,
                      const influence::ScoreOptions& so = {},
                      influence::InverseReport* report = nullptr) {
  influence::InverseMetric metric(H, io);
  Matrix s = influence::scores(model, metric, train, train_list, query, queries, so);
  if (report) *report = metric.report();
  return s;
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
    const Matrix s =
        inverse_scores(*f.model, *ggn, f.train, range(f.N), f.query, range(f.Q), io, {}, &report);
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
    const Matrix s = inverse_scores(*f.model, *hessian, f.train, range(f.N), f.query, range(f.Q),
                                    io, influence::ScoreOptions{});
    // The reference's differences (h = 1e-4) are accurate to about 1e-8.
    CHECK(max_diff(s, ref) <= 1e-6 * max_abs(ref));
  }
  // Undamped, this Hessian is indefinite: the exact inverse says so, naming the damping.
  influence::InverseOptions io;
  io.kind = influence::Inverse::Exact;
  REQUIRE(values.front() < 0);
  CHECK(error_of([&] {
          inverse_scores(*f.model, *hessian, f.train, range(f.N), f.query, range(f.Q), io,
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
      inverse_scores(*f.model, *ggn, f.train, range(f.N), f.query, range(f.Q), io, so);
  so.batch = 4;
  const Matrix four =
      inverse_scores(*f.model, *ggn, f.train, range(f.N), f.query, range(f.Q), io, so);
  CHECK(max_diff(one, four) <= 1e-13 * max_abs(one));
  // Training examples {7, 2} and queries {2, 0}: the matching entries of the full matrix.
  const Matrix some = inverse_scores(*f.model, *ggn, f.train, {7, 2}, f.query, {2, 0}, io, so);
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
  const Matrix s = inverse_scores(*f.model, *ggn, f.train, range(f.N), f.query, range(f.Q), io, so);
  CHECK(max_diff(s, ref) <= 1e-10 * max_abs(ref));
}

TEST_CASE("bad settings are one-line errors naming what was expected") {
  Fixture f;
  auto ggn = f.op("ggn");
  auto run = [&](influence::InverseOptions io) {
    return error_of([&] {
      inverse_scores(*f.model, *ggn, f.train, range(f.N), f.query, range(f.Q), io,
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

namespace {

// s[q, n] = aᵀ_q M b_n for a dense M (P, P): rows of A (Q, P) against rows of B (N, P).
Matrix dense_scores(const Matrix& A, index_t Q, const Matrix& M, const Matrix& B, index_t N,
                    index_t P) {
  Matrix s(std::size_t(Q * N), 0);
  for (index_t q = 0; q < Q; ++q)
    for (index_t n = 0; n < N; ++n)
      for (index_t i = 0; i < P; ++i)
        for (index_t j = 0; j < P; ++j)
          s[std::size_t(q * N + n)] +=
              A[std::size_t(q * P + i)] * M[std::size_t(i * P + j)] * B[std::size_t(n * P + j)];
  return s;
}

// The dense (M + λI)⁻¹.
Matrix dense_inverse(const Matrix& M, index_t P, double damping) {
  Matrix inv(std::size_t(P * P));
  for (index_t j = 0; j < P; ++j) {
    std::vector<double> e(std::size_t(P), 0.0);
    e[std::size_t(j)] = 1;
    const auto x = linalg::solve_spd(M, P, e, damping);
    for (index_t i = 0; i < P; ++i) inv[std::size_t(i * P + j)] = x[std::size_t(i)];
  }
  return inv;
}

Matrix identity(index_t P) {
  Matrix I(std::size_t(P * P), 0);
  for (index_t i = 0; i < P; ++i) I[std::size_t(i * P + i)] = 1;
  return I;
}

// Entry n of the diagonal of the (N, N) dense self-scores.
Matrix diagonal_of(const Matrix& S, index_t N) {
  Matrix d(static_cast<std::size_t>(N));
  for (index_t n = 0; n < N; ++n) d[std::size_t(n)] = S[std::size_t(n * N + n)];
  return d;
}

}  // namespace

TEST_CASE("arnoldi with p = n = P equals the exact inverse; fewer pairs are its projection") {
  Fixture f;
  const double lambda = 0.1;
  const Matrix G = sandwich(f.d, f.d.Hout);
  const Matrix ref =
      dense_scores(f.dq.grads, f.Q, dense_inverse(G, f.P, lambda), f.d.grads, f.N, f.P);
  auto ggn = f.op("ggn");
  influence::ArnoldiOptions a;
  a.iterations = a.rank = f.P;
  influence::ArnoldiReport report;
  auto full = influence::arnoldi_metric(*ggn, a, lambda, &report);
  CHECK(report.products <= f.P);
  const Matrix s = influence::scores(*f.model, *full, f.train, range(f.N), f.query, range(f.Q), {});
  CHECK(max_diff(s, ref) <= 1e-8 * max_abs(ref));
  // p = 3: M = Σᵢ uᵢuᵢᵀ/(θᵢ + λ) over the three largest eigenpairs of the dense GGN.
  const auto e = linalg::eigh(G, f.P);  // ascending
  Matrix M(std::size_t(f.P * f.P), 0);
  for (index_t i = f.P - 3; i < f.P; ++i)
    for (index_t r = 0; r < f.P; ++r)
      for (index_t c = 0; c < f.P; ++c)
        M[std::size_t(r * f.P + c)] += e.vectors[std::size_t(i)][std::size_t(r)] *
                                       e.vectors[std::size_t(i)][std::size_t(c)] /
                                       (e.values[std::size_t(i)] + lambda);
  a.rank = 3;
  auto top3 = influence::arnoldi_metric(*ggn, a, lambda);
  const Matrix ref3 = dense_scores(f.dq.grads, f.Q, M, f.d.grads, f.N, f.P);
  const Matrix s3 =
      influence::scores(*f.model, *top3, f.train, range(f.N), f.query, range(f.Q), {});
  CHECK(max_diff(s3, ref3) <= 1e-8 * max_abs(ref3));
  // Self-influence is the diagonal of the training-against-training scores.
  const Matrix self = influence::self_scores(*f.model, *top3, f.train, range(f.N), {});
  const Matrix train_ref = dense_scores(f.d.grads, f.N, M, f.d.grads, f.N, f.P);
  CHECK(max_diff(self, diagonal_of(train_ref, f.N)) <= 1e-8 * max_abs(train_ref));
  // p > n, and an eigenvalue θ with θ + λ <= 0, are refused.
  a.rank = 5, a.iterations = 4;
  CHECK(error_of([&] { influence::arnoldi_metric(*ggn, a, lambda); }) ==
        "influence: arnoldi keeps p of its n Ritz pairs: expected p <= n = 4, found p = 5");
  CHECK(error_of([&] {
          influence::EigenMetric({2.0, -0.5}, Matrix(std::size_t(2 * f.P), 0.0), f.P, 0.1);
        }).find("eigenvalue 1 is -0.5") != std::string::npos);
}

TEST_CASE("self-influence equals the diagonal of the dense training scores, at any batch") {
  Fixture f;
  const double lambda = 0.05;
  const Matrix G = sandwich(f.d, f.d.Hout);
  const Matrix ref = diagonal_of(
      dense_scores(f.d.grads, f.N, dense_inverse(G, f.P, lambda), f.d.grads, f.N, f.P), f.N);
  auto ggn = f.op("ggn");
  for (auto kind : {influence::Inverse::Exact, influence::Inverse::Cg}) {
    CAPTURE(influence::inverse_name(kind));
    influence::InverseOptions io;
    io.kind = kind, io.damping = lambda, io.tolerance = 1e-12;
    influence::InverseMetric metric(*ggn, io);
    for (index_t batch : {1, 4}) {
      influence::ScoreOptions so;
      so.batch = batch;
      const Matrix s = influence::self_scores(*f.model, metric, f.train, range(f.N), so);
      CHECK(max_diff(s, ref) <= 1e-8 * max_abs(ref));
    }
  }
  influence::IdentityMetric id(f.P);
  influence::ScoreOptions cos;
  cos.cosine = true;
  CHECK(error_of([&] {
          influence::self_scores(*f.model, id, f.train, range(f.N), cos);
        }).find("under the cosine") != std::string::npos);
}

TEST_CASE("kfac, ekfac and diagonal scores use the operator's own (M + λI)⁻¹") {
  Fixture f;
  const double lambda = 0.2;
  for (const char* name : {"kfac", "ekfac", "diag"}) {
    CAPTURE(name);
    auto op = f.op(name);
    // The reference inverts the operator's dense matrix, so this checks the scoring, not the
    // approximation (the operators are checked against their definitions in their own tests).
    const Matrix M = materialize(*op);
    const Matrix ref =
        dense_scores(f.dq.grads, f.Q, dense_inverse(M, f.P, lambda), f.d.grads, f.N, f.P);
    influence::OperatorInverseMetric metric(*op, lambda);
    const Matrix s =
        influence::scores(*f.model, metric, f.train, range(f.N), f.query, range(f.Q), {});
    CHECK(max_diff(s, ref) <= 1e-10 * max_abs(ref));
  }
  auto ggn = f.op("ggn");
  CHECK(error_of([&] {
          influence::OperatorInverseMetric(*ggn, 0.1);
        }).find("expected an operator with a structured inverse") != std::string::npos);
}

TEST_CASE("grad-dot and grad-cos are the dense dot products and cosines of the gradients") {
  Fixture f;
  influence::IdentityMetric id(f.P);
  const Matrix dot = dense_scores(f.dq.grads, f.Q, identity(f.P), f.d.grads, f.N, f.P);
  const Matrix s = influence::scores(*f.model, id, f.train, range(f.N), f.query, range(f.Q), {});
  CHECK(max_diff(s, dot) <= 1e-12 * max_abs(dot));
  influence::ScoreOptions so;
  so.cosine = true;
  const Matrix c = influence::scores(*f.model, id, f.train, range(f.N), f.query, range(f.Q), so);
  const Matrix qq =
      diagonal_of(dense_scores(f.dq.grads, f.Q, identity(f.P), f.dq.grads, f.Q, f.P), f.Q);
  const Matrix tt =
      diagonal_of(dense_scores(f.d.grads, f.N, identity(f.P), f.d.grads, f.N, f.P), f.N);
  for (index_t q = 0; q < f.Q; ++q)
    for (index_t n = 0; n < f.N; ++n) {
      const double want =
          dot[std::size_t(q * f.N + n)] / std::sqrt(qq[std::size_t(q)] * tt[std::size_t(n)]);
      CHECK(std::abs(c[std::size_t(q * f.N + n)] - want) <= 1e-12);
    }
}

TEST_CASE("tracin: one checkpoint is lr·Grad-Dot, two are the rate-weighted sum") {
  Fixture f;
  TempDir dir;
  const std::string first = dir.file("a.safetensors"), second = dir.file("b.safetensors");
  save_checkpoint(*f.model, first);
  influence::IdentityMetric id(f.P);
  const Matrix dot1 = influence::scores(*f.model, id, f.train, range(f.N), f.query, range(f.Q), {});
  const Matrix self1 = influence::self_scores(*f.model, id, f.train, range(f.N), {});
  // A second checkpoint: every parameter moved.
  ParamStore<double>& params = f.model->params();
  const std::vector<double> own(params.data(), params.data() + params.size());
  for (index_t i = 0; i < params.size(); ++i) params.data()[i] += 0.05 * std::sin(double(i));
  save_checkpoint(*f.model, second);
  const Matrix dot2 = influence::scores(*f.model, id, f.train, range(f.N), f.query, range(f.Q), {});
  std::copy(own.begin(), own.end(), params.data());

  const Matrix one = influence::tracin_scores(*f.model, {{first, 3, 0.3}}, f.train, range(f.N),
                                              f.query, range(f.Q), {});
  Matrix want = dot1;
  for (double& v : want) v *= 0.3;
  CHECK(max_diff(one, want) <= 1e-14 * max_abs(want));
  const Matrix self =
      influence::tracin_self_scores(*f.model, {{first, 3, 0.3}}, f.train, range(f.N), {});
  for (index_t n = 0; n < f.N; ++n)
    CHECK(std::abs(self[std::size_t(n)] - 0.3 * self1[std::size_t(n)]) <= 1e-14 * max_abs(self1));
  const Matrix two = influence::tracin_scores(*f.model, {{first, 3, 0.3}, {second, 6, 0.1}},
                                              f.train, range(f.N), f.query, range(f.Q), {});
  for (std::size_t i = 0; i < want.size(); ++i) want[i] = 0.3 * dot1[i] + 0.1 * dot2[i];
  CHECK(max_diff(two, want) <= 1e-14 * max_abs(want));
  // The model keeps its own parameters.
  for (index_t i = 0; i < params.size(); ++i) CHECK(params.data()[i] == own[std::size_t(i)]);
  CHECK(error_of([&] {
          influence::tracin_scores(*f.model, {}, f.train, range(f.N), f.query, range(f.Q), {});
        }) == "influence: tracin needs at least one checkpoint, found none");
}

TEST_CASE("per-layer scores: each layer's coordinates' part, summing to the total") {
  Fixture f;
  const auto& info = f.model->params().info();
  const std::vector<std::string> names = layer_names(info);
  REQUIRE(names.size() == 3);
  // Grad-Dot: layer l's part is the dot product of the two gradients' slices over its ranges.
  influence::IdentityMetric id(f.P);
  influence::LayerScores layers;
  const Matrix s =
      influence::scores(*f.model, id, f.train, range(f.N), f.query, range(f.Q), {}, &layers);
  CHECK(layers.names == names);
  REQUIRE(layers.values.size() == names.size() * std::size_t(f.Q * f.N));
  for (std::size_t l = 0; l < names.size(); ++l) {
    const auto ranges = ParamSubset::parse(names[l], info).ranges();
    for (index_t q = 0; q < f.Q; ++q)
      for (index_t n = 0; n < f.N; ++n) {
        double dot = 0;
        for (const ParamRange& r : ranges)
          for (index_t p = r.offset; p < r.offset + r.size; ++p)
            dot += f.dq.grads[std::size_t(q * f.P + p)] * f.d.grads[std::size_t(n * f.P + p)];
        CHECK(std::abs(layers.values[(l * f.Q + q) * f.N + n] - dot) <= 1e-12 * max_abs(s));
      }
  }
  // The exact inverse (not block-diagonal): the parts still sum to the total.
  auto ggn = f.op("ggn");
  influence::InverseOptions io;
  io.kind = influence::Inverse::Exact, io.damping = 0.1;
  influence::InverseMetric metric(*ggn, io);
  const Matrix t =
      influence::scores(*f.model, metric, f.train, range(f.N), f.query, range(f.Q), {}, &layers);
  for (std::size_t i = 0; i < t.size(); ++i) {
    double sum = 0;
    for (std::size_t l = 0; l < names.size(); ++l) sum += layers.values[l * t.size() + i];
    CHECK(std::abs(sum - t[i]) <= 1e-12 * max_abs(t));
  }
}

TEST_CASE("low-rank query gradients: each weight block its best rank-r part, biases exact") {
  Fixture f;
  const double lambda = 0.1;
  const Matrix G = sandwich(f.d, f.d.Hout);
  // X (Q, P): the mapped query gradients (G + λI)⁻¹∇ℓ(z'), whose weight blocks have full rank.
  const Matrix inv = dense_inverse(G, f.P, lambda);
  Matrix X(std::size_t(f.Q * f.P), 0.0);
  for (index_t q = 0; q < f.Q; ++q)
    for (index_t i = 0; i < f.P; ++i)
      for (index_t j = 0; j < f.P; ++j)
        X[std::size_t(q * f.P + i)] +=
            inv[std::size_t(i * f.P + j)] * f.dq.grads[std::size_t(q * f.P + j)];
  Matrix Xr = X;
  const auto& info = f.model->params().info();
  const double err = influence::truncate_query_rank(Xr.data(), f.Q, info, 1);
  // The reference: σ₁u₁v₁ᵀ from the top eigenpair of AᵀA (eigh, not an SVD routine).
  double worst_err = 0;
  index_t truncated = 0;
  for (const ParamInfo& p : info)
    for (index_t q = 0; q < f.Q; ++q) {
      const double* a = X.data() + q * f.P + p.offset;
      const double* b = Xr.data() + q * f.P + p.offset;
      const index_t m = p.shape.rows(), n = p.shape.numel() / m;
      if (p.shape.rank() < 2 || std::min(m, n) <= 1) {
        for (index_t i = 0; i < m * n; ++i) CHECK(b[i] == a[i]);
        continue;
      }
      ++truncated;
      Matrix ata(std::size_t(n * n), 0.0);
      double frob = 0;
      for (index_t i = 0; i < m; ++i)
        for (index_t j = 0; j < n; ++j) {
          frob += a[i * n + j] * a[i * n + j];
          for (index_t k = 0; k < n; ++k)
            ata[std::size_t(j * n + k)] += a[i * n + j] * a[i * n + k];
        }
      const auto e = linalg::eigh(ata, n);
      const double sigma2 = e.values.back();
      const std::vector<double>& top = e.vectors.back();
      double scale = 0, diff = 0;
      for (index_t i = 0; i < m; ++i) {
        double av = 0;  // (A v)ᵢ = σ uᵢ
        for (index_t k = 0; k < n; ++k) av += a[i * n + k] * top[std::size_t(k)];
        for (index_t j = 0; j < n; ++j) {
          const double want = av * top[std::size_t(j)];
          diff = std::max(diff, std::abs(b[i * n + j] - want));
          scale = std::max(scale, std::abs(a[i * n + j]));
        }
      }
      CHECK(diff <= 1e-10 * scale);
      worst_err = std::max(worst_err, std::sqrt(1 - sigma2 / frob));
    }
  CHECK(truncated > 0);
  CHECK(err == doctest::Approx(worst_err).epsilon(1e-8));

  // The scores are the truncated rows against the training gradients; a rank at least every
  // block's changes nothing.
  auto ggn = f.op("ggn");
  influence::InverseOptions io;
  io.kind = influence::Inverse::Exact, io.damping = lambda;
  influence::ScoreOptions so;
  so.query_rank = 1;
  const Matrix s = inverse_scores(*f.model, *ggn, f.train, range(f.N), f.query, range(f.Q), io, so);
  const Matrix want = dense_scores(Xr, f.Q, identity(f.P), f.d.grads, f.N, f.P);
  CHECK(max_diff(s, want) <= 1e-10 * max_abs(want));
  so.query_rank = 6;
  const Matrix full = inverse_scores(*f.model, *ggn, f.train, range(f.N), f.query, range(f.Q), io);
  const Matrix same =
      inverse_scores(*f.model, *ggn, f.train, range(f.N), f.query, range(f.Q), io, so);
  CHECK(max_diff(same, full) == 0);
  CHECK(error_of([&] { influence::truncate_query_rank(Xr.data(), f.Q, info, 0); }) ==
        "influence: expected a query rank >= 1, found 0");
}
