// The curvature matrices of a model's loss, applied matrix-free through the engine's sweeps
// (nn/objective.hpp), on a parameter subset, over every batch of a CurvatureData:
//   hessian   H v: forward-over-reverse (Pearlmutter's R-operator), exact
//   ggn       G v = Jᵀ (∇²ℓ/N) J v: a tangent sweep, the loss's output Hessian, a reverse sweep
//   ef        (1/N) Σₙ ∇ℓₙ ∇ℓₙᵀ v = Jᵀ Bₙ J v with the rank-one Bₙ = ∇ℓₙ∇ℓₙᵀ/N: same two sweeps
//   fisher    Jᵀ Sₙ Sₙᵀ J v with Sₙ sampled once per operator (`samples` labels per example)
// Vectors live in float64; the model's dtype is what the sweeps run in. All refer to the mean
// loss over the data's examples, or over one batch's (use_batch: the single-batch operators
// stochastic solvers such as LiSSA draw afresh at each step). Every product first checks that
// θ has not changed since the data was recorded (CurvatureData::check_current).
//
// Gauss-Newton-type operators (not the Hessian) also have an exact diagonal: each column of
// the output factor is pulled back with per-example parameter gradients and squared, the
// "square-root Hessian backpropagation" of BackPACK's DiagGGN — no sampling involved.
#pragma once

#include <memory>
#include <string>

#include "curv/curvature/compose.hpp"
#include "curv/curvature/data.hpp"
#include "curv/curvature/subset.hpp"
#include "curv/linalg/operator.hpp"

namespace curv {

enum class ModelCurvature { Hessian, GGN, EF, Fisher };

template <class T>
class ModelOperator : public LinearOperator {
 public:
  ModelOperator(CurvatureData<T>& data, ModelCurvature kind, ParamSubset subset,
                index_t samples = 1, std::uint64_t seed = 0);
  std::string name() const override;
  void mv(const double* v, double* out) override;
  std::vector<double> diagonal() override;  // not for the Hessian
  bool has_diagonal() const override { return kind_ != ModelCurvature::Hessian; }
  const ParamSubset& subset() const { return subset_; }
  // Restricts products to batch b of the data (the mean loss over that batch alone), or with
  // b = -1 back to every batch.
  void use_batch(index_t b);
  index_t batch() const { return batch_; }
  // Products applied so far (each is one product per batch): what solvers are charged.
  index_t products() const { return products_; }

 private:
  FactorKind factor_kind() const;
  // The batches a product sums over, and batch b's weight in it: every batch at N_b/N, or the
  // one selected by use_batch at 1.
  index_t first_batch() const { return batch_ < 0 ? 0 : batch_; }
  index_t end_batch() const { return batch_ < 0 ? data_.batches() : batch_ + 1; }
  double batch_weight(index_t b) const { return batch_ < 0 ? data_.weight(b) : 1.0; }
  CurvatureData<T>& data_;
  ModelCurvature kind_;
  ParamSubset subset_;
  index_t samples_;
  std::uint64_t seed_;
  index_t products_ = 0;
  index_t batch_ = -1;
  std::vector<double> full_in_, full_out_;
  std::vector<T> v_, r_, jv_, u_;
};

// Pᵀ M P: the operator `inner` (on the full flat vector) restricted to a subset.
class RestrictedOperator : public LinearOperator {
 public:
  RestrictedOperator(std::unique_ptr<LinearOperator> inner, ParamSubset subset);
  std::string name() const override { return inner_->name() + "|subset"; }
  void mv(const double* v, double* out) override;

 private:
  std::unique_ptr<LinearOperator> inner_;
  ParamSubset subset_;
  std::vector<double> full_in_, full_out_;
};

// diag(M₁, …, M_k): independent blocks on consecutive slices of the vector (e.g. one exact GGN
// block per layer). Inverses, diagonals, traces and log-determinants are those of the blocks,
// each of which must provide them.
class BlockDiagonalOperator : public LinearOperator {
 public:
  explicit BlockDiagonalOperator(std::vector<std::unique_ptr<LinearOperator>> blocks,
                                 std::string name = "blockdiag");
  std::string name() const override { return name_; }
  void mv(const double* v, double* out) override;
  void inverse_mv(const double* v, double damping, double* out) override;
  std::vector<double> diagonal() override;
  double trace() override;
  double logdet(double damping) override;
  bool has_inverse() const override;
  bool has_diagonal() const override;
  LinearOperator& block(index_t i) { return *blocks_[std::size_t(i)]; }

 private:
  std::vector<std::unique_ptr<LinearOperator>> blocks_;
  std::string name_;
};

// One ModelOperator per layer of the subset (parameters sharing a prefix before the last '.'),
// composed block-diagonally: the layer-wise blocks of H, G, EF or the Fisher.
template <class T>
std::unique_ptr<BlockDiagonalOperator> layer_blocks(CurvatureData<T>& data, ModelCurvature kind,
                                                    const ParamSubset& subset, index_t samples = 1,
                                                    std::uint64_t seed = 0);

extern template class ModelOperator<float>;
extern template class ModelOperator<double>;

}  // namespace curv
