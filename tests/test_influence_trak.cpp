// TRAK (influence/trak.hpp) against its dense float64 definition on a tiny classifier:
//   s[q, n] = ∇m(z'_q)ᵀ R ((1/N) RᵀFR + λI)⁻¹ Rᵀ ∇ℓ(zₙ),   F = Σₙ ∇fₙ∇fₙᵀ,
// with R the projection's own rows, the margins' gradients from the dense output Jacobian and
// the loss gradients from per-example backward passes; the ensemble's averages; self-influence;
// one result whether the projected rows are kept or swept again; bad settings.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "curv/data/batch_source.hpp"
#include "curv/influence/trak.hpp"
#include "curv/linalg/dense.hpp"
#include "curv/linalg/projection.hpp"
#include "curv/loss/loss.hpp"
#include "curv/nn/objective.hpp"
#include "support/dense_curvature.hpp"
#include "support/errors.hpp"
#include "support/memory_split.hpp"

using namespace curv;
using namespace curv::testing;

namespace {

// The dense pieces of one model on one split: loss gradients ∇ℓₙ (N, P), margin gradients
// ∇fₙ = J_y − Σ_{c≠y} softmax_{c≠y}(z)_c J_c (N, P), and 1 − pₙ.
struct Pieces {
  Matrix loss, margin, miss;
};

Pieces pieces_of(Model<double>& model, const Batch<double>& all) {
  const Dense d = dense_of(model, all, false);
  auto loss = make_loss<double>(model.loss());
  Objective<double> obj(model, *loss);
  obj.record(all.x.view());
  const double* z = obj.output().data;
  const index_t N = d.N, C = d.C, P = d.P;
  Pieces out{d.grads, Matrix(std::size_t(N * P), 0.0), Matrix(std::size_t(N))};
  for (index_t n = 0; n < N; ++n) {
    const index_t y = index_t(all.labels[std::size_t(n)]);
    double others = 0, all_sum = 0;
    for (index_t c = 0; c < C; ++c) {
      all_sum += std::exp(z[n * C + c]);
      if (c != y) others += std::exp(z[n * C + c]);
    }
    out.miss[std::size_t(n)] = others / all_sum;
    for (index_t c = 0; c < C; ++c) {
      const double w = c == y ? 1.0 : -std::exp(z[n * C + c]) / others;
      for (index_t p = 0; p < P; ++p)
        out.margin[std::size_t(n * P + p)] += w * d.J[std::size_t((n * C + c) * P + p)];
    }
  }
  return out;
}

// K[q, n] = ψ'_qᵀ ((1/N) ΦᵀΦ + λI)⁻¹ Rᵀrₙ with ψ' = Rᵀ·query rows, Φ's rows Rᵀ∇fₙ and r the
// `right` rows: R (P, k) from the projection's own rows. With r = ∇f, TRAK's s = −K·(1 − pₙ).
Matrix kernel(const Matrix& query_rows, index_t Q, const Matrix& margin, const Matrix& right,
              index_t N, index_t P, const influence::TrakOptions& o) {
  const index_t k = o.dimension;
  RandomProjection<double> proj(o.projection, P, k, o.seed);
  Matrix R(std::size_t(P * k));
  for (index_t i = 0; i < P; ++i) {
    const auto row = proj.row(i);
    std::copy(row.begin(), row.end(), R.begin() + i * k);
  }
  auto project = [&](const Matrix& rows, index_t n) {
    Matrix out(std::size_t(n * k), 0.0);
    for (index_t a = 0; a < n; ++a)
      for (index_t p = 0; p < P; ++p)
        for (index_t j = 0; j < k; ++j)
          out[std::size_t(a * k + j)] += rows[std::size_t(a * P + p)] * R[std::size_t(p * k + j)];
    return out;
  };
  const Matrix phi = project(margin, N), psi = project(query_rows, Q), rhs = project(right, N);
  Matrix A(std::size_t(k * k), 0.0);
  for (index_t n = 0; n < N; ++n)
    for (index_t i = 0; i < k; ++i)
      for (index_t j = 0; j < k; ++j)
        A[std::size_t(i * k + j)] +=
            phi[std::size_t(n * k + i)] * phi[std::size_t(n * k + j)] / double(N);
  Matrix K(std::size_t(Q * N));
  for (index_t q = 0; q < Q; ++q) {
    const Matrix b(psi.begin() + q * k, psi.begin() + (q + 1) * k);
    const Matrix x = linalg::solve_spd(A, k, b, o.damping);
    for (index_t n = 0; n < N; ++n) {
      double dot = 0;
      for (index_t j = 0; j < k; ++j) dot += x[std::size_t(j)] * rhs[std::size_t(n * k + j)];
      K[std::size_t(q * N + n)] = dot;
    }
  }
  return K;
}

// s[q, n] = −K[q, n]·w[n].
Matrix weighted(const Matrix& K, const Matrix& w) {
  Matrix s(K.size());
  for (std::size_t i = 0; i < K.size(); ++i) s[i] = -K[i] * w[i % w.size()];
  return s;
}

struct Fixture {
  std::unique_ptr<Model<double>> model = tiny("mlp");
  static constexpr index_t N = 40, Q = 3;
  index_t P = model->params().size();
  MemorySplit train{concatenate(random_batches(*model, {N}, 11))};
  MemorySplit query{concatenate(random_batches(*model, {Q}, 12))};
  Batch<double> train_batch = std::move(collect_batches<double>(train, range(N), N)[0]);
  Batch<double> query_batch = std::move(collect_batches<double>(query, range(Q), Q)[0]);
  std::vector<const Model<double>*> one() const { return {model.get()}; }
};

}  // namespace

TEST_CASE("trak equals ∇m(z')ᵀ R ((1/N) RᵀFR + λI)⁻¹ Rᵀ ∇ℓ(z) with the projection's own R") {
  Fixture f;
  const Pieces t = pieces_of(*f.model, f.train_batch), q = pieces_of(*f.model, f.query_batch);
  for (auto kind : {ProjectionKind::Rademacher, ProjectionKind::Gaussian}) {
    for (const char* measurement : {"loss", "margin"}) {
      CAPTURE(projection_name(kind));
      CAPTURE(measurement);
      influence::TrakOptions o;
      o.dimension = 20, o.projection = kind, o.seed = 5, o.damping = 0.05, o.batch = 7;
      o.query = Measurement::parse(measurement);
      const Matrix& rows = std::string(measurement) == "loss" ? q.loss : q.margin;
      const Matrix want = weighted(kernel(rows, f.Q, t.margin, t.margin, f.N, f.P, o), t.miss);
      REQUIRE(max_abs(want) > 0);
      influence::TrakReport r;
      const Matrix s =
          influence::trak_scores(f.one(), f.train, range(f.N), f.query, range(f.Q), o, &r);
      CHECK(max_diff(s, want) <= 1e-10 * max_abs(want));
      CHECK(r.training_sweeps == 1);  // 40 rows of 20 are kept
    }
  }
}

TEST_CASE("trak with the loss on the training side: (1 − pₙ)∇fₙ is −∇ℓₙ, so s = ψ'ᵀA⁻¹Rᵀ∇ℓₙ") {
  // The definition through the loss gradients themselves: the Q weight is what makes them.
  Fixture f;
  const Pieces t = pieces_of(*f.model, f.train_batch), q = pieces_of(*f.model, f.query_batch);
  for (index_t n = 0; n < f.N; ++n)
    for (index_t p = 0; p < f.P; ++p)
      CHECK(std::abs(t.loss[std::size_t(n * f.P + p)] +
                     t.miss[std::size_t(n)] * t.margin[std::size_t(n * f.P + p)]) <= 1e-12);
  influence::TrakOptions o;
  o.dimension = 30, o.seed = 2, o.damping = 0.01;
  const Matrix want = kernel(q.loss, f.Q, t.margin, t.loss, f.N, f.P, o);
  const Matrix s = influence::trak_scores(f.one(), f.train, range(f.N), f.query, range(f.Q), o);
  CHECK(max_diff(s, want) <= 1e-10 * max_abs(want));
}

TEST_CASE("a trak ensemble averages the kernels and the weights 1 − p apart") {
  Fixture f;
  auto second = tiny("mlp");
  ParamStore<double>& params = second->params();
  for (index_t i = 0; i < params.size(); ++i) params.data()[i] += 0.3 * std::sin(double(3 * i));
  influence::TrakOptions o;
  o.dimension = 16, o.seed = 9, o.damping = 0.02;
  const Pieces t1 = pieces_of(*f.model, f.train_batch), q1 = pieces_of(*f.model, f.query_batch);
  const Pieces t2 = pieces_of(*second, f.train_batch), q2 = pieces_of(*second, f.query_batch);
  const Matrix K1 = kernel(q1.loss, f.Q, t1.margin, t1.margin, f.N, f.P, o);
  const Matrix K2 = kernel(q2.loss, f.Q, t2.margin, t2.margin, f.N, f.P, o);
  Matrix K(K1.size()), w(t1.miss.size());
  for (std::size_t i = 0; i < K.size(); ++i) K[i] = 0.5 * (K1[i] + K2[i]);
  for (std::size_t n = 0; n < w.size(); ++n) w[n] = 0.5 * (t1.miss[n] + t2.miss[n]);
  const Matrix want = weighted(K, w);
  const Matrix s = influence::trak_scores<double>({f.model.get(), second.get()}, f.train,
                                                  range(f.N), f.query, range(f.Q), o);
  CHECK(max_diff(s, want) <= 1e-10 * max_abs(want));
  // Not the average of the two models' own scores: TRAK weights after averaging.
  Matrix mean_of_scores(K.size());
  const Matrix s1 = weighted(K1, t1.miss), s2 = weighted(K2, t2.miss);
  for (std::size_t i = 0; i < K.size(); ++i) mean_of_scores[i] = 0.5 * (s1[i] + s2[i]);
  CHECK(max_diff(s, mean_of_scores) > 1e-6 * max_abs(want));
}

TEST_CASE("trak self-influence is the diagonal of the training scores, kept or swept again") {
  Fixture f;
  influence::TrakOptions o;
  o.dimension = 12, o.seed = 4, o.damping = 0.1, o.batch = 6;
  const Matrix full = influence::trak_scores(f.one(), f.train, range(f.N), f.train, range(f.N), o);
  influence::TrakReport kept, swept;
  const Matrix self = influence::trak_self_scores(f.one(), f.train, range(f.N), o, &kept);
  o.keep_bytes = 0, o.batch = 5;
  const Matrix again = influence::trak_self_scores(f.one(), f.train, range(f.N), o, &swept);
  CHECK(kept.training_sweeps == 1);
  CHECK(swept.training_sweeps == 2);
  for (index_t n = 0; n < f.N; ++n) {
    CHECK(self[std::size_t(n)] > 0);
    CHECK(std::abs(self[std::size_t(n)] - full[std::size_t(n * f.N + n)]) <= 1e-12 * max_abs(self));
    CHECK(std::abs(again[std::size_t(n)] - self[std::size_t(n)]) <= 1e-12 * max_abs(self));
  }
  // A is built from the listed training examples, so a reordered list permutes the columns;
  // queries {7, 2} are the matching rows.
  std::vector<index_t> reversed = range(f.N);
  std::reverse(reversed.begin(), reversed.end());
  const Matrix some = influence::trak_scores(f.one(), f.train, reversed, f.train, {7, 2}, o);
  for (index_t n = 0; n < f.N; ++n) {
    CHECK(std::abs(some[std::size_t(f.N - 1 - n)] - full[std::size_t(7 * f.N + n)]) <=
          1e-12 * max_abs(full));
    CHECK(std::abs(some[std::size_t(2 * f.N - 1 - n)] - full[std::size_t(2 * f.N + n)]) <=
          1e-12 * max_abs(full));
  }
}

TEST_CASE("trak's bad settings are one-line errors naming what was expected") {
  Fixture f;
  influence::TrakOptions o;
  o.dimension = 8;
  CHECK(error_of([&] {
          influence::trak_scores<double>({}, f.train, range(f.N), f.query, range(f.Q), o);
        }) == "trak: expected at least one model, found none");
  o.damping = -1;
  CHECK(error_of([&] {
          influence::trak_scores(f.one(), f.train, range(f.N), f.query, range(f.Q), o);
        }) == "trak: expected a damping λ >= 0, found -1");
  o.damping = 0;
  // k = 60 > N = 40 with λ = 0: ΦᵀΦ is singular.
  o.dimension = 60;
  CHECK(error_of([&] {
          influence::trak_scores(f.one(), f.train, range(f.N), f.query, range(f.Q), o);
        }).find("raise --damping (k > N leaves it singular)") != std::string::npos);
  o.dimension = 8, o.query = Measurement::parse("margin");
  CHECK(error_of([&] { influence::trak_self_scores(f.one(), f.train, range(f.N), o); }) ==
        "trak: self-influence scores the training loss on both sides: expected the loss, found "
        "margin");
  // No single class label: a split that hides its labels.
  MemorySplit unlabelled(concatenate(random_batches(*f.model, {f.N}, 11)), false);
  o.query = Measurement::parse("loss");
  CHECK(error_of([&] {
          influence::trak_scores(f.one(), unlabelled, range(f.N), f.query, range(f.Q), o);
        }) ==
        "measurement 'margin': expected examples with labels, found memory/train without "
        "them (logit:C, predicted and jacobian need none)");
}
