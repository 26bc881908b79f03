// The iterative solvers (CG, LiSSA, Lanczos, Arnoldi, power iteration, Hutchinson, Hutch++, SLQ)
// against LAPACK on dense symmetric matrices with chosen spectra.
//
// Test matrices are Q diag(λ) Qᵀ with Q the eigenvectors of a random symmetric (GOE) matrix,
// which are Haar distributed, so nothing about the basis helps or hurts a solver. The
// "Hessian-like" spectrum used for the eigen- and trace solvers is
//   10 outliers λ_i = 100 · 0.7^i (100 down to 4.04), well separated from each other and from
//   a bulk of n − 10 eigenvalues uniform in [−0.01, 0.1] (near zero, a few slightly negative),
// which is what curvature spectra of trained networks look like (Ghorbani et al. 2019).
#include <doctest/doctest.h>

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "curv/core/error.hpp"
#include "curv/core/rng.hpp"
#include "curv/linalg/dense.hpp"
#include "curv/linalg/solvers.hpp"

using namespace curv;
using Vec = std::vector<double>;

namespace {

std::size_t sz(index_t n) { return static_cast<std::size_t>(n); }

Vec random_vector(index_t n, std::uint64_t seed) {
  Rng rng(seed);
  Vec v(sz(n));
  for (double& e : v) e = rng.normal();
  return v;
}

double norm(const Vec& v) {
  return std::sqrt(std::inner_product(v.begin(), v.end(), v.begin(), 0.0));
}

double relative_error(const Vec& estimate, const Vec& exact) {
  Vec d(exact.size());
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = estimate[i] - exact[i];
  return norm(d) / norm(exact);
}

// Haar-random orthogonal Q (row-major, column j = vector j): eigenvectors of a GOE matrix.
Vec random_orthogonal(index_t n, std::uint64_t seed) {
  Rng rng(seed);
  Vec a(sz(n * n)), values(sz(n)), Q(sz(n * n));
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j <= i; ++j) a[sz(i * n + j)] = a[sz(j * n + i)] = rng.normal();
  linalg::eigh(a.data(), n, values.data(), Q.data());
  return Q;
}

// Q diag(spectrum) Qᵀ, made exactly symmetric.
Vec with_spectrum(const Vec& spectrum, const Vec& Q) {
  const index_t n = static_cast<index_t>(spectrum.size());
  Vec scaled = Q, M(sz(n * n));
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < n; ++j) scaled[sz(i * n + j)] *= spectrum[sz(j)];
  const int m = static_cast<int>(n);
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, m, m, 1.0, scaled.data(), m, Q.data(), m,
              0.0, M.data(), m);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < i; ++j)
      M[sz(i * n + j)] = M[sz(j * n + i)] = 0.5 * (M[sz(i * n + j)] + M[sz(j * n + i)]);
  return M;
}

Vec with_spectrum(const Vec& spectrum, std::uint64_t seed) {
  return with_spectrum(spectrum, random_orthogonal(static_cast<index_t>(spectrum.size()), seed));
}

// The Hessian-like spectrum of the file comment, outliers first.
Vec hessian_like_spectrum(index_t n, std::uint64_t seed) {
  Rng rng(seed);
  Vec s(sz(n));
  for (index_t i = 0; i < n; ++i)
    s[sz(i)] = i < 10 ? 100 * std::pow(0.7, double(i)) : -0.01 + 0.11 * rng.uniform();
  return s;
}

// ‖M v − θ v‖ computed directly.
double true_residual(LinearOperator& op, const Vec& v, double theta) {
  Vec Mv(v.size());
  op.mv(v.data(), Mv.data());
  for (std::size_t i = 0; i < v.size(); ++i) Mv[i] -= theta * v[i];
  return norm(Mv);
}

}  // namespace

// ---- Conjugate gradient -----------------------------------------------------------------------

TEST_CASE("conjugate gradient matches a dense Cholesky solve") {
  const index_t n = 500;
  const double damping = 0.1;  // M + λI has eigenvalues in [0.09, 100.1]: condition number ≈ 1100
  const Vec M = with_spectrum(hessian_like_spectrum(n, 3), 4);
  DenseOperator op(M, n);
  const Vec b = random_vector(n, 5);
  const linalg::CgResult r = linalg::cg(op, b, {.damping = damping, .tolerance = 1e-12});
  CAPTURE(r.iterations);
  CHECK(r.converged);
  CHECK(r.relative_residual <= 1e-12);
  // Error ≤ condition number × residual ≈ 1e-9.
  CHECK(relative_error(r.x, linalg::solve_spd(M, n, b, damping)) <= 1e-8);
  // Outliers cost about one iteration each, the well-conditioned bulk a few dozen.
  CHECK(r.iterations < 100);

  // A warm start at the solution needs no iterations; the exact inverse as preconditioner one.
  const linalg::CgResult warm =
      linalg::cg(op, b, {.damping = damping, .tolerance = 1e-8, .initial_guess = r.x});
  CHECK((warm.converged && warm.iterations == 0));
  const linalg::CgResult exact = linalg::cg(
      op, b, {.damping = damping, .preconditioner = linalg::inverse_preconditioner(op, damping)});
  CHECK((exact.converged && exact.iterations == 1));
}

namespace {
// Counts the products it is asked for.
class CountingOperator : public DenseOperator {
 public:
  using DenseOperator::DenseOperator;
  void mv(const double* v, double* out) override {
    ++products;
    DenseOperator::mv(v, out);
  }
  index_t products = 0;
};
}  // namespace

TEST_CASE("CG stops at its iteration limit with the residual it reports, not converged") {
  const index_t n = 200;
  const double damping = 0.3;
  const Vec M = with_spectrum(hessian_like_spectrum(n, 11), 12);
  const Vec b = random_vector(n, 13);
  for (index_t k : {0, 1, 5}) {
    CAPTURE(k);
    CountingOperator op(M, n);
    // A tolerance no iterate reaches: only the limit stops it.
    const auto r =
        linalg::cg(op, b, {.damping = damping, .tolerance = 1e-300, .max_iterations = k});
    CHECK(r.iterations == k);
    CHECK(op.products == k + 1);  // k search directions, then the true residual of x
    CHECK(!r.converged);
    // ‖b − (M + λI)x‖ / ‖b‖, recomputed densely.
    double res = 0, bb = 0;
    for (index_t i = 0; i < n; ++i) {
      double Ax = damping * r.x[sz(i)];
      for (index_t j = 0; j < n; ++j) Ax += M[sz(i * n + j)] * r.x[sz(j)];
      res += (b[sz(i)] - Ax) * (b[sz(i)] - Ax), bb += b[sz(i)] * b[sz(i)];
    }
    CHECK(r.relative_residual == doctest::Approx(std::sqrt(res / bb)).epsilon(1e-12));
    if (k == 0) CHECK(r.relative_residual == 1.0);  // x = 0
  }
}

TEST_CASE(
    "a Jacobi preconditioner makes CG converge in fewer iterations on a badly scaled matrix") {
  // B = S A S: A well conditioned (eigenvalues in [1, 10]), S a diagonal spanning 4 decades, so
  // κ(B) ~ 1e9 while the Jacobi-preconditioned diag(B)^-½ B diag(B)^-½ is as tame as A.
  const index_t n = 300;
  Rng rng(6);
  Vec spectrum(sz(n)), s(sz(n));
  for (double& e : spectrum) e = 1 + 9 * rng.uniform();
  for (double& e : s) e = std::pow(10.0, -2 + 4 * rng.uniform());
  Vec B = with_spectrum(spectrum, 7);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < n; ++j) B[sz(i * n + j)] *= s[sz(i)] * s[sz(j)];
  DenseOperator op(B, n);
  const Vec b = random_vector(n, 8);
  const linalg::CgOptions plain{.tolerance = 1e-8, .max_iterations = 3000};
  linalg::CgOptions jacobi = plain;
  jacobi.preconditioner = linalg::jacobi_preconditioner(op.diagonal());
  const linalg::CgResult without = linalg::cg(op, b, plain), with = linalg::cg(op, b, jacobi);
  CAPTURE(without.iterations);
  CAPTURE(with.iterations);
  CHECK(with.converged);
  CHECK(with.relative_residual <= 1e-8);
  CHECK(with.iterations * 5 < without.iterations);
}

TEST_CASE("CG stops on non-positive curvature and says to raise the damping") {
  const index_t n = 50;
  Vec spectrum(sz(n));
  for (index_t i = 0; i < n; ++i) spectrum[sz(i)] = double(i) - 5;  // five negative eigenvalues
  DenseOperator op(with_spectrum(spectrum, 9), n);
  const Vec b = random_vector(n, 10);
  CHECK_THROWS_WITH_AS(linalg::cg(op, b), doctest::Contains("non-positive curvature"), Error);
  CHECK_THROWS_WITH_AS(linalg::cg(op, b), doctest::Contains("raise the damping"), Error);
  // Damping past the most negative eigenvalue makes it positive definite again.
  CHECK(linalg::cg(op, b, {.damping = 5.5}).converged);
}

// ---- LiSSA --------------------------------------------------------------------------------------

TEST_CASE("LiSSA approximates the damped inverse and diverges loudly when scale is too small") {
  const index_t n = 300;
  Rng rng(11);
  Vec spectrum(sz(n));
  for (double& e : spectrum) e = 1 + 9 * rng.uniform();  // eigenvalues in [1, 10]
  const Vec A = with_spectrum(spectrum, 12);
  DenseOperator op(A, n);
  const Vec v = random_vector(n, 13);
  const double damping = 0.5;
  const Vec exact = linalg::solve_spd(A, n, v, damping);

  // scale 12 > λ_max + λ = 10.5; the series contracts by 1 − 1.5/12 per term, so 100 terms leave
  // a relative truncation error of about 0.875^100 ≈ 1.6e-6.
  const linalg::LissaResult r =
      linalg::lissa(op, v, {.scale = 12, .depth = 100, .damping = damping});
  CHECK(relative_error(r.x, exact) <= 1e-2);
  CHECK(r.relative_last_term < 1e-4);

  SUBCASE("stochastic LiSSA with a sampled operator per step") {
    // Operators A ± E drawn at random: each step's expectation is A, so the average over repeats
    // estimates the same inverse, with noise shrinking like 1/√repeats.
    Vec E = with_spectrum(random_vector(n, 14), 15);
    for (double& e : E) e *= 0.05;
    Vec plus = A, minus = A;
    for (std::size_t i = 0; i < A.size(); ++i) plus[i] += E[i], minus[i] -= E[i];
    DenseOperator op_plus(plus, n), op_minus(minus, n);
    Rng coin(16);
    const linalg::OperatorSampler sample = [&](index_t, index_t) -> LinearOperator& {
      return coin.below(2) ? op_plus : op_minus;
    };
    const linalg::LissaResult s =
        linalg::lissa(sample, v, {.scale = 12, .depth = 100, .repeats = 8, .damping = damping});
    CHECK(relative_error(s.x, exact) <= 2e-2);
  }

  SUBCASE("too small a scale throws, naming the step and the scale") {
    std::string message;
    try {
      linalg::lissa(op, v, {.scale = 3, .depth = 100, .damping = damping});
    } catch (const Error& e) {
      message = e.what();
    }
    for (const char* part :
         {"diverged at step", "must exceed the largest eigenvalue", "raise scale"})
      CHECK(message.find(part) != std::string::npos);
  }
}

// ---- Lanczos, Arnoldi, power iteration ----------------------------------------------------------

TEST_CASE("Lanczos and Arnoldi find the top 10 eigenpairs of a 2000×2000 Hessian-like matrix") {
  // The test's two 2000×2000 eigendecompositions: one for Q, one for the LAPACK reference.
  const index_t n = 2000;
  const Vec spectrum = hessian_like_spectrum(n, 1), M = with_spectrum(spectrum, 2);
  Vec lapack_values(sz(n)), lapack_vectors(sz(n * n));  // values ascending
  linalg::eigh(M.data(), n, lapack_values.data(), lapack_vectors.data());
  for (index_t i = 0; i < 10; ++i)  // the reference agrees with the spectrum M was built from
    CHECK(std::abs(lapack_values[sz(n - 1 - i)] - spectrum[sz(i)]) <= 1e-10 * spectrum[0]);
  DenseOperator op(M, n);

  const linalg::KrylovOptions options{
      .iterations = 100, .wanted = 10, .which = linalg::Which::largest_algebraic, .seed = 17};
  for (const bool use_lanczos : {true, false}) {
    CAPTURE(use_lanczos);
    const linalg::Eigensolution s =
        use_lanczos ? linalg::lanczos(op, options) : linalg::arnoldi(op, options);
    REQUIRE(s.values.size() == 10);
    CHECK(!s.breakdown);
    CHECK(s.iterations == 100);
    CHECK(s.converged == 10);
    for (index_t i = 0; i < 10; ++i) {
      CAPTURE(i);
      const double reference = lapack_values[sz(n - 1 - i)];
      CHECK(std::abs(s.values[sz(i)] - reference) <= 1e-6 * std::abs(reference));
      CHECK(std::abs(norm(s.vectors[sz(i)]) - 1) <= 1e-10);
      // Residuals relative to ‖M‖ = 100: both the computed one and the solver's free estimate.
      CHECK(true_residual(op, s.vectors[sz(i)], s.values[sz(i)]) <= 1e-8 * spectrum[0]);
      CHECK(s.residuals[sz(i)] <= 1e-8 * spectrum[0]);
    }
  }
}

TEST_CASE("Lanczos stops once the wanted pairs converge, with the answer of the full budget") {
  // A top eigenvalue separated from the bulk converges long before 150 iterations: stopping
  // there must give the same pairs (to the tolerance) for a fraction of the products, and a
  // budget too short to converge in must still be spent to its end.
  const index_t n = 400;
  const Vec spectrum = hessian_like_spectrum(n, 3);
  DenseOperator op(with_spectrum(spectrum, 4), n);
  const linalg::KrylovOptions full{.iterations = 150,
                                   .wanted = 2,
                                   .which = linalg::Which::largest_algebraic,
                                   .seed = 5,
                                   .tolerance = 1e-6};
  linalg::KrylovOptions early = full;
  early.stop_when_converged = true;
  const linalg::Eigensolution a = linalg::lanczos(op, full), b = linalg::lanczos(op, early);
  REQUIRE((a.values.size() == 2 && b.values.size() == 2));
  CHECK(a.iterations == 150);
  CHECK(b.iterations < 75);
  CHECK(b.converged == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(b.residuals[i] <= 1e-6 * spectrum[0]);
    // |θ − λ| ≤ residual²/gap for a converged Ritz value; the gap to the bulk is O(1).
    CHECK(std::abs(b.values[i] - spectrum[i]) <= 1e-8 * spectrum[0]);
    CHECK(std::abs(b.values[i] - a.values[i]) <= 1e-8 * spectrum[0]);
  }
  // A budget too short to converge in is spent to the end.
  early.iterations = 4;
  const linalg::Eigensolution c = linalg::lanczos(op, early);
  CHECK(c.iterations == 4);
  CHECK(c.converged < 2);
}

TEST_CASE("Lanczos and Arnoldi return the end of the spectrum asked for") {
  const index_t n = 200;
  Vec spectrum(sz(n));  // −5, −4, −3, 4.5 and a bulk in [0.04, 2)
  for (index_t i = 0; i < n; ++i)
    spectrum[sz(i)] = i < 3 ? double(i) - 5 : i == 3 ? 4.5 : 0.01 * double(i);
  DenseOperator op(with_spectrum(spectrum, 18), n);
  const linalg::KrylovOptions smallest{
      .iterations = 120, .wanted = 3, .which = linalg::Which::smallest_algebraic};
  const linalg::Eigensolution low = linalg::lanczos(op, smallest);
  const linalg::Eigensolution top =
      linalg::arnoldi(op, {.iterations = 120, .wanted = 3});  // by magnitude
  const linalg::Eigensolution high = linalg::lanczos(
      op, {.iterations = 120, .wanted = 1, .which = linalg::Which::largest_algebraic});
  REQUIRE((low.values.size() == 3 && top.values.size() == 3 && high.values.size() == 1));
  const Vec expected_low{-5, -4, -3}, expected_top{-5, 4.5, -4};
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(std::abs(low.values[i] - expected_low[i]) <= 1e-8);
    CHECK(std::abs(top.values[i] - expected_top[i]) <= 1e-8);
  }
  CHECK(std::abs(high.values[0] - 4.5) <= 1e-8);
}

TEST_CASE("Krylov breakdown returns the exact pairs of the invariant subspace without throwing") {
  const index_t n = 200;
  const Vec Q = random_orthogonal(n, 19);
  auto eigenvector = [&](index_t j) {
    Vec u(sz(n));
    for (index_t i = 0; i < n; ++i) u[sz(i)] = Q[sz(i * n + j)];
    return u;
  };

  SUBCASE("an operator of rank 5") {
    // From a random start the Krylov space is the 5-dimensional range plus the start vector's
    // null-space component: it becomes invariant after 6 steps, with a Ritz value 0.
    Vec spectrum(sz(n), 0.0);
    for (index_t i = 0; i < 5; ++i) spectrum[sz(i)] = 5 - double(i);
    DenseOperator op(with_spectrum(spectrum, Q), n);
    const linalg::KrylovOptions options{
        .iterations = 50, .wanted = 10, .which = linalg::Which::largest_algebraic};
    for (const bool use_lanczos : {true, false}) {
      CAPTURE(use_lanczos);
      linalg::Eigensolution s;
      REQUIRE_NOTHROW(s = use_lanczos ? linalg::lanczos(op, options)
                                      : linalg::arnoldi(op, options));
      CHECK(s.breakdown);
      CHECK(s.iterations == 6);
      CHECK(s.message.find("invariant subspace") != std::string::npos);
      REQUIRE(s.values.size() == 6);
      for (std::size_t i = 0; i < 5; ++i) CHECK(std::abs(s.values[i] - spectrum[i]) <= 1e-10);
      CHECK(std::abs(s.values[5]) <= 1e-10);
      for (std::size_t i = 0; i < 6; ++i)
        CHECK(true_residual(op, s.vectors[i], s.values[i]) <= 1e-10);
    }
  }

  SUBCASE("a start vector inside a 3-dimensional invariant subspace") {
    Vec spectrum(sz(n));
    for (index_t i = 0; i < n; ++i) spectrum[sz(i)] = 1 + double(i);
    DenseOperator op(with_spectrum(spectrum, Q), n);
    Vec start(sz(n), 0.0);
    for (index_t j : {4, 50, 120})
      for (index_t i = 0; i < n; ++i) start[sz(i)] += eigenvector(j)[sz(i)];
    const linalg::Eigensolution s = linalg::lanczos(
        op,
        {.iterations = 40, .wanted = 5, .which = linalg::Which::largest_algebraic, .start = start});
    CHECK(s.breakdown);
    CHECK(s.iterations == 3);
    REQUIRE(s.values.size() == 3);
    CHECK(s.values[0] == doctest::Approx(121).epsilon(1e-12));
    CHECK(s.values[1] == doctest::Approx(51).epsilon(1e-12));
    CHECK(s.values[2] == doctest::Approx(5).epsilon(1e-12));
  }
}

TEST_CASE("power iteration with deflation finds the top 3 eigenpairs") {
  const index_t n = 500;
  const Vec M = with_spectrum(hessian_like_spectrum(n, 20), 21);
  DenseOperator op(M, n);
  const Eigenpairs reference = linalg::eigh(M, n);
  const linalg::PowerIterationResult r =
      linalg::power_iteration(op, {.wanted = 3, .max_iterations = 500});
  CAPTURE(r.iterations);
  CHECK(r.converged == 3);
  REQUIRE(r.values.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CAPTURE(i);
    const double exact = reference.values[sz(n) - 1 - i];
    CHECK(r.converged_per_pair[i]);
    CHECK(std::abs(r.values[i] - exact) <= 1e-8 * exact);
    // The quotient converges like the square of the vector's error (ratio 0.7 per step here).
    CHECK(r.residuals[i] <= 1e-4 * exact);
    CHECK(std::abs(std::inner_product(r.vectors[i].begin(), r.vectors[i].end(),
                                      reference.vectors[sz(n) - 1 - i].begin(), 0.0)) >= 1 - 1e-8);
  }
}

// ---- Traces, diagonals, spectral density ------------------------------------------------------

TEST_CASE("Hutchinson and Hutch++ traces are within 3 standard errors; Hutch++ is far tighter") {
  const index_t n = 500;
  const Vec spectrum = hessian_like_spectrum(n, 22);
  DenseOperator op(with_spectrum(spectrum, 23), n);
  const double exact = std::accumulate(spectrum.begin(), spectrum.end(), 0.0);
  const index_t matvecs = 60;  // Hutch++: 20 sketch columns cover the 10 outliers
  double hutchinson_error = 0, hutchpp_error = 0;
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    CAPTURE(seed);
    const linalg::Estimate plain = linalg::hutchinson_trace(op, matvecs, seed);
    const linalg::Estimate plus = linalg::hutchpp_trace(op, matvecs, seed);
    CHECK(plain.samples == matvecs);
    CHECK(plus.samples == matvecs / 3);
    CHECK(std::abs(plain.value - exact) <= 3 * plain.standard_error);
    CHECK(std::abs(plus.value - exact) <= 3 * plus.standard_error);
    CHECK(plus.standard_error * 10 < plain.standard_error);
    hutchinson_error += std::abs(plain.value - exact);
    hutchpp_error += std::abs(plus.value - exact);
  }
  CAPTURE(hutchinson_error / 5);
  CAPTURE(hutchpp_error / 5);
  CHECK(hutchpp_error * 10 < hutchinson_error);
}

TEST_CASE("Hutchinson's diagonal estimate has the error its variance predicts") {
  const index_t n = 300;
  const Vec M = with_spectrum(hessian_like_spectrum(n, 24), 25);
  DenseOperator op(M, n);
  const Vec exact = op.diagonal();
  const index_t probes = 200;
  const Vec estimate = linalg::hutchinson_diagonal(op, probes, 26);
  // E‖estimate − diag‖² = Σ_i Σ_{j≠i} M_ij² / probes.
  double off_diagonal = 0;
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < n; ++j)
      if (i != j) off_diagonal += M[sz(i * n + j)] * M[sz(i * n + j)];
  Vec error(sz(n));
  for (std::size_t i = 0; i < error.size(); ++i) error[i] = estimate[i] - exact[i];
  CHECK(norm(error) <= 2 * std::sqrt(off_diagonal / double(probes)));
}

TEST_CASE("stochastic Lanczos quadrature recovers moments, the density's mass and log det") {
  const index_t n = 500, probes = 20, steps = 40;
  const Vec spectrum = hessian_like_spectrum(n, 27);
  const Vec M = with_spectrum(spectrum, 28);
  DenseOperator op(M, n);
  const linalg::SpectralQuadrature q =
      linalg::slq(op, {.probes = probes, .steps = steps, .seed = 29});
  REQUIRE(q.nodes.size() == sz(probes));
  for (const Vec& w : q.weights)
    CHECK(std::accumulate(w.begin(), w.end(), 0.0) == doctest::Approx(1).epsilon(1e-12));

  // Gauss quadrature with 40 nodes is exact for polynomials of degree ≤ 79, so for k ≤ 2 the only
  // error is the probes' sampling error, which for Rademacher probes has the exact standard error
  // √(2 Σ_{i≠j} (M^k)_ij² / probes). Allow 4 of them.
  double trace1 = 0, trace2 = 0, frob4 = 0, diag1 = 0, diag2 = 0;  // ‖M‖_F² = tr M², ‖M²‖_F² = Σλ⁴
  for (double l : spectrum) trace1 += l, trace2 += l * l, frob4 += l * l * l * l;
  for (index_t i = 0; i < n; ++i) {
    double row = 0;  // (M²)_ii = Σ_j M_ij²
    for (index_t j = 0; j < n; ++j) row += M[sz(i * n + j)] * M[sz(i * n + j)];
    diag1 += M[sz(i * n + i)] * M[sz(i * n + i)];
    diag2 += row * row;
  }
  const double se1 = std::sqrt(2 * (trace2 - diag1) / double(probes));
  const double se2 = std::sqrt(2 * (frob4 - diag2) / double(probes));
  CHECK(linalg::slq_moment(q, 0).value == doctest::Approx(double(n)).epsilon(1e-12));
  const linalg::SpectralQuadrature gaussian =
      linalg::slq(op, {.probes = 2, .steps = 5, .probe = linalg::Probe::gaussian});
  CHECK(linalg::slq_moment(gaussian, 0).value == doctest::Approx(double(n)).epsilon(1e-12));
  CHECK(std::abs(linalg::slq_moment(q, 1).value - trace1) <= 4 * se1);
  CHECK(std::abs(linalg::slq_moment(q, 2).value - trace2) <= 4 * se2);

  // The density (σ = 0.1) integrates to 1, has mean tr M / n, and second moment tr M² / n + σ²
  // (Gaussian broadening adds its variance); the bulk [−0.01, 0.1] holds 490 of the 500
  // eigenvalues.
  const double sigma = 0.1, lo = -2, hi = 102, dt = 0.01;
  Vec grid;
  for (double t = lo; t <= hi; t += dt) grid.push_back(t);
  const Vec density = linalg::slq_density(q, grid, sigma);
  double mass = 0, mean = 0, second = 0, bulk = 0;
  for (std::size_t g = 0; g < grid.size(); ++g) {
    mass += density[g] * dt, mean += grid[g] * density[g] * dt,
        second += grid[g] * grid[g] * density[g] * dt;
    if (grid[g] < 1) bulk += density[g] * dt;
  }
  CHECK(mass == doctest::Approx(1).epsilon(1e-6));
  CHECK(double(n) * mean == doctest::Approx(linalg::slq_moment(q, 1).value).epsilon(1e-6));
  CHECK(double(n) * (second - sigma * sigma) ==
        doctest::Approx(linalg::slq_moment(q, 2).value).epsilon(1e-6));
  CHECK(std::abs(bulk - 490.0 / 500.0) <= 0.01);

  // log det(M + λI): log is smooth on [0.09, 100.1], so 40 nodes leave a negligible quadrature
  // error; the estimate's error is sampling error, a fraction of a percent with 20 probes.
  const double damping = 0.1;
  double exact_logdet = 0;
  for (double l : spectrum) exact_logdet += std::log(l + damping);
  const linalg::Estimate logdet = linalg::slq_logdet(q, damping);
  CAPTURE(logdet.value);
  CAPTURE(exact_logdet);
  CHECK(std::abs(logdet.value - exact_logdet) <= 0.03 * std::abs(exact_logdet));
  CHECK(std::abs(logdet.value - exact_logdet) <= 4 * logdet.standard_error);
  CHECK_THROWS_WITH_AS(linalg::slq_logdet(q, 0.0), doctest::Contains("raise the damping"), Error);
}
