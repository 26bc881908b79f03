// K-FAC and EK-FAC operators: block diagonal over layers, each block a KroneckerBlock
// (curvature/kronecker.hpp) with factors from KfacStatistics (curvature/kfac_statistics.hpp).
//
//   kfac    Martens & Grosse 2015 (linear), Grosse & Martens 2016 (conv2d, KFC), tokens folded
//           into the batch for linear layers of sequence models ("expand").
//   ekfac   George et al. 2018: K-FAC's eigenbasis with the scaling re-fitted to the diagonal
//           of the true block in that basis.
// The output factor G comes from the loss's square-root factor (curvature/data.hpp):
//   ggn  exact (type-2): all C columns of ∇²ℓₙ's square root are pulled back
//   ef   empirical Fisher: ∇ℓₙ itself
//   mc   Monte-Carlo Fisher: `samples` labels per example drawn from the model
// K-FAC covers linear and conv2d layers only; a subset containing other parameters (norms,
// embeddings) is refused with an error naming them (optimizers give those their own rule).
//
// Damping follows the one contract of linalg/operator.hpp: inverse_mv(v, λ) is (M + λI)⁻¹ and
// logdet(λ) is log det(M + λI), both exact in each block's eigenbasis. Martens & Grosse's
// factored Tikhonov damping is a different matrix, and so an operator of its own
// (factored_damping below, named "kfac-factored").
#pragma once

#include <functional>
#include <memory>

#include "curv/curvature/data.hpp"
#include "curv/curvature/kronecker.hpp"
#include "curv/curvature/subset.hpp"
#include "curv/linalg/operator.hpp"

namespace curv {

struct KfacOptions {
  FactorKind factors = FactorKind::GGN;
  index_t samples = 1;  // mc: labels drawn per example
  std::uint64_t seed = 0;
};

class KfacOperator : public LinearOperator {
 public:
  // Blocks must cover the subset exactly (each weight and bias once).
  KfacOperator(std::string name, ParamSubset subset, std::vector<KroneckerBlock> blocks);

  std::string name() const override { return name_; }
  void mv(const double* v, double* out) override;
  void inverse_mv(const double* v, double damping, double* out) override;
  std::vector<double> diagonal() override;
  // The diagonal of (M + λI)⁻¹, exact through each block's eigenbasis (OBS's [F⁻¹]_qq).
  std::vector<double> inverse_diagonal(double damping) override;
  // Each block's symmetric root Q (S + λ)^(-1/2) Qᵀ.
  void inverse_root_mv(const double* v, double damping, double* out) override;
  double trace() override;
  double logdet(double damping) override;
  Eigenpairs eigendecomposition() override;
  bool has_inverse() const override { return true; }
  bool has_diagonal() const override { return true; }

  const ParamSubset& subset() const { return subset_; }
  std::vector<KroneckerBlock>& blocks() { return blocks_; }
  const std::vector<KroneckerBlock>& blocks() const { return blocks_; }

  // scale·M + diag(d) when d (of this operator's size) is constant within each block: every
  // block keeps its eigenbasis and its scaling becomes scale·S + d_block, so inverses and
  // log-determinants stay exact. Null when d varies within a block; `why` then names the block.
  std::unique_ptr<KfacOperator> shifted(double scale, const std::vector<double>& d,
                                        std::string* why = nullptr) const;

 private:
  struct Place {
    index_t w = -1, b = -1;  // where the block's weight and bias sit in the subset vector
  };
  // out = ⊕ᵢ apply(block i) on v's blocks, each gathered to Ŵ layout and scattered back.
  void blockwise(const double* v, double* out,
                 const std::function<void(KroneckerBlock&, const double*, double*)>& apply);
  // V̂ = [W | b] of block i from a subset vector, and back.
  void gather(std::size_t i, const double* v, double* V) const;
  void scatter(std::size_t i, const double* V, double* out) const;

  std::string name_;
  ParamSubset subset_;
  std::vector<KroneckerBlock> blocks_;
  std::vector<Place> places_;
  std::vector<double> block_in_, block_out_;  // one block's Ŵ, reused across calls
};

// Martens & Grosse's factored Tikhonov damping with π-adjustment at strength γ > 0, as its own
// matrix: each block's factors become A + π√γ I and G + √γ/π I, π = √((tr A / din) / (tr G /
// out)) of the undamped factors, so inverse_mv(v, 0) is (A + π√γ I)⁻¹ ⊗ (G + √γ/π I)⁻¹ v — the
// K-FAC optimizer's classic step — and inverse_mv(v, λ) adds λI on top as for any operator.
// K-FAC blocks only (an EK-FAC re-fit has no factors to damp). With pi_adjusted false, π = 1:
// A + √γ I and G + √γ I (the form WoodFisher's K-FAC pruner uses).
std::unique_ptr<KfacOperator> factored_damping(const KfacOperator& kfac, double gamma,
                                               bool pi_adjusted = true);

// Factors over all batches of `data` for the layers in `subset`.
template <class T>
std::unique_ptr<KfacOperator> make_kfac(CurvatureData<T>& data, const ParamSubset& subset,
                                        const KfacOptions& opt);
// K-FAC's blocks with the re-fitted scaling (one more pass of the same sweeps). Damping is eigen.
template <class T>
std::unique_ptr<KfacOperator> make_ekfac(CurvatureData<T>& data, const ParamSubset& subset,
                                         const KfacOptions& opt);

}  // namespace curv
