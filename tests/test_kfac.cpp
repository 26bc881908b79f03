// K-FAC and EK-FAC operators (curvature/kfac.hpp) on tiny float64 models: the identities that
// make K-FAC exact, KFC (conv2d) and "expand" (tokens) factors against brute-force computations
// of their own definitions, the structured inverse/diagonal/trace/log-determinant against the
// same matrix materialized, and EK-FAC's scaling as the true block's diagonal in its basis.
#include <doctest/doctest.h>

#include <string>

#include "curv/check/check.hpp"
#include "curv/curvature/kfac.hpp"
#include "curv/linalg/dense.hpp"
#include "support/dense_curvature.hpp"

using namespace curv;
using namespace curv::testing;
using curv::check::relative_error;

namespace {

// Index of Ŵ's entry (o, i) in the full flat vector (i = in is the bias).
index_t flat_index(const KfacLayer& L, index_t o, index_t i) {
  return i < L.in ? L.weight_offset + o * L.in + i : L.bias_offset + o;
}

// The block-diagonal matrix ⊕ (F_A ⊗ F_G) for per-block factor pairs, in flat-vector order.
template <class Factors>
Matrix kron_dense(KfacOperator& op, index_t P, Factors factors) {
  Matrix M(std::size_t(P * P), 0.0);
  for (auto& b : op.blocks()) {
    const KfacLayer& L = b.layer();
    const auto [A, G] = factors(b);
    const index_t din = L.din();
    for (index_t o = 0; o < L.out; ++o)
      for (index_t i = 0; i < din; ++i)
        for (index_t p = 0; p < L.out; ++p)
          for (index_t q = 0; q < din; ++q)
            M[flat_index(L, o, i) * P + flat_index(L, p, q)] = G[o * L.out + p] * A[q * din + i];
  }
  return M;
}

KfacOptions with(FactorKind k, index_t samples = 1) {
  KfacOptions o;
  o.factors = k, o.samples = samples;
  return o;
}

}  // namespace

TEST_CASE("with one example K-FAC is exactly each linear layer's GGN, EF and MC-Fisher block") {
  auto model = tiny("mlp");
  auto parts = random_batches(*model, {1}, 4);
  const Dense d = dense_of(*model, concatenate(parts), false);
  CurvatureData<double> data(*model, std::move(parts));
  const auto all = ParamSubset::all(model->params().info());
  CHECK(relative_error(materialize(*make_kfac(data, all, with(FactorKind::GGN))),
                       layer_blocks_of(sandwich(d, d.Hout), *model)) <= 1e-12);
  CHECK(relative_error(materialize(*make_kfac(data, all, with(FactorKind::EF))),
                       layer_blocks_of(empirical_fisher(d), *model)) <= 1e-12);
  CHECK(relative_error(materialize(*make_kfac(data, all, with(FactorKind::MC, 3))),
                       layer_blocks_of(sampled_fisher(d, data, 3), *model)) <= 1e-12);
}

TEST_CASE("for a deep linear network with MSE, K-FAC is the GGN's layer blocks at any batch size") {
  auto model = tiny("linear-mse");
  auto parts = random_batches(*model, {3, 4}, 5);
  const Dense d = dense_of(*model, concatenate(parts), false);
  CurvatureData<double> data(*model, std::move(parts));
  const Matrix G = layer_blocks_of(sandwich(d, d.Hout), *model);
  CHECK(relative_error(materialize(*make_kfac(data, ParamSubset::all(model->params().info()),
                                              with(FactorKind::GGN))),
                       G) <= 1e-12);
  // The identity needs linearity: with tanh and several examples K-FAC is only an approximation.
  auto nonlinear = tiny("mlp");
  auto more = random_batches(*nonlinear, {5}, 5);
  const Dense dn = dense_of(*nonlinear, concatenate(more), false);
  CurvatureData<double> data_n(*nonlinear, std::move(more));
  CHECK(relative_error(materialize(*make_kfac(data_n, ParamSubset::all(nonlinear->params().info()),
                                              with(FactorKind::GGN))),
                       layer_blocks_of(sandwich(dn, dn.Hout), *nonlinear)) > 1e-3);
}

TEST_CASE(
    "K-FAC's inverse, diagonal, trace, log-determinant and eigenpairs are those of its matrix") {
  auto model = tiny("mlp");
  CurvatureData<double> data(*model, random_batches(*model, {5}, 9));
  const index_t P = model->params().size();
  Rng rng(2);
  std::vector<double> v(static_cast<std::size_t>(P)), out(static_cast<std::size_t>(P));
  for (auto& x : v) x = rng.normal();
  const double lambda = 0.03;
  for (const std::string form : {"eigen", "factored", "factored without π"}) {
    CAPTURE(form);
    // Eigen damping: (M + λI)⁻¹ of K-FAC's own M. Factored damping: an operator of its own whose
    // matrix is (A + π√λ I) ⊗ (G + √λ/π I) (π = 1 without π), inverted with no further damping.
    const bool factored = form != "eigen", with_pi = form == "factored";
    auto kfac = make_kfac(data, ParamSubset::all(model->params().info()), with(FactorKind::GGN));
    const Matrix K = materialize(*kfac);
    CHECK(relative_error(K, kron_dense(*kfac, P, [](KroneckerBlock& b) {
                           return std::pair(b.A(), b.G());
                         })) <= 1e-13);
    // The damped matrix each operator inverts exactly.
    Matrix D = K;
    if (!factored) {
      for (index_t i = 0; i < P; ++i) D[i * P + i] += lambda;
    } else {
      D = kron_dense(*kfac, P, [&](KroneckerBlock& b) {
        Matrix A = b.A(), G = b.G();
        const index_t din = b.layer().din(), O = b.layer().out;
        const double pi = with_pi ? b.pi() : 1.0;
        CHECK(std::abs(b.pi() - 1) > 1e-3);  // so that the two factored forms differ
        for (index_t i = 0; i < din; ++i) A[i * din + i] += pi * std::sqrt(lambda);
        for (index_t o = 0; o < O; ++o) G[o * O + o] += std::sqrt(lambda) / pi;
        return std::pair(A, G);
      });
    }
    std::unique_ptr<KfacOperator> op =
        factored ? factored_damping(*kfac, lambda, with_pi) : std::move(kfac);
    const double damping = factored ? 0.0 : lambda;
    const Matrix M = materialize(*op);
    if (factored) CHECK(relative_error(M, D) <= 1e-13);
    op->inverse_mv(v.data(), damping, out.data());
    CHECK(relative_error(out, linalg::solve_spd(D, P, v)) <= 1e-10);
    // The blocks keep the last inverted scaling: another λ must not reuse it, and returning to
    // this λ gives this answer again.
    std::vector<double> other(out.size()), again(out.size());
    op->inverse_mv(v.data(), damping + 10 * lambda, other.data());
    op->inverse_mv(v.data(), damping, again.data());
    CHECK(relative_error(other, out) > 1e-3);
    CHECK(again == out);
    CHECK(op->logdet(damping) ==
          doctest::Approx(linalg::cholesky_logdet(linalg::cholesky(D, P), P)).epsilon(1e-11));
    CHECK(relative_error(op->diagonal(), diag_of(M, P)) <= 1e-14);
    double trace_M = 0;
    for (index_t i = 0; i < P; ++i) trace_M += M[i * P + i];
    CHECK(op->trace() == doctest::Approx(trace_M).epsilon(1e-12));
  }
  auto op = make_kfac(data, ParamSubset::all(model->params().info()), with(FactorKind::EF));
  const Matrix M = materialize(*op);
  const Eigenpairs e = op->eigendecomposition();
  REQUIRE(index_t(e.values.size()) == P);
  const Eigenpairs ref = linalg::eigh(M, P);
  CHECK(relative_error(e.values, ref.values) <= 1e-10);
  std::vector<double> Mv(static_cast<std::size_t>(P));
  for (std::size_t j = 0; j < e.values.size(); j += 7) {
    op->mv(e.vectors[j].data(), Mv.data());
    for (index_t i = 0; i < P; ++i)
      CHECK(Mv[i] ==
            doctest::Approx(e.values[j] * e.vectors[j][i]).scale(ref.values.back()).epsilon(1e-12));
  }
}

TEST_CASE("KFC and expand factors equal brute-force sums over patches and tokens") {
  for (const char* which : {"conv", "sequence"}) {
    CAPTURE(which);
    auto model = tiny(which);
    CurvatureData<double> data(*model, random_batches(*model, {3, 2}, 8));
    for (FactorKind kind : {FactorKind::GGN, FactorKind::EF}) {
      auto op = make_kfac(data, ParamSubset::all(model->params().info()), with(kind));
      KroneckerBlock& first = op->blocks().front();
      const KfacLayer& L = first.layer();
      const index_t din = L.din();
      Matrix A(std::size_t(din * din), 0.0), G(std::size_t(L.out * L.out), 0.0);
      const Value y = which == std::string("conv") ? static_cast<TinyConv&>(*model).first_
                                                   : static_cast<TinySequence&>(*model).first_;
      for (index_t b = 0; b < data.batches(); ++b) {
        const Tensor<double>& x = data.batch(b).x;
        const index_t N = x.shape()[0];
        // Rows of the first layer's input, â = [a; 1]: 3×3 patches of the 5×5 image at each of
        // the 9 output positions, or the 3 tokens of each sequence.
        std::vector<Matrix> rows;
        for (index_t n = 0; n < N; ++n) {
          if (L.kind == "conv2d") {
            for (index_t oy = 0; oy < 3; ++oy)
              for (index_t ox = 0; ox < 3; ++ox) {
                Matrix a;
                for (index_t ky = 0; ky < 3; ++ky)
                  for (index_t kx = 0; kx < 3; ++kx)
                    a.push_back(x[n * 25 + (oy + ky) * 5 + ox + kx]);
                a.push_back(1.0);
                rows.push_back(a);
              }
          } else {
            for (index_t t = 0; t < 3; ++t)
              rows.push_back({x[n * 6 + t * 2], x[n * 6 + t * 2 + 1], 1.0});
          }
        }
        const double w = data.weight(b), R = double(rows.size());
        for (const auto& a : rows)
          for (index_t i = 0; i < din; ++i)
            for (index_t j = 0; j < din; ++j) A[i * din + j] += w * a[i] * a[j] / R;
        // Output adjoints of the first layer for each factor column, read off the tape.
        const Tensor<double>& S = data.output_factor(b, kind);
        const index_t C = S.shape()[1], K = S.shape()[2];
        std::vector<double> u(static_cast<std::size_t>(N * C));
        for (index_t k = 0; k < K; ++k) {
          for (index_t j = 0; j < N * C; ++j) u[j] = S[j * K + k];
          data.objective(b).pullback(u.data(), ParamGrad<double>::none());
          const View<double> gy = data.objective(b).tape().adjoint(y, Bank::Aux);
          const index_t per = L.rows_per_example;
          for (index_t n = 0; n < N; ++n)
            for (index_t r = 0; r < per; ++r) {
              Matrix g(static_cast<std::size_t>(L.out));
              for (index_t o = 0; o < L.out; ++o)  // conv: (N,O,positions); tokens: (N,T,O)
                g[o] = L.kind == "conv2d" ? gy.data[(n * L.out + o) * per + r]
                                          : gy.data[(n * per + r) * L.out + o];
              for (index_t o = 0; o < L.out; ++o)
                for (index_t p = 0; p < L.out; ++p) G[o * L.out + p] += w * g[o] * g[p];
            }
        }
      }
      CHECK(L.rows_per_example == (L.kind == "conv2d" ? 9 : 3));
      CHECK(relative_error(first.A(), A) <= 1e-13);
      CHECK(relative_error(first.G(), G) <= 1e-13);
    }
  }
}

TEST_CASE("EK-FAC's scaling is the diagonal of the true layer block in K-FAC's eigenbasis") {
  for (const char* which : {"mlp", "conv", "sequence"}) {
    CAPTURE(which);
    auto model = tiny(which);
    auto parts = random_batches(*model, {3, 2}, 6);
    const Dense d = dense_of(*model, concatenate(parts), false);
    CurvatureData<double> data(*model, std::move(parts));
    const index_t P = d.P;
    for (FactorKind kind : {FactorKind::GGN, FactorKind::EF}) {
      const Matrix B = layer_blocks_of(
          kind == FactorKind::GGN ? sandwich(d, d.Hout) : empirical_fisher(d), *model);
      auto op = make_ekfac(data, ParamSubset::all(model->params().info()), with(kind));
      const Eigenpairs e = op->eigendecomposition();
      REQUIRE(index_t(e.values.size()) == P);
      double worst = 0, top = e.values.back();
      std::vector<double> Bv(static_cast<std::size_t>(P));
      for (std::size_t j = 0; j < e.values.size(); ++j) {
        const auto& v = e.vectors[j];
        double vBv = 0;
        for (index_t r = 0; r < P; ++r)
          for (index_t c = 0; c < P; ++c) vBv += v[r] * B[r * P + c] * v[c];
        worst = std::max(worst, std::abs(vBv - e.values[j]) / top);
      }
      CHECK(worst <= 1e-12);
      // And the operator is Σ s v vᵀ in that basis: its trace is the block trace.
      double trace_B = 0;
      for (index_t i = 0; i < P; ++i) trace_B += B[i * P + i];
      CHECK(op->trace() == doctest::Approx(trace_B).epsilon(1e-12));
    }
  }
}

TEST_CASE(
    "a re-fitted block's diagonal in any Kronecker basis is its matrix's quadratic form on that "
    "basis") {
  // A 3×4 layer (bias included): random SPD factors for the block and for a second block whose
  // eigenbasis is the one looked from; the first block carries a random positive scaling.
  KfacLayer L;
  L.kind = "linear", L.weight_offset = 0, L.bias_offset = 12, L.out = 3, L.in = 3;
  const index_t din = L.din(), O = L.out;
  Rng rng(5);
  auto spd = [&](index_t n) {
    Matrix B(static_cast<std::size_t>(n * n)), S(B.size(), 0.0);
    for (auto& x : B) x = rng.normal();
    for (index_t i = 0; i < n; ++i)
      for (index_t j = 0; j < n; ++j)
        for (index_t k = 0; k < n; ++k) S[i * n + j] += B[i * n + k] * B[j * n + k];
    return S;
  };
  KroneckerBlock block(L, spd(din), spd(O)), other(L, spd(din), spd(O));
  Matrix S(static_cast<std::size_t>(O * din));
  for (auto& s : S) s = 0.5 + rng.uniform();
  block.set_refit(S);
  const Matrix& QA = other.eigenvectors_A();
  const Matrix& QG = other.eigenvectors_G();
  const Matrix in_other = block.diagonal_in(other);
  Matrix in_standard(S.size());
  block.diagonal(in_standard.data());
  Matrix V(S.size()), MV(S.size()), expected_other(S.size()), expected_standard(S.size());
  for (index_t o = 0; o < O; ++o)
    for (index_t i = 0; i < din; ++i) {
      for (index_t p = 0; p < O; ++p)  // V = q_G,o q_A,iᵀ: columns of the other basis
        for (index_t q = 0; q < din; ++q) V[p * din + q] = QG[p * O + o] * QA[q * din + i];
      block.mv(V.data(), MV.data());
      for (std::size_t j = 0; j < V.size(); ++j) expected_other[o * din + i] += V[j] * MV[j];
      std::fill(V.begin(), V.end(), 0.0);  // and the standard basis vector (o, i)
      V[o * din + i] = 1;
      block.mv(V.data(), MV.data());
      expected_standard[o * din + i] = MV[o * din + i];
    }
  CHECK(relative_error(in_other, expected_other) <= 1e-13);
  CHECK(relative_error(in_standard, expected_standard) <= 1e-13);
  // In its own basis the diagonal is the scaling itself.
  CHECK(relative_error(block.diagonal_in(block), S) <= 1e-13);
  KfacLayer wider = L;
  wider.out = 4;
  KroneckerBlock mismatched(wider, spd(din), spd(4));
  CHECK_THROWS_WITH_AS(block.diagonal_in(mismatched),
                       doctest::Contains("expected a basis for a 3x4 layer, found 4x4"), Error);
}

// Rows Jₙ,c = gₙ,c ⊗ âₙᵀ (g = I: the layer's own outputs), Σᵣ gₙ,c,ᵣ ⊗ âₙ,ᵣᵀ, and any rows V,
// through the eigenbases
// against J (M + λI)⁻¹ Jᵀ with inverse_mv; both add to what out holds.
TEST_CASE(
    "a block's covariances J (M + λI)⁻¹ Jᵀ of rank-one and of general rows, against inverse_mv") {
  // A 4×5 layer with bias (din 6), K-FAC and re-fitted scalings, with and without damping.
  KfacLayer L;
  L.kind = "linear", L.weight_offset = 0, L.bias_offset = 20, L.out = 4, L.in = 5;
  const index_t din = L.din(), O = L.out, n = 3, k = 2, m = O * din;
  Rng rng(8);
  auto spd = [&](index_t q) {
    Matrix B(static_cast<std::size_t>(q * q)), S(B.size(), 0.0);
    for (auto& x : B) x = rng.normal();
    for (index_t i = 0; i < q; ++i) {
      S[i * q + i] = 0.1;
      for (index_t j = 0; j < q; ++j)
        for (index_t r = 0; r < q; ++r) S[i * q + j] += B[i * q + r] * B[j * q + r];
    }
    return S;
  };
  auto random = [&](index_t size) {
    Matrix x(static_cast<std::size_t>(size));
    for (auto& v : x) v = rng.normal();
    return x;
  };
  const index_t R = 3;  // rows per input of the factored form with several rows
  const Matrix a = random(n * din), g = random(n * k * O), V = random(n * k * m);
  const Matrix aR = random(n * R * din), gR = random(n * k * R * O);
  const Matrix start = random(n * k * k), start_O = random(n * O * O);
  for (bool refit : {false, true})
    for (double lambda : {0.0, 0.3}) {
      CAPTURE(refit);
      CAPTURE(lambda);
      KroneckerBlock block(L, spd(din), spd(O));
      if (refit) {
        Matrix S(static_cast<std::size_t>(m));
        for (auto& s : S) s = 0.5 + rng.uniform();
        block.set_refit(S);
      }
      // rows (n, q, m) → start + Σₙ via inverse_mv
      auto reference = [&](const Matrix& rows, index_t q, const Matrix& base) {
        Matrix want = base, X(static_cast<std::size_t>(m));
        for (index_t e = 0; e < n; ++e)
          for (index_t c = 0; c < q; ++c) {
            block.inverse_mv(rows.data() + (e * q + c) * m, lambda, X.data());
            for (index_t d = 0; d < q; ++d) {
              double s = 0;
              for (index_t j = 0; j < m; ++j) s += rows[(e * q + d) * m + j] * X[j];
              want[(e * q + c) * q + d] += s;
            }
          }
        return want;
      };
      // g ⊗ âᵀ as (n, k, out, din) rows, I ⊗ âᵀ as (n, out, out, din), Σᵣ gᵣ ⊗ âᵣᵀ as (n, k, …).
      Matrix outer(static_cast<std::size_t>(n * k * m)), identity(std::size_t(n * O * m), 0.0),
          summed(std::size_t(n * k * m), 0.0);
      for (index_t e = 0; e < n; ++e)
        for (index_t c = 0; c < k; ++c)
          for (index_t r = 0; r < R; ++r)
            for (index_t o = 0; o < O; ++o)
              for (index_t i = 0; i < din; ++i)
                summed[(e * k + c) * m + o * din + i] +=
                    gR[((e * k + c) * R + r) * O + o] * aR[(e * R + r) * din + i];
      for (index_t e = 0; e < n; ++e)
        for (index_t o = 0; o < O; ++o)
          for (index_t i = 0; i < din; ++i) {
            for (index_t c = 0; c < k; ++c)
              outer[(e * k + c) * m + o * din + i] = g[(e * k + c) * O + o] * a[e * din + i];
            identity[(e * O + o) * m + o * din + i] = a[e * din + i];
          }
      Matrix got = start;
      block.inverse_factored_covariance(a.data(), g.data(), n, 1, k, lambda, got.data());
      CHECK(relative_error(got, reference(outer, k, start)) <= 1e-12);
      got = start_O;
      block.inverse_factored_covariance(a.data(), nullptr, n, 1, O, lambda, got.data());
      CHECK(relative_error(got, reference(identity, O, start_O)) <= 1e-12);
      got = start;
      block.inverse_factored_covariance(aR.data(), gR.data(), n, R, k, lambda, got.data());
      CHECK(relative_error(got, reference(summed, k, start)) <= 1e-12);
      got = start;
      block.inverse_covariance(V.data(), n, k, lambda, got.data());
      CHECK(relative_error(got, reference(V, k, start)) <= 1e-12);
    }
}

TEST_CASE("K-FAC refuses parameters outside linear and conv2d layers, and negative damping") {
  auto model = tiny("mlp");
  CurvatureData<double> data(*model, random_batches(*model, {2}, 1));
  const auto bias_only = ParamSubset::parse("fc2.bias", model->params().info());
  CHECK_THROWS_WITH_AS(make_kfac(data, bias_only, with(FactorKind::GGN)),
                       doctest::Contains("fc2.bias"), Error);
  auto op = make_kfac(data, ParamSubset::all(model->params().info()), with(FactorKind::GGN));
  std::vector<double> v(std::size_t(op->size()), 1.0), out(v.size());
  CHECK_THROWS_WITH_AS(op->inverse_mv(v.data(), -1.0, out.data()),
                       doctest::Contains("damping >= 0"), Error);
  CHECK_THROWS_WITH_AS(ParamSubset::parse("fc9", model->params().info()),
                       doctest::Contains("fc1.weight"), Error);
}
