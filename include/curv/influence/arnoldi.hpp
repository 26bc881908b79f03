// Arnoldi influence (Schioppa et al. 2022, "Scaling up influence functions"): n Arnoldi
// iterations on H (each product on the whole of the curvature's examples, or, as in the paper,
// on the next of its batches), the p Ritz pairs of largest magnitude kept, and scores computed
// in those p dimensions: s(z, z') = Σᵢ (uᵢᵀ∇m(z'))(uᵢᵀ∇ℓ(z)) / (θᵢ + λ). Its cost after the n
// products is one projection per gradient, however many queries there are, which is what makes
// self-influence of a whole training set affordable.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "curv/curvature/model_operators.hpp"
#include "curv/influence/metric.hpp"

namespace curv::influence {

struct ArnoldiOptions {
  index_t iterations = 200;  // n: Krylov dimension (capped at H's size)
  index_t rank = 50;         // p ≤ n: eigenpairs kept
  std::uint64_t seed = 0;    // the Gaussian start vector
  // Keep the p largest values rather than the largest magnitudes (the paper's choice, which an
  // indefinite Hessian needs): for a positive semi-definite H such as the GGN they are the same
  // pairs, except that products on fresh batches make H slightly inconsistent from step to step
  // and give spurious negative Ritz values, which this keeps out.
  bool positive = false;
};

struct ArnoldiReport {
  index_t products = 0;
  double product_seconds = 0;  // inside H's products, of the whole Arnoldi run
  std::vector<double> values;  // the p kept, largest magnitude first
  bool breakdown = false;      // the Krylov space became invariant: fewer, exact pairs
  std::string message;
};

// The EigenMetric of H's top-p pairs with damping λ. Throws a one-line curv::Error for p > n,
// p < 1, or a kept θ with θ + λ ≤ 0 (an indefinite Hessian too little damped).
std::unique_ptr<EigenMetric> arnoldi_metric(LinearOperator& H, const ArnoldiOptions& options,
                                            double damping, ArnoldiReport* report = nullptr);

// H·v on the next batch of the operator's data at every product, cycling through its batches:
// the mean-loss curvature of one fresh batch per Arnoldi step, as jax-influence draws them.
template <class T>
class FreshBatchOperator : public LinearOperator {
 public:
  FreshBatchOperator(ModelOperator<T>& op, index_t batches);
  ~FreshBatchOperator() override;  // returns the operator to every batch
  std::string name() const override { return op_.name() + " (a fresh batch per product)"; }
  void mv(const double* v, double* out) override;

 private:
  ModelOperator<T>& op_;
  index_t batches_, next_ = 0;
};

extern template class FreshBatchOperator<float>;
extern template class FreshBatchOperator<double>;

}  // namespace curv::influence
