#include "curv/curvature/data.hpp"

#include <cmath>

namespace curv {

template <class T>
CurvatureData<T>::CurvatureData(const Model<T>& model, std::vector<Batch<T>> batches)
    : model_(model) {
  CURV_CHECK(!batches.empty(), "curvature: expected at least one batch of examples, found none");
  for (auto& b : batches) {
    auto part = std::make_unique<Part>();
    part->batch = std::move(b);
    part->loss = make_loss<T>(model.loss());
    part->objective = std::make_unique<Objective<T>>(model, *part->loss);
    CURV_CHECK(part->batch.labelled(),
               "curvature: expected batches with targets, found inputs alone");
    part->objective->set_batch(part->batch.x.view(), part->batch.targets());
    examples_ += part->objective->examples();
    parts_.push_back(std::move(part));
  }
}

template <class T>
double CurvatureData<T>::weight(index_t b) const {
  return double(parts_[static_cast<std::size_t>(b)]->objective->examples()) / double(examples_);
}

template <class T>
double CurvatureData<T>::loss() const {
  double s = 0;
  for (index_t b = 0; b < batches(); ++b)
    s += weight(b) * parts_[static_cast<std::size_t>(b)]->objective->loss();
  return s;
}

template <class T>
index_t CurvatureData<T>::factor_columns(FactorKind kind, index_t samples) const {
  switch (kind) {
    case FactorKind::GGN:
      return parts_.front()->loss->sqrt_columns();
    case FactorKind::EF:
      return 1;
    case FactorKind::MC:
      return samples;
  }
  return 0;
}

template <class T>
const Tensor<T>& CurvatureData<T>::output_factor(index_t b, FactorKind kind, index_t samples,
                                                 std::uint64_t seed) {
  CURV_CHECK(kind != FactorKind::MC || samples >= 1,
             "curvature: expected at least 1 sampled label per example, found ", samples);
  Part& p = *parts_[static_cast<std::size_t>(b)];
  if (!p.factor.empty() && p.factor_kind == kind && p.factor_samples == samples &&
      p.factor_seed == seed)
    return p.factor;
  const Loss<T>& loss = *p.loss;
  const index_t N = loss.examples(), C = loss.outputs(), K = factor_columns(kind, samples);
  p.factor = Tensor<T>(Shape{N, C, K});
  switch (kind) {
    case FactorKind::GGN:
      loss.sqrt_hessian(p.factor.data());
      break;
    case FactorKind::EF: {
      // ∂L/∂z = ∇ℓₙ/N, so Sₙ = ∇ℓₙ/√N = √N ∂L/∂z.
      loss.grad(p.factor.data());
      const T s = T(std::sqrt(double(N)));
      for (index_t i = 0; i < p.factor.numel(); ++i) p.factor[i] *= s;
      break;
    }
    case FactorKind::MC: {
      Rng rng = Rng(seed).split(static_cast<std::uint64_t>(b));
      loss.sampled_sqrt(rng, samples, p.factor.data());
      break;
    }
  }
  p.factor_kind = kind, p.factor_samples = samples, p.factor_seed = seed;
  return p.factor;
}

template class CurvatureData<float>;
template class CurvatureData<double>;

}  // namespace curv
