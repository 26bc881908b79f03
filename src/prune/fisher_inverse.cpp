#include "curv/prune/fisher_inverse.hpp"

#include <cblas.h>

#include <cmath>

#include "curv/core/error.hpp"
#include "curv/curvature/kfac.hpp"
#include "curv/curvature/lowrank.hpp"
#include "curv/kernels/gemm.hpp"
#include "curv/kernels/parallel.hpp"
#include "curv/linalg/dense.hpp"

namespace curv {
namespace {

// Column ranges for the O(m·d) passes over W: wide enough that each row's stretch is many cache
// lines, narrow enough to split LeNet-5's 61 k weights across the cores.
constexpr index_t kColumnGrain = 4096;

void check(index_t m, index_t d, double damping, std::size_t values) {
  CURV_CHECK(m >= 1, "OBS: expected at least 1 per-example gradient (m), found ", m);
  CURV_CHECK(d >= 1, "OBS: expected at least 1 prunable weight, found ", d);
  CURV_CHECK(std::isfinite(damping) && damping > 0, "OBS: expected a damping λ > 0, found ",
             damping);
  CURV_CHECK(values == std::size_t(m * d), "OBS: expected m·d = ", m * d,
             " gradient values, found ", values);
}

class DenseInverse final : public FisherInverse {
 public:
  DenseInverse(const std::vector<double>& G, index_t m, index_t d, double damping) : d_(d) {
    // F = GᵀG/m + λI as one symmetric rank-m update (G: (m, d), rows the gradients).
    std::vector<double> F(static_cast<std::size_t>(d * d), 0.0);
    syrk_lower(d, m, 1.0 / double(m), G.data(), 0.0, F.data(), d);
    mirror_triangle(F.data(), d);
    for (index_t a = 0; a < d; ++a) F[std::size_t(a * d + a)] += damping;
    const std::vector<double> L = linalg::cholesky(F, d);
    // F⁻¹ = (L Lᵀ)⁻¹ I (the reference: small d only).
    inv_.assign(std::size_t(d * d), 0.0);
    for (index_t q = 0; q < d; ++q) inv_[std::size_t(q * d + q)] = 1;
    linalg::cholesky_solve(L, d, inv_.data(), d);
  }
  std::string name() const override { return "dense"; }
  index_t size() const override { return d_; }
  std::vector<double> inverse_diagonal() const override {
    std::vector<double> out(static_cast<std::size_t>(d_));
    for (index_t q = 0; q < d_; ++q) out[std::size_t(q)] = inv_[std::size_t(q * d_ + q)];
    return out;
  }
  std::vector<double> solve(const std::vector<double>& x) const override {
    std::vector<double> out(static_cast<std::size_t>(d_), 0.0);
    for (index_t r = 0; r < d_; ++r)
      for (index_t c = 0; c < d_; ++c)
        out[std::size_t(r)] += inv_[std::size_t(r * d_ + c)] * x[std::size_t(c)];
    return out;
  }

 private:
  index_t d_;
  std::vector<double> inv_;
};

class MfacInverse final : public FisherInverse {
 public:
  MfacInverse(std::vector<double> G, index_t m, index_t d, double damping)
      : mfac_(std::move(G), m, d, damping) {}
  std::string name() const override { return "mfac"; }
  index_t size() const override { return mfac_.size(); }
  std::vector<double> inverse_diagonal() const override { return mfac_.inverse_diagonal(); }
  std::vector<double> solve(const std::vector<double>& x) const override { return mfac_.solve(x); }

 private:
  StaticMfac mfac_;
};

// Static M-FAC with the O(m²d) work in float32 — the Gram matrix by ssyrk and W = L⁻¹G by strsm —
// and the m×m Cholesky factorization and every sum over the m rows in float64. With
// M = λm I + GGᵀ = LLᵀ, F⁻¹ = (I − GᵀM⁻¹G)/λ = (I − WᵀW)/λ, so
//   [F⁻¹]_qq = (1 − Σᵢ W_iq²)/λ   and   F⁻¹x = (x − Wᵀ(Wx))/λ.
// Where the gradients nearly span e_q, 1 − Σᵢ W_iq² ≈ λ/F_qq cancels: its relative error is
// about 1e-7·F_qq/λ, so float32 suits a damping well above 1e-7 of the Fisher's diagonal; the
// float64 form is the reference (curv bench --prune prints how far the two scores are apart).
class MfacInverseFloat final : public FisherInverse {
 public:
  MfacInverseFloat(std::vector<float> G, index_t m, index_t d, double damping)
      : m_(m), d_(d), lambda_(damping), W_(std::move(G)) {
    std::vector<float> K(static_cast<std::size_t>(m * m));
    cblas_ssyrk(CblasRowMajor, CblasLower, CblasNoTrans, int(m), int(d), 1.0f, W_.data(), int(d),
                0.0f, K.data(), int(m));
    std::vector<double> M(static_cast<std::size_t>(m * m), 0.0);
    for (index_t i = 0; i < m; ++i)
      for (index_t j = 0; j <= i; ++j)
        M[std::size_t(i * m + j)] = M[std::size_t(j * m + i)] = double(K[std::size_t(i * m + j)]);
    const std::vector<double> L = linalg::cholesky(M, m, double(m) * damping);
    std::vector<float> Lf(L.begin(), L.end());
    cblas_strsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, int(m), int(d),
                1.0f, Lf.data(), int(m), W_.data(), int(d));
    // [F⁻¹]_qq = (1 − Σᵢ W_iq²)/λ, split over column ranges: each thread owns its q's.
    diagonal_.assign(std::size_t(d), 0.0);
    parallel_for(d, kColumnGrain, [&](index_t q0, index_t q1) {
      double* spanned = diagonal_.data() + q0;
      for (index_t i = 0; i < m; ++i) {
        const float* w = W_.data() + i * d + q0;
        for (index_t q = 0; q < q1 - q0; ++q) spanned[q] += double(w[q]) * double(w[q]);
      }
      for (index_t q = 0; q < q1 - q0; ++q) spanned[q] = (1.0 - spanned[q]) / damping;
    });
  }
  std::string name() const override { return "mfac-float32"; }
  index_t size() const override { return d_; }
  std::vector<double> inverse_diagonal() const override { return diagonal_; }
  std::vector<double> solve(const std::vector<double>& x) const override {
    std::vector<double> y(static_cast<std::size_t>(m_)), out = x;
    parallel_for(m_, 1, [&](index_t i0, index_t i1) {  // y = Wx, a row each
      for (index_t i = i0; i < i1; ++i) {
        const float* w = W_.data() + i * d_;
        double s = 0;
        for (index_t q = 0; q < d_; ++q) s += double(w[q]) * x[std::size_t(q)];
        y[std::size_t(i)] = s;
      }
    });
    parallel_for(d_, kColumnGrain, [&](index_t q0, index_t q1) {  // (x − Wᵀy)/λ, by columns
      for (index_t i = 0; i < m_; ++i) {
        const float* w = W_.data() + i * d_;
        const double yi = y[std::size_t(i)];
        for (index_t q = q0; q < q1; ++q) out[std::size_t(q)] -= double(w[q]) * yi;
      }
      for (index_t q = q0; q < q1; ++q) out[std::size_t(q)] /= lambda_;
    });
    return out;
  }

 private:
  index_t m_, d_;
  double lambda_;
  std::vector<float> W_;
  std::vector<double> diagonal_;
};

class BlockInverse final : public FisherInverse {
 public:
  // Each block's inverse by whichever route is cheaper: with b ≤ m weights, F_b formed from the
  // gradients (O(m b²)) and inverted by Cholesky (O(b³)); with b > m, the Gram form of the m
  // Sherman–Morrison updates (O(m² b)). Both are the same matrix (F_b)⁻¹.
  BlockInverse(const std::vector<double>& G, index_t m, index_t d, double damping,
               const std::vector<index_t>& sizes)
      : d_(d) {
    index_t s = 0;
    for (const index_t b : sizes) {
      std::vector<double> Gb(static_cast<std::size_t>(m * b));
      for (index_t i = 0; i < m; ++i)
        std::copy(G.begin() + i * d + s, G.begin() + i * d + s + b, Gb.begin() + i * b);
      if (b <= m)
        blocks_.push_back(std::make_unique<DenseInverse>(Gb, m, b, damping));
      else
        blocks_.push_back(std::make_unique<MfacInverse>(std::move(Gb), m, b, damping));
      s += b;
    }
  }
  std::string name() const override { return "blocks"; }
  index_t size() const override { return d_; }
  std::vector<double> inverse_diagonal() const override {
    std::vector<double> out;
    for (const auto& b : blocks_) {
      const auto part = b->inverse_diagonal();
      out.insert(out.end(), part.begin(), part.end());
    }
    return out;
  }
  std::vector<double> solve(const std::vector<double>& x) const override {
    std::vector<double> out(static_cast<std::size_t>(d_));
    index_t s = 0;
    for (const auto& b : blocks_) {
      const index_t n = b->size();
      const std::vector<double> part =
          b->solve(std::vector<double>(x.begin() + s, x.begin() + s + n));
      std::copy(part.begin(), part.end(), out.begin() + s);
      s += n;
    }
    return out;
  }

 private:
  index_t d_;
  std::vector<std::unique_ptr<FisherInverse>> blocks_;
};

class KfacInverse final : public FisherInverse {
 public:
  KfacInverse(KfacOperator& K, std::vector<index_t> weights, double damping)
      : K_(K), weights_(std::move(weights)), damping_(damping) {
    const std::vector<double> all = K.inverse_diagonal(damping);
    for (index_t q : weights_) diagonal_.push_back(all[std::size_t(q)]);
  }
  std::string name() const override { return "kfac"; }
  index_t size() const override { return index_t(weights_.size()); }
  std::vector<double> inverse_diagonal() const override { return diagonal_; }
  std::vector<double> solve(const std::vector<double>& x) const override {
    std::vector<double> full(static_cast<std::size_t>(K_.size()), 0.0), out(full.size());
    for (std::size_t j = 0; j < weights_.size(); ++j) full[std::size_t(weights_[j])] = x[j];
    K_.inverse_mv(full.data(), damping_, out.data());
    std::vector<double> w(weights_.size());
    for (std::size_t j = 0; j < weights_.size(); ++j) w[j] = out[std::size_t(weights_[j])];
    return w;
  }

 private:
  KfacOperator& K_;
  std::vector<index_t> weights_;
  double damping_;
  std::vector<double> diagonal_;
};

}  // namespace

std::unique_ptr<FisherInverse> kfac_fisher_inverse(KfacOperator& K, std::vector<index_t> weights,
                                                   double damping) {
  // λ = 0 is for blocks whose own factors are damped (curvature/kfac.hpp, factored_damping).
  CURV_CHECK(std::isfinite(damping) && damping >= 0, "OBS: expected a damping λ >= 0, found ",
             damping);
  for (index_t q : weights)
    CURV_CHECK(q >= 0 && q < K.size(), "OBS with ", K.name(), ": expected weight positions in 0..",
               K.size() - 1, ", found ", q);
  return std::make_unique<KfacInverse>(K, std::move(weights), damping);
}

std::unique_ptr<FisherInverse> dense_fisher_inverse(const std::vector<double>& gradients, index_t m,
                                                    index_t d, double damping) {
  check(m, d, damping, gradients.size());
  return std::make_unique<DenseInverse>(gradients, m, d, damping);
}

std::unique_ptr<FisherInverse> block_fisher_inverse(const std::vector<double>& gradients, index_t m,
                                                    index_t d, double damping, index_t block) {
  check(m, d, damping, gradients.size());
  CURV_CHECK(block >= 1, "OBS: expected a block size >= 1, found ", block);
  std::vector<index_t> sizes;
  for (index_t s = 0; s < d; s += block) sizes.push_back(std::min(block, d - s));
  return std::make_unique<BlockInverse>(gradients, m, d, damping, sizes);
}

std::unique_ptr<FisherInverse> block_fisher_inverse(const std::vector<double>& gradients, index_t m,
                                                    index_t d, double damping,
                                                    const std::vector<index_t>& sizes) {
  check(m, d, damping, gradients.size());
  index_t total = 0;
  for (const index_t b : sizes) {
    CURV_CHECK(b >= 1, "OBS: expected block sizes >= 1, found ", b);
    total += b;
  }
  CURV_CHECK(total == d, "OBS: expected blocks covering the ", d, " weights, found ", total);
  return std::make_unique<BlockInverse>(gradients, m, d, damping, sizes);
}

std::unique_ptr<FisherInverse> mfac_fisher_inverse(std::vector<double> gradients, index_t m,
                                                   index_t d, double damping) {
  check(m, d, damping, gradients.size());
  return std::make_unique<MfacInverse>(std::move(gradients), m, d, damping);
}

std::unique_ptr<FisherInverse> mfac_fisher_inverse(std::vector<float> gradients, index_t m,
                                                   index_t d, double damping) {
  check(m, d, damping, gradients.size());
  for (float g : gradients)
    CURV_CHECK(std::isfinite(g), "OBS: expected finite gradients, found ", g);
  return std::make_unique<MfacInverseFloat>(std::move(gradients), m, d, damping);
}

}  // namespace curv
