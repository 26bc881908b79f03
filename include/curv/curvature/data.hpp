// CurvatureData: the examples a curvature matrix is defined on — a model, its loss and a fixed
// list of batches — with each batch's forward pass recorded once, so that the hundreds of
// products a solver asks for reuse one recording per batch.
//
// Every operator refers to the mean loss over all examples, L = (1/N) Σₙ ℓₙ: a product over
// several batches is the size-weighted mean of the per-batch products (batch b weighs N_b/N).
//
// Output factors. Gauss-Newton-type matrices are Jᵀ B J with a per-example output block Bₙ, and
// each comes with a factor Sₙ:(C,K), Bₙ = Sₙ Sₙᵀ, whose columns, pulled back through the network
// one at a time, give exact diagonals and K-FAC's output-gradient factor:
//   ggn   Bₙ = ∇²ℓₙ/N (the loss's closed-form square root, K = C): the generalized Gauss-Newton
//   ef    Bₙ = ∇ℓₙ∇ℓₙᵀ/N (K = 1): the empirical Fisher
//   mc    Bₙ = Sₙ Sₙᵀ with M labels sampled from the model (K = M), E[Bₙ] = ∇²ℓₙ/N: the
//         Monte-Carlo Fisher. Samples are drawn once, from the seed, so the operator is fixed.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "curv/curvature/kinds.hpp"
#include "curv/data/batch.hpp"
#include "curv/nn/objective.hpp"

namespace curv {

template <class T>
class CurvatureData {
 public:
  // Takes the batches and records each one's forward pass. The model must outlive this object.
  CurvatureData(const Model<T>& model, std::vector<Batch<T>> batches);

  const Model<T>& model() const { return model_; }
  index_t parameters() const { return model_.params().size(); }
  index_t batches() const { return static_cast<index_t>(parts_.size()); }
  index_t examples() const { return examples_; }
  // N_b / N: the weight of batch b in every product.
  double weight(index_t b) const;
  Objective<T>& objective(index_t b) { return *parts_[static_cast<std::size_t>(b)]->objective; }
  const Batch<T>& batch(index_t b) const { return parts_[static_cast<std::size_t>(b)]->batch; }
  // The mean loss over all examples.
  double loss() const;

  // Sₙ for every example of batch b: (N_b, C, K), computed on first use and kept. For kind mc,
  // `samples` labels per example are drawn from a generator seeded by (seed, b).
  const Tensor<T>& output_factor(index_t b, FactorKind kind, index_t samples = 1,
                                 std::uint64_t seed = 0);
  // K for a kind: C (ggn), 1 (ef) or samples (mc).
  index_t factor_columns(FactorKind kind, index_t samples) const;

  // Sets the observer that batch b's sweeps report layer events to when they ask for it
  // (Objective::pullback/gradient with notify_observer); null removes it.
  void set_observer(index_t b, LayerObserver<T>* observer) {
    objective(b).tape().set_observer(observer);
  }

 private:
  struct Part {
    Batch<T> batch;
    std::unique_ptr<Loss<T>> loss;
    std::unique_ptr<Objective<T>> objective;
    Tensor<T> factor;
    FactorKind factor_kind{};
    index_t factor_samples = 0;
    std::uint64_t factor_seed = 0;
  };
  const Model<T>& model_;
  std::vector<std::unique_ptr<Part>> parts_;
  index_t examples_ = 0;
};

extern template class CurvatureData<float>;
extern template class CurvatureData<double>;

}  // namespace curv
