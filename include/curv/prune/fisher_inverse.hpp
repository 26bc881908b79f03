// The inverse of the damped empirical Fisher F = λI + (1/m) Σᵢ gᵢgᵢᵀ of m per-example gradients
// over d prunable weights, in the three forms Optimal Brain Surgeon is run with (Singh & Alistarh
// 2020, WoodFisher; Frantar et al. 2021, M-FAC). All three give what OBS needs: the diagonal of
// F⁻¹ and products F⁻¹x.
//   dense   F formed and inverted (float64, Cholesky): the reference, for small d
//   blocks  F restricted to consecutive blocks of B weights, or to one block per layer
//           (WoodFisher's block approximations):
//           each block's inverse is the m rank-one Sherman–Morrison updates of I/λ — computed in
//           their closed form (curvature/lowrank.hpp's StaticMfac on the block) when B > m, or
//           as the B×B block formed and inverted by Cholesky when B ≤ m (the same matrix,
//           O(mB² + B³) instead of O(m²B + m³))
//   mfac    static M-FAC over all d weights: the m×m Gram form, O(m²d) time, O(md) memory (in
//           float64, or float32 for the O(m²d) part)
// With one block of all d weights, blocks and mfac are the dense F exactly (tests/test_prune.cpp).
// A fourth form takes F from a K-FAC operator instead of gradients (kfac_fisher_inverse): K + λI,
// K's blocks covering the prunable weights and their layers' biases; OBS then sees the
// weights' part of (K + λI)⁻¹ — its diagonal and its columns through the eigenbases — and leaves
// the biases where they are.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "curv/core/shape.hpp"

namespace curv {

class KfacOperator;

class FisherInverse {
 public:
  virtual ~FisherInverse() = default;
  virtual std::string name() const = 0;
  virtual index_t size() const = 0;
  // [F⁻¹]_qq for every q.
  virtual std::vector<double> inverse_diagonal() const = 0;
  // out = F⁻¹ x (size d).
  virtual std::vector<double> solve(const std::vector<double>& x) const = 0;
};

// gradients: row-major (m, d). Throws a one-line curv::Error for m < 1, λ ≤ 0, a block size < 1 or
// non-finite gradients.
std::unique_ptr<FisherInverse> dense_fisher_inverse(const std::vector<double>& gradients, index_t m,
                                                    index_t d, double damping);
std::unique_ptr<FisherInverse> block_fisher_inverse(const std::vector<double>& gradients, index_t m,
                                                    index_t d, double damping, index_t block);
// Blocks of the given sizes (summing to d), e.g. one per layer: WoodFisher's per-layer blocks.
std::unique_ptr<FisherInverse> block_fisher_inverse(const std::vector<double>& gradients, index_t m,
                                                    index_t d, double damping,
                                                    const std::vector<index_t>& sizes);
std::unique_ptr<FisherInverse> mfac_fisher_inverse(std::vector<double> gradients, index_t m,
                                                   index_t d, double damping);
// The same in float32 for the O(m²d) work (float64 for the m×m factorization and every sum):
// about twice as fast, with [F⁻¹]_qq accurate to about 1e-7·F_qq/λ relative (fisher_inverse.cpp).
std::unique_ptr<FisherInverse> mfac_fisher_inverse(std::vector<float> gradients, index_t m,
                                                   index_t d, double damping);
// `weights`: the prunable entries' positions in K's vector, in order. K must outlive the result.
std::unique_ptr<FisherInverse> kfac_fisher_inverse(KfacOperator& K, std::vector<index_t> weights,
                                                   double damping);

}  // namespace curv
