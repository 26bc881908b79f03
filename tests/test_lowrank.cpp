// M-FAC operators against the dense damped empirical Fisher F = λI + (1/m) GᵀG, materialized
// and handled by LAPACK.
#include <doctest/doctest.h>

#include <cblas.h>
#include <lapacke.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "curv/core/error.hpp"
#include "curv/core/rng.hpp"
#include "curv/curvature/lowrank.hpp"
#include "curv/linalg/dense.hpp"
#include "support/errors.hpp"

using namespace curv;
using namespace curv::testing;

namespace {

constexpr index_t kD = 1000, kM = 32;
constexpr double kLambda = 0.05;  // small enough that the low-rank part dominates (cond(F) ≈ 900)

std::vector<double> normals(Rng& rng, index_t n) {
  std::vector<double> v(static_cast<std::size_t>(n));
  for (double& x : v) x = rng.normal();
  return v;
}

// λI + (1/m) Σ over `rows` gradients of G (d each), with m the window's capacity.
std::vector<double> dense_fisher(const double* G, index_t rows, index_t m, index_t d,
                                 double lambda) {
  std::vector<double> F(static_cast<std::size_t>(d * d), 0.0);
  cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, int(d), int(rows), 1.0 / double(m), G, int(d),
              0.0, F.data(), int(d));
  for (index_t i = 0; i < d; ++i) {
    F[i * d + i] += lambda;
    for (index_t j = 0; j < i; ++j) F[j * d + i] = F[i * d + j];
  }
  return F;
}

std::vector<double> dense_mv(const std::vector<double>& F, const std::vector<double>& v) {
  const index_t d = static_cast<index_t>(v.size());
  std::vector<double> out(v.size());
  cblas_dgemv(CblasRowMajor, CblasNoTrans, int(d), int(d), 1.0, F.data(), int(d), v.data(), 1, 0.0,
              out.data(), 1);
  return out;
}

double rel_err(const std::vector<double>& a, const std::vector<double>& b) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    num += (a[i] - b[i]) * (a[i] - b[i]);
    den += b[i] * b[i];
  }
  return std::sqrt(num / den);
}

}  // namespace

TEST_CASE("mfac-static: F⁻¹, its entries, F v and log det match the dense Fisher") {
  Rng rng(11);
  const std::vector<double> G = normals(rng, kM * kD);
  StaticMfac op(G, kM, kD, kLambda);
  CHECK(op.size() == kD);
  const std::vector<double> F = dense_fisher(G.data(), kM, kM, kD, kLambda);
  const std::vector<double> L = linalg::cholesky(F, kD);

  for (int trial = 0; trial < 3; ++trial) {
    const std::vector<double> v = normals(rng, kD);
    std::vector<double> ref = v, x(v.size());
    linalg::cholesky_solve(L, kD, ref.data(), 1);
    op.inverse_mv(v.data(), 0.0, x.data());
    CHECK(rel_err(x, ref) < 1e-8);
    CHECK(rel_err(op.solve(v), ref) < 1e-8);
    std::vector<double> y(v.size());
    op.mv(v.data(), y.data());
    CHECK(rel_err(y, dense_mv(F, v)) < 1e-10);
  }

  // The full dense inverse, from the Cholesky factor (dpotri on the lower triangle).
  std::vector<double> inv = L;
  REQUIRE(LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', lapack_int(kD), inv.data(), lapack_int(kD)) == 0);
  const double scale = 1.0 / kLambda;  // the largest entries of F⁻¹ are ≈ 1/λ
  const std::vector<double> idiag = op.inverse_diagonal();
  double worst = 0;
  for (index_t k = 0; k < kD; ++k) worst = std::max(worst, std::abs(idiag[k] - inv[k * kD + k]));
  CHECK(worst / scale < 1e-8);
  worst = 0;
  for (index_t k = 0; k < kD; k += 37)
    for (index_t l = 0; l <= k; l += 13)
      worst = std::max(worst, std::abs(op.inverse_entry(k, l) - inv[k * kD + l]));
  for (index_t k = 0; k < kD; k += 101)
    worst = std::max(worst, std::abs(op.inverse_entry(k, k) - idiag[k]));
  CHECK(worst / scale < 1e-8);
  CHECK(op.inverse_entry(3, 900) == doctest::Approx(op.inverse_entry(900, 3)).epsilon(1e-12));

  const std::vector<double> diag = op.diagonal();
  worst = 0;
  double tr = 0;
  for (index_t k = 0; k < kD; ++k) {
    worst = std::max(worst, std::abs(diag[k] - F[k * kD + k]));
    tr += F[k * kD + k];
  }
  CHECK(worst < 1e-12);
  CHECK(op.trace() == doctest::Approx(tr).epsilon(1e-12));
  CHECK(op.logdet(0.0) == doctest::Approx(linalg::cholesky_logdet(L, kD)).epsilon(1e-10));

  // The M-FAC recursion's definitions: v₁ = F₀⁻¹g₁ = g₁/λ and m + g₁ᵀv₁ = m + |g₁|²/λ.
  double g1 = 0;
  for (index_t k = 0; k < kD; ++k) g1 += G[k] * G[k];
  CHECK(op.denominators()[0] == doctest::Approx(kM + g1 / kLambda).epsilon(1e-12));
  CHECK(op.V()[5] == doctest::Approx(G[5] / kLambda).epsilon(1e-12));
}

TEST_CASE("mfac-dynamic: a sliding window equals the dense solve with its last m gradients") {
  Rng rng(7);
  const std::vector<double> all = normals(rng, 3 * kM * kD);
  const std::vector<double> probe = normals(rng, kD);

  // Compares F⁻¹v, F v, the diagonal, trace and log det with the dense F of rows [first,
  // first+rows).
  auto check_against_dense = [&](DynamicMfac& op, index_t first, index_t rows) {
    const std::vector<double> F = dense_fisher(all.data() + first * kD, rows, kM, kD, kLambda);
    const std::vector<double> L = linalg::cholesky(F, kD);
    std::vector<double> ref = probe;
    linalg::cholesky_solve(L, kD, ref.data(), 1);
    CHECK(rel_err(op.solve(probe), ref) < 1e-8);
    std::vector<double> y(probe.size());
    op.mv(probe.data(), y.data());
    CHECK(rel_err(y, dense_mv(F, probe)) < 1e-12);
    const std::vector<double> diag = op.diagonal();
    double worst = 0, tr = 0;
    for (index_t k = 0; k < kD; ++k) {
      worst = std::max(worst, std::abs(diag[k] - F[k * kD + k]));
      tr += F[k * kD + k];
    }
    CHECK(worst < 1e-12);
    CHECK(op.trace() == doctest::Approx(tr).epsilon(1e-12));
    CHECK(op.logdet(0.0) == doctest::Approx(linalg::cholesky_logdet(L, kD)).epsilon(1e-10));
  };

  SUBCASE("empty and partly filled windows") {
    DynamicMfac op(kD, kM, kLambda);
    CHECK(op.solve(probe)[4] == doctest::Approx(probe[4] / kLambda));
    CHECK(op.logdet(0.0) == doctest::Approx(kD * std::log(kLambda)));
    for (index_t i = 0; i < 5; ++i) op.push(all.data() + i * kD);
    CHECK(op.count() == 5);
    check_against_dense(op, 0, 5);
  }

  // Refreshing every m pushes (the default) and never: the O(m²) up- and downdates alone must
  // hold 1e-8 through 64 replacements.
  SUBCASE("3m pushes: every slot replaced twice") {
    for (index_t refresh : {index_t(-1), index_t(0), index_t(5)}) {
      CAPTURE(refresh);
      DynamicMfac op(kD, kM, kLambda, refresh);
      for (index_t i = 0; i < 3 * kM; ++i)
        op.push(std::vector<double>(all.begin() + i * kD, all.begin() + (i + 1) * kD));
      CHECK(op.count() == kM);
      CHECK(op.pushes() == 3 * kM);
      check_against_dense(op, 2 * kM, kM);
    }
  }

  SUBCASE("a changed damping and a window part way through its second turnover") {
    DynamicMfac op(kD, kM, 1.0, 0);
    for (index_t i = 0; i < kM + 9; ++i) op.push(all.data() + i * kD);
    op.set_damping(kLambda);
    check_against_dense(op, 9, kM);
  }
}

TEST_CASE("mfac: bad input gets one-line errors") {
  Rng rng(3);
  std::vector<double> G = normals(rng, 4 * 10);
  CHECK(error_of([&] { StaticMfac(G, 4, 9, 0.1); }) ==
        "mfac-static: expected m·d = 4·9 = 36 gradient values, found 40");
  CHECK(error_of([&] { StaticMfac(G, 4, 10, 0.0); }) ==
        "mfac-static: expected a finite damping λ > 0, found 0");
  CHECK(error_of([&] { StaticMfac(G, 4, 10, -1.0); }) ==
        "mfac-static: expected a finite damping λ > 0, found -1");
  CHECK(error_of([&] { StaticMfac({}, 0, 10, 1.0); }) ==
        "mfac-static: expected at least one gradient of dimension ≥ 1, found m = 0, d = 10");
  G[27] = std::numeric_limits<double>::quiet_NaN();
  CHECK(error_of([&] { StaticMfac(G, 4, 10, 0.1); }) ==
        "mfac-static: expected finite gradients, found nan at gradient 2, index 7");
  G[27] = 0.5;
  StaticMfac st(G, 4, 10, 0.1);
  std::vector<double> v(10, 1.0), out(10);
  CHECK(error_of([&] { st.inverse_mv(v.data(), 0.5, out.data()); }) ==
        "mfac-static: expected inverse_mv damping 0 (λ is fixed at construction; set_damping "
        "changes it for "
        "mfac-dynamic), found 0.5");
  CHECK(error_of([&] { st.logdet(1.0); }) ==
        "mfac-static: expected logdet damping 0 (λ is fixed at construction; set_damping changes "
        "it for "
        "mfac-dynamic), found 1");
  CHECK(error_of([&] { st.solve(std::vector<double>(9)); }) ==
        "mfac-static: expected a vector of length 10, found 9");
  CHECK(error_of([&] { st.inverse_entry(10, 0); }) ==
        "mfac-static: expected indices in [0,10), found (10, 0)");
  CHECK(error_of([&] { st.inverse_entry(0, -1); }) ==
        "mfac-static: expected indices in [0,10), found (0, -1)");

  CHECK(error_of([] { DynamicMfac(10, 4, std::numeric_limits<double>::infinity()); }) ==
        "mfac-dynamic: expected a finite damping λ > 0, found inf");
  CHECK(error_of([] { DynamicMfac(10, 0, 1.0); }) ==
        "mfac-dynamic: expected capacity m ≥ 1 and dimension d ≥ 1, found m = 0, d = 10");
  DynamicMfac dy(10, 4, 0.1);
  dy.push(std::vector<double>(G.begin(), G.begin() + 10));
  CHECK(error_of([&] { dy.push(std::vector<double>(11)); }) ==
        "mfac-dynamic: expected a gradient of length 10, found 11");
  std::vector<double> bad(10, 1.0);
  bad[3] = -std::numeric_limits<double>::infinity();
  CHECK(error_of([&] { dy.push(bad); }) ==
        "mfac-dynamic: expected a finite gradient, found -inf at index 3");
  CHECK(dy.count() == 1);  // the rejected gradient left the window unchanged
  CHECK(error_of([&] { dy.set_damping(0.0); }) ==
        "mfac-dynamic: expected a finite damping λ > 0, found 0");
  CHECK(error_of([&] { dy.inverse_mv(v.data(), 1e-3, out.data()); }) ==
        "mfac-dynamic: expected inverse_mv damping 0 (λ is fixed at construction; set_damping "
        "changes it for "
        "mfac-dynamic), found 0.001");
  CHECK(error_of([&] { dy.solve(std::vector<double>(3)); }) ==
        "mfac-dynamic: expected a vector of length 10, found 3");
  CHECK(dy.damping() == 0.1);
}
