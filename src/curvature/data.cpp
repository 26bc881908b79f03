#include "curv/curvature/data.hpp"

#include <cmath>
#include <cstring>
#include <sstream>

#include "curv/data/batch_source.hpp"

namespace curv {

template <class T>
struct CurvatureData<T>::Part {
  index_t first = 0;  // streamed: where the batch's indices start in the list
  index_t examples = 0;
  Batch<T> batch;  // held for good, or filled while recorded (streamed)
  std::unique_ptr<Loss<T>> loss;
  std::unique_ptr<Objective<T>> objective;  // null while not recorded
  double loss_value = 0;
  bool has_loss = false;
  bool cached = false;
  std::size_t bytes = 0;  // what the recording holds, counted against the cache when cached
  Tensor<T> factor;
  FactorKind factor_kind{};
  index_t factor_samples = 0;
  std::uint64_t factor_seed = 0;
};

template <class T>
void CurvatureData<T>::add_part(index_t examples) {
  auto p = std::make_unique<Part>();
  p->first = examples_, p->examples = examples;
  examples_ += examples;
  parts_.push_back(std::move(p));
}

template <class T>
CurvatureData<T>::CurvatureData(const Model<T>& model, std::vector<Batch<T>> batches,
                                Options options)
    : model_(model), opt_(options) {
  CURV_CHECK(!batches.empty(), "curvature: expected at least one batch of examples, found none");
  for (auto& b : batches) {
    CURV_CHECK(b.labelled(), "curvature: expected batches with targets, found inputs alone");
    add_part(b.size());
    parts_.back()->batch = std::move(b);
  }
  fingerprint_ = parameter_fingerprint();
}

template <class T>
CurvatureData<T>::CurvatureData(const Model<T>& model, const Split<T>& split,
                                std::vector<index_t> indices, index_t batch, Options options)
    : model_(model), opt_(options), split_(&split), indices_(std::move(indices)) {
  check_example_indices(split, indices_);
  CURV_CHECK(batch >= 1, split.name(), ": expected a batch size >= 1, found ", batch);
  CURV_CHECK(split.labelled(), split.name(),
             ": expected examples with targets for the curvature, found inputs alone");
  const auto n = index_t(indices_.size());
  for (index_t start = 0; start < n; start += batch) add_part(std::min(batch, n - start));
  fingerprint_ = parameter_fingerprint();
}

template <class T>
CurvatureData<T>::~CurvatureData() = default;

template <class T>
std::uint64_t CurvatureData<T>::parameter_fingerprint() const {
  // A word-at-a-time multiplicative hash (FNV-1a's prime, 8 bytes per step): any changed value
  // changes it, and it costs a fraction of one batch's forward pass.
  const auto* bytes = reinterpret_cast<const unsigned char*>(model_.params().data());
  const std::size_t n = std::size_t(model_.params().size()) * sizeof(T);
  std::uint64_t h = 1469598103934665603ULL;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, bytes + i, 8);
    h = (h ^ w) * 1099511628211ULL;
    h ^= h >> 29;
  }
  for (; i < n; ++i) h = (h ^ bytes[i]) * 1099511628211ULL;
  return h;
}

template <class T>
void CurvatureData<T>::check_current(const std::string& who) const {
  const std::uint64_t now = parameter_fingerprint();
  if (now == fingerprint_) return;
  std::ostringstream s;
  s << who << ": the model's parameters changed after the curvature data was recorded "
    << "(expected parameter fingerprint " << std::hex << fingerprint_ << ", found " << now
    << "): call refresh() to record it at the new parameters";
  fail(s.str());
}

template <class T>
void CurvatureData<T>::release(Part& p) {
  if (p.cached) cached_bytes_ -= p.bytes;
  p.objective.reset(), p.loss.reset();
  p.factor = Tensor<T>();
  p.cached = false, p.bytes = 0;
  if (split_) p.batch = Batch<T>();
  if (scratch_ == &p) scratch_ = nullptr;
}

template <class T>
void CurvatureData<T>::refresh() {
  for (auto& p : parts_) release(*p), p->has_loss = false;
  scratch_objective_.reset(), scratch_loss_.reset();  // the cache is free again
  fingerprint_ = parameter_fingerprint();
}

template <class T>
void CurvatureData<T>::record(Part& p) {
  check_current("curvature data");
  if (scratch_ && scratch_ != &p) release(*scratch_);
  if (split_) {
    const std::span<const index_t> run(indices_.data() + p.first, std::size_t(p.examples));
    split_->fill(run, nullptr, p.batch);
  }
  ++recordings_;
  if (scratch_objective_) {
    // The cache is full: the batch goes into the one scratch recording, whose tape keeps its
    // memory from batch to batch (no allocation, no page faults per product).
    p.loss_value = scratch_objective_->set_batch(p.batch.x.view(), p.batch.targets());
    p.has_loss = true;
    scratch_ = &p;
    return;
  }
  p.loss = make_loss<T>(model_.loss());
  p.objective = std::make_unique<Objective<T>>(model_, *p.loss);
  p.loss_value = p.objective->set_batch(p.batch.x.view(), p.batch.targets());
  p.has_loss = true;
  p.bytes = p.objective->tape().memory_bytes() +
            (split_ ? std::size_t(p.batch.x.numel() + p.batch.values.numel()) * sizeof(T) : 0);
  if (cached_bytes_ + p.bytes <= opt_.cache_bytes) {
    p.cached = true;
    cached_bytes_ += p.bytes;
  } else {  // the first batch beyond the cache becomes the scratch recording
    scratch_loss_ = std::move(p.loss);
    scratch_objective_ = std::move(p.objective);
    p.bytes = 0;
    scratch_ = &p;
  }
}

template <class T>
Objective<T>& CurvatureData<T>::objective(index_t b) {
  CURV_CHECK(b >= 0 && b < batches(), "curvature data: expected a batch in 0..", batches() - 1,
             ", found ", b);
  Part& p = part(b);
  if (p.objective) return *p.objective;
  if (scratch_ != &p) record(p);
  return p.objective ? *p.objective : *scratch_objective_;
}

template <class T>
const Batch<T>& CurvatureData<T>::batch(index_t b) {
  objective(b);
  return part(b).batch;
}

template <class T>
index_t CurvatureData<T>::cached_batches() const {
  index_t n = 0;
  for (const auto& p : parts_) n += p->cached ? 1 : 0;
  return n;
}

template <class T>
double CurvatureData<T>::weight(index_t b) const {
  return double(part(b).examples) / double(examples_);
}

template <class T>
double CurvatureData<T>::loss() {
  double s = 0;
  for (index_t b = 0; b < batches(); ++b) {
    if (!part(b).has_loss) objective(b);
    s += weight(b) * part(b).loss_value;
  }
  return s;
}

template <class T>
const Tensor<T>& CurvatureData<T>::output_factor(index_t b, FactorKind kind, index_t samples,
                                                 std::uint64_t seed) {
  CURV_CHECK(kind != FactorKind::MC || samples >= 1,
             "curvature: expected at least 1 sampled label per example, found ", samples);
  objective(b);
  Part& p = part(b);
  if (!p.factor.empty() && p.factor_kind == kind && p.factor_samples == samples &&
      p.factor_seed == seed)
    return p.factor;
  const Loss<T>& loss = p.loss ? *p.loss : *scratch_loss_;
  const index_t N = loss.examples(), C = loss.outputs();
  const index_t K = kind == FactorKind::GGN  ? loss.sqrt_columns()
                    : kind == FactorKind::EF ? 1
                                             : samples;
  // A cached part's bytes include its factor, so release() returns them to the cache.
  const auto factor_bytes = [&] { return std::size_t(p.factor.numel()) * sizeof(T); };
  if (p.cached) cached_bytes_ -= factor_bytes(), p.bytes -= factor_bytes();
  p.factor = Tensor<T>(Shape{N, C, K});
  if (p.cached) cached_bytes_ += factor_bytes(), p.bytes += factor_bytes();
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
