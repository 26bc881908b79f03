// GEMM beta semantics and the im2col family, against direct loops.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <vector>

#include <cmath>
#include "curv/core/rng.hpp"

#include "curv/kernels/exp.hpp"
#include "curv/kernels/finite.hpp"
#include "curv/kernels/gemm.hpp"
#include "curv/kernels/im2col.hpp"
#include "curv/kernels/parallel.hpp"

using namespace curv;

TEST_CASE("gemm: transposes and beta accumulation match a triple loop") {
  Rng rng(2);
  const index_t m = 5, n = 4, k = 3;
  for (Trans ta : {Trans::No, Trans::Yes})
    for (Trans tb : {Trans::No, Trans::Yes}) {
      std::vector<double> a(m * k), b(k * n), c(m * n), ref(m * n);
      for (auto* v : {&a, &b, &c})
        for (double& x : *v) x = rng.normal();
      for (index_t i = 0; i < m; ++i)
        for (index_t j = 0; j < n; ++j) {
          double s = 0;
          for (index_t l = 0; l < k; ++l)
            s += (ta == Trans::No ? a[i * k + l] : a[l * m + i]) *
                 (tb == Trans::No ? b[l * n + j] : b[j * k + l]);
          ref[i * n + j] = 2 * s + 0.5 * c[i * n + j];
        }
      gemm(ta, tb, m, n, k, 2.0, a.data(), b.data(), 0.5, c.data());
      for (index_t i = 0; i < m * n; ++i) CHECK(c[i] == doctest::Approx(ref[i]).epsilon(1e-13));
    }
}

TEST_CASE("record_gemms: the float GEMMs a step calls, from any thread, replayed alone") {
  std::vector<float> a(64 * 64, 1.0f), b(64 * 64, 1.0f), c(64 * 64, 0.0f);
  std::vector<double> ad(16, 1.0), cd(16, 0.0);
  const auto calls = record_gemms([&] {
    gemm(Trans::No, Trans::Yes, 8, 16, 32, 1.0f, a.data(), b.data(), 0.0f, c.data());
    gemm(Trans::No, Trans::No, 4, 4, 4, 1.0, ad.data(), ad.data(), 0.0, cd.data());  // float only
    parallel_for(4, 1, [&](index_t lo, index_t hi) {  // four more, one per task
      for (index_t i = lo; i < hi; ++i)
        gemm(Trans::Yes, Trans::No, 2, 3, 5, 1.0f, a.data() + i * 10, b.data() + i * 15, 1.0f,
             c.data() + 1000 + i * 6);
    });
  });
  REQUIRE(calls.size() == 5);
  const GemmCall& first = calls[0];
  CHECK((first.ta == Trans::No && first.tb == Trans::Yes));
  CHECK((first.m == 8 && first.n == 16 && first.k == 32));
  CHECK((first.lda == 32 && first.ldb == 32 && first.ldc == 16 && !first.accumulate));
  for (std::size_t i = 1; i < calls.size(); ++i)
    CHECK((calls[i].ta == Trans::Yes && calls[i].m == 2 && calls[i].n == 3 && calls[i].k == 5 &&
           calls[i].lda == 2 && calls[i].accumulate));
  GemmReplay replay(calls);
  replay();
  CHECK(replay.multiply_adds() == 8 * 16 * 32 + 4 * 2 * 3 * 5);
  // Recording stops with f: nothing is logged outside it.
  gemm(Trans::No, Trans::No, 2, 2, 2, 1.0f, a.data(), b.data(), 0.0f, c.data());
  CHECK(record_gemms([] {}).empty());
}

TEST_CASE("all_finite: a NaN or an infinity anywhere, in any lane or the tail, is found") {
  const float bad[] = {std::numeric_limits<float>::quiet_NaN(),
                       std::numeric_limits<float>::infinity(),
                       -std::numeric_limits<float>::infinity()};
  // Lengths around the 16 lanes and the threads' chunks of 65,536.
  for (const index_t n :
       {index_t(0), index_t(1), index_t(15), index_t(16), index_t(17), index_t(65536 * 3 + 5)}) {
    CAPTURE(n);
    std::vector<float> x(std::size_t(n), 3.0e38f);  // large but finite: x·0 stays 0
    for (index_t i = 0; i < n; i += 2) x[std::size_t(i)] = -1e-38f;
    CHECK(all_finite(x.data(), n));
    for (const index_t at : {index_t(0), n / 2, n - 1}) {
      if (n == 0) continue;
      for (const float b : bad) {
        const float keep = x[std::size_t(at)];
        x[std::size_t(at)] = b;
        CHECK(!all_finite(x.data(), n));
        x[std::size_t(at)] = keep;
      }
    }
  }
  std::vector<double> d(100, 1.0);
  CHECK(all_finite(d.data(), 100));
  d[99] = std::numeric_limits<double>::quiet_NaN();
  CHECK(!all_finite(d.data(), 100));
}

TEST_CASE("im2col: patches, col2im is its adjoint, im2row is its transpose") {
  Rng rng(3);
  for (auto [stride, pad] : {std::pair<index_t, index_t>{1, 0}, {1, 2}, {2, 1}, {3, 0}}) {
    const ConvGeometry g = ConvGeometry::make(3, 2, 7, 6, 3, 2, stride, pad);
    const index_t K = g.cols(), P = g.positions();
    std::vector<double> x(g.n * g.c * g.h * g.w), cols(K * g.n * P), c(K * g.n * P),
        dx(x.size(), 0.0);
    for (double& v : x) v = rng.normal();
    for (double& v : c) v = rng.normal();
    im2col(g, x.data(), 0, g.n, cols.data());
    // Entry by entry against the definition.
    for (index_t n = 0; n < g.n; ++n)
      for (index_t ch = 0; ch < g.c; ++ch)
        for (index_t kh = 0; kh < g.kh; ++kh)
          for (index_t kw = 0; kw < g.kw; ++kw)
            for (index_t oh = 0; oh < g.oh; ++oh)
              for (index_t ow = 0; ow < g.ow; ++ow) {
                const index_t ih = oh * stride + kh - pad, iw = ow * stride + kw - pad;
                const double want = (ih >= 0 && ih < g.h && iw >= 0 && iw < g.w)
                                        ? x[((n * g.c + ch) * g.h + ih) * g.w + iw]
                                        : 0.0;
                CHECK(cols[((ch * g.kh + kh) * g.kw + kw) * g.n * P + n * P + oh * g.ow + ow] ==
                      want);
              }
    // ⟨c, im2col(x)⟩ = ⟨col2im(c), x⟩
    col2im_add(g, c.data(), 0, g.n, dx.data());
    double lhs = 0, rhs = 0;
    for (std::size_t i = 0; i < c.size(); ++i) lhs += c[i] * cols[i];
    for (std::size_t i = 0; i < x.size(); ++i) rhs += dx[i] * x[i];
    CHECK(lhs == doctest::Approx(rhs).epsilon(1e-12));
    // A chunk of images [1,3) gives the same patches as those images' part of the whole.
    std::vector<double> part(K * 2 * P);
    im2col(g, x.data(), 1, 3, part.data());
    for (index_t k = 0; k < K; ++k)
      for (index_t q = 0; q < 2 * P; ++q) CHECK(part[k * 2 * P + q] == cols[k * g.n * P + P + q]);
    std::vector<double> rows(g.rows() * K);
    im2row(g, x.data(), rows.data());
    for (index_t r = 0; r < g.rows(); ++r)
      for (index_t k = 0; k < K; ++k) CHECK(rows[r * K + k] == cols[k * g.n * P + r]);
  }
}

TEST_CASE("conv geometry: kernel larger than the padded input is an error") {
  CHECK_THROWS_WITH_AS(ConvGeometry::make(1, 1, 3, 3, 5, 5, 1, 0),
                       "conv2d: expected a kernel 5x5 to fit the padded input 3x3", Error);
}

TEST_CASE("fast exp: float within 2 ulp of exp on [-87, 88], double is std::exp") {
  double worst = 0;
  for (int i = 0; i <= 200000; ++i) {
    const float x = -87.0f + 175.0f * float(i) / 200000.0f;
    const double e = std::exp(double(x));
    const float ulp = std::nextafter(float(e), INFINITY) - float(e);
    worst = std::max(worst, std::abs(double(exp_approx(x)) - e) / double(ulp));
  }
  CHECK(worst <= 2.0);
  CHECK(exp_approx(-1000.0f) > 0.0f);  // clamped, never denormal or zero
  CHECK(std::isfinite(exp_approx(1000.0f)));
  CHECK(fast_exp(0.3) == std::exp(0.3));
}

TEST_CASE(
    "FlushDenormals: subnormal results are zero on the caller and TBB workers while it lives") {
  // volatile keeps the products at run time, under the floating-point mode being tested.
  static volatile float smallest_normal = std::numeric_limits<float>::min();
  auto halved = [] {
    volatile float y = smallest_normal * 0.5f;
    return float(y);
  };
  CHECK(halved() > 0);
  {
    const FlushDenormals flush;
    CHECK(halved() == 0);
    std::atomic<int> subnormal{0};
    parallel_for(1 << 16, 1 << 8, [&](index_t b, index_t e) {
      for (index_t i = b; i < e; ++i)
        if (halved() != 0) ++subnormal;
    });
    CHECK(subnormal == 0);
  }
  CHECK(halved() > 0);
}

TEST_CASE(
    "syrk_lower: lower triangle of alpha·AᵀA + beta·C, the upper left alone, tall inputs too") {
  Rng rng(5);
  // k = 12,305 rows is split across threads (KFC's tall patch matrices); k = 7 is not.
  for (index_t k : {index_t(7), index_t(12305)}) {
    CAPTURE(k);
    const index_t n = 20, ldc = 23;
    std::vector<double> a(std::size_t(k * n)), c(std::size_t(n * ldc));
    for (auto& v : a) v = rng.uniform() - 0.5;
    for (auto& v : c) v = rng.uniform();
    const std::vector<double> c0 = c;
    syrk_lower<double>(n, k, 0.75, a.data(), 0.5, c.data(), ldc);
    double worst = 0;
    for (index_t i = 0; i < n; ++i)
      for (index_t j = 0; j < ldc; ++j) {
        if (j > i) {
          CHECK(c[i * ldc + j] == c0[i * ldc + j]);
          continue;
        }
        double s = 0;
        for (index_t r = 0; r < k; ++r) s += a[r * n + i] * a[r * n + j];
        worst = std::max(worst, std::abs(c[i * ldc + j] - (0.75 * s + 0.5 * c0[i * ldc + j])) /
                                    (1 + std::abs(s)));
      }
    CHECK(worst < 1e-13);
  }
}

TEST_CASE(
    "mirror_triangle: one triangle copied onto the other, the source and diagonal unchanged") {
  // 1, 64 and 65 cover a single tile, an exact tile and a tile edge; 150 several partial tiles.
  for (index_t n : {index_t(1), index_t(64), index_t(65), index_t(150)})
    for (bool from_lower : {true, false}) {
      CAPTURE(n);
      CAPTURE(from_lower);
      std::vector<float> m(std::size_t(n * n));
      for (index_t i = 0; i < n * n; ++i) m[std::size_t(i)] = float(i);  // every entry distinct
      const std::vector<float> m0 = m;
      mirror_triangle(m.data(), n, from_lower);
      int wrong = 0;
      for (index_t i = 0; i < n; ++i)
        for (index_t j = 0; j < n; ++j) {
          const bool source = from_lower ? j <= i : j >= i;
          const float expected = source ? m0[i * n + j] : m0[j * n + i];
          wrong += m[i * n + j] != expected;
        }
      CHECK(wrong == 0);
    }
}
