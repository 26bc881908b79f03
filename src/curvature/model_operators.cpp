#include "curv/curvature/model_operators.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "curv/core/error.hpp"

namespace curv {

template <class T>
ModelOperator<T>::ModelOperator(CurvatureData<T>& data, ModelCurvature kind, ParamSubset subset,
                                index_t samples, std::uint64_t seed)
    : LinearOperator(subset.size()),
      data_(data),
      kind_(kind),
      subset_(std::move(subset)),
      samples_(samples),
      seed_(seed) {
  CURV_CHECK(subset_.full_size() == data.parameters(), name(), ": the subset is for ",
             subset_.full_size(), " parameters, the model has ", data.parameters());
  CURV_CHECK(kind != ModelCurvature::Fisher || samples >= 1,
             "fisher: expected at least 1 sampled label per example, found ", samples);
  const auto P = std::size_t(data.parameters());
  full_in_.resize(P), full_out_.resize(P), v_.resize(P), r_.resize(P);
}

template <class T>
std::string ModelOperator<T>::name() const {
  switch (kind_) {
    case ModelCurvature::Hessian:
      return "hessian";
    case ModelCurvature::GGN:
      return "ggn";
    case ModelCurvature::EF:
      return "ef";
    case ModelCurvature::Fisher:
      return "fisher";
  }
  return "?";
}

template <class T>
FactorKind ModelOperator<T>::factor_kind() const {
  return kind_ == ModelCurvature::EF       ? FactorKind::EF
         : kind_ == ModelCurvature::Fisher ? FactorKind::MC
                                           : FactorKind::GGN;
}

template <class T>
void ModelOperator<T>::use_batch(index_t b) {
  CURV_CHECK(b >= -1 && b < data_.batches(), name(), ": expected a batch in 0..",
             data_.batches() - 1, " (or -1 for all), found ", b);
  batch_ = b;
}

template <class T>
void ModelOperator<T>::mv(const double* v, double* out) {
  data_.check_current(name());
  subset_.scatter(v, full_in_.data());
  for (std::size_t i = 0; i < v_.size(); ++i) v_[i] = T(full_in_[i]);
  std::fill(full_out_.begin(), full_out_.end(), 0.0);
  for (index_t b = first_batch(); b < end_batch(); ++b) {
    Objective<T>& obj = data_.objective(b);
    switch (kind_) {
      case ModelCurvature::Hessian:
        obj.hvp(v_.data(), r_.data());
        break;
      case ModelCurvature::GGN:
        obj.ggn_vp(v_.data(), r_.data());
        break;
      case ModelCurvature::EF:
      case ModelCurvature::Fisher: {
        // Jᵀ S Sᵀ J v, example by example in output space.
        const Tensor<T>& S = data_.output_factor(b, factor_kind(), samples_, seed_);
        const index_t N = S.shape()[0], C = S.shape()[1], K = S.shape()[2];
        jv_.resize(static_cast<std::size_t>(N * C)), u_.resize(static_cast<std::size_t>(N * C));
        obj.jvp(v_.data(), jv_.data());
        for (index_t n = 0; n < N; ++n) {
          const T* s = S.data() + n * C * K;
          const T* jv = jv_.data() + n * C;
          T* u = u_.data() + n * C;
          std::fill(u, u + C, T(0));
          for (index_t k = 0; k < K; ++k) {
            double c = 0;  // sₖᵀ J v
            for (index_t i = 0; i < C; ++i) c += double(s[i * K + k]) * double(jv[i]);
            for (index_t i = 0; i < C; ++i) u[i] += T(c * double(s[i * K + k]));
          }
        }
        obj.vjp(u_.data(), r_.data());
        break;
      }
    }
    const double w = batch_weight(b);
    for (std::size_t i = 0; i < r_.size(); ++i) full_out_[i] += w * double(r_[i]);
  }
  ++products_;
  subset_.gather(full_out_.data(), out);
}

template <class T>
std::vector<double> ModelOperator<T>::diagonal() {
  if (kind_ == ModelCurvature::Hessian)
    lacks(
        "diagonal",
        "estimate it with Hutchinson probes (curv::linalg::hutchinson_diagonal) or use the ggn's");
  data_.check_current(name());
  if (subset_.partial()) {  // single entries: the diagonal over the tensors they touch, gathered
    ModelOperator<T> whole(data_, kind_, subset_.support(), samples_, seed_);
    if (batch_ >= 0) whole.use_batch(batch_);
    const std::vector<double> d = whole.diagonal();
    std::vector<double> full(static_cast<std::size_t>(subset_.full_size())),
        out(static_cast<std::size_t>(this->size()));
    whole.subset().scatter(d.data(), full.data());
    subset_.gather(full.data(), out.data());
    return out;
  }
  // Per-example rows over the subset alone, from sweeps that stop at its earliest layer.
  std::vector<std::pair<index_t, index_t>> columns;
  index_t d = 0;
  for (const ParamRange& r : subset_.ranges()) columns.emplace_back(r.offset, d), d += r.size;
  const auto wanted = [&](index_t offset) { return subset_.contains(offset); };
  std::vector<double> diag(std::size_t(d), 0.0);
  for (index_t b = first_batch(); b < end_batch(); ++b) {
    const Tensor<T>& S = data_.output_factor(b, factor_kind(), samples_, seed_);
    const index_t N = S.shape()[0], C = S.shape()[1], K = S.shape()[2];
    Tensor<T> u(Shape{N, C}), per_example(Shape{N, d});
    const double w = batch_weight(b);
    for (index_t k = 0; k < K; ++k) {
      // Row n of the per-example pullback is Jₙᵀ sₙₖ; the diagonal sums its squares.
      for (index_t j = 0; j < N * C; ++j) u[j] = S[j * K + k];
      per_example.fill(T(0));
      data_.objective(b).pullback(
          u.data(), ParamGrad<T>::per_example(per_example.data(), d, &columns), false, wanted);
      for (index_t n = 0; n < N; ++n) {
        const T* row = per_example.data() + n * d;
        for (index_t i = 0; i < d; ++i) diag[i] += w * double(row[i]) * double(row[i]);
      }
    }
  }
  CURV_CHECK(d == size(), "diagonal: expected ", size(), " subset entries, found ", d);
  return diag;
}

RestrictedOperator::RestrictedOperator(std::unique_ptr<LinearOperator> inner, ParamSubset subset)
    : LinearOperator(subset.size()), inner_(std::move(inner)), subset_(std::move(subset)) {
  CURV_CHECK(subset_.full_size() == inner_->size(), "restriction of ", inner_->name(),
             ": the subset is for ", subset_.full_size(), " parameters, the operator has ",
             inner_->size());
  full_in_.resize(static_cast<std::size_t>(inner_->size())),
      full_out_.resize(static_cast<std::size_t>(inner_->size()));
}

void RestrictedOperator::mv(const double* v, double* out) {
  subset_.scatter(v, full_in_.data());
  inner_->mv(full_in_.data(), full_out_.data());
  subset_.gather(full_out_.data(), out);
}

namespace {
index_t total_size(const std::vector<std::unique_ptr<LinearOperator>>& blocks) {
  index_t n = 0;
  for (const auto& b : blocks) n += b->size();
  return n;
}
}  // namespace

BlockDiagonalOperator::BlockDiagonalOperator(std::vector<std::unique_ptr<LinearOperator>> blocks,
                                             std::string name)
    : LinearOperator(total_size(blocks)), blocks_(std::move(blocks)), name_(std::move(name)) {}

void BlockDiagonalOperator::mv(const double* v, double* out) {
  for (auto& b : blocks_) b->mv(v, out), v += b->size(), out += b->size();
}

void BlockDiagonalOperator::inverse_mv(const double* v, double damping, double* out) {
  for (auto& b : blocks_) b->inverse_mv(v, damping, out), v += b->size(), out += b->size();
}

std::vector<double> BlockDiagonalOperator::diagonal() {
  std::vector<double> d;
  for (auto& b : blocks_) {
    const auto part = b->diagonal();
    d.insert(d.end(), part.begin(), part.end());
  }
  return d;
}

double BlockDiagonalOperator::trace() {
  double t = 0;
  for (auto& b : blocks_) t += b->trace();
  return t;
}

double BlockDiagonalOperator::logdet(double damping) {
  double l = 0;
  for (auto& b : blocks_) l += b->logdet(damping);
  return l;
}

bool BlockDiagonalOperator::has_inverse() const {
  for (const auto& b : blocks_)
    if (!b->has_inverse()) return false;
  return true;
}

bool BlockDiagonalOperator::has_diagonal() const {
  for (const auto& b : blocks_)
    if (!b->has_diagonal()) return false;
  return true;
}

template <class T>
std::unique_ptr<BlockDiagonalOperator> layer_blocks(CurvatureData<T>& data, ModelCurvature kind,
                                                    const ParamSubset& subset, index_t samples,
                                                    std::uint64_t seed) {
  const auto& params = data.model().params().info();
  std::vector<std::unique_ptr<LinearOperator>> blocks;
  std::string layer, names;
  auto flush = [&] {
    if (names.empty()) return;
    blocks.push_back(std::make_unique<ModelOperator<T>>(
        data, kind, ParamSubset::parse(names, params), samples, seed));
    names.clear();
  };
  for (const auto& name : subset.names()) {
    const std::string prefix = name.substr(0, name.rfind('.'));
    if (prefix != layer) flush(), layer = prefix;
    names += (names.empty() ? "" : ",") + name;
  }
  flush();
  return std::make_unique<BlockDiagonalOperator>(std::move(blocks), "blockdiag");
}

template class ModelOperator<float>;
template class ModelOperator<double>;
template std::unique_ptr<BlockDiagonalOperator> layer_blocks(CurvatureData<float>&, ModelCurvature,
                                                             const ParamSubset&, index_t,
                                                             std::uint64_t);
template std::unique_ptr<BlockDiagonalOperator> layer_blocks(CurvatureData<double>&, ModelCurvature,
                                                             const ParamSubset&, index_t,
                                                             std::uint64_t);

}  // namespace curv
