#include "curv/data/split.hpp"

#include "curv/core/error.hpp"

namespace curv {

std::uint64_t fnv1a(const void* data, std::size_t bytes, std::uint64_t h) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < bytes; ++i) h = (h ^ p[i]) * 1099511628211ULL;
  return h;
}

namespace {

template <class T>
class SubsetSplit final : public Split<T> {
 public:
  SubsetSplit(std::shared_ptr<const Split<T>> base, std::vector<index_t> map, std::string name)
      : base_(std::move(base)), map_(std::move(map)), name_(std::move(name)) {
    for (index_t i : map_)
      CURV_CHECK(i >= 0 && i < base_->size(), name_, ": expected indices of ", base_->name(),
                 " in 0..", base_->size() - 1, ", found ", i);
  }
  std::string name() const override { return name_; }
  index_t size() const override { return index_t(map_.size()); }
  Shape example_shape() const override { return base_->example_shape(); }
  bool labelled() const override { return base_->labelled(); }
  std::int64_t class_of(index_t i) const override { return base_->class_of(map_[std::size_t(i)]); }
  void fill(std::span<const index_t> idx, Rng* rng, Batch<T>& b) const override {
    std::vector<index_t>& mapped = scratch_;
    mapped.resize(idx.size());
    for (std::size_t k = 0; k < idx.size(); ++k) mapped[k] = map_[std::size_t(idx[k])];
    base_->fill(mapped, rng, b);
    b.indices.assign(idx.begin(), idx.end());  // this split's numbering
  }
  std::uint64_t fingerprint() const override {
    const std::uint64_t h = base_->fingerprint();
    return fnv1a(map_.data(), map_.size() * sizeof(index_t), h);
  }
  std::size_t bytes() const override { return map_.size() * sizeof(index_t); }

 private:
  std::shared_ptr<const Split<T>> base_;
  std::vector<index_t> map_;
  std::string name_;
  mutable std::vector<index_t> scratch_;  // fill() is called from one thread at a time
};

}  // namespace

template <class T>
std::shared_ptr<const Split<T>> subset_split(std::shared_ptr<const Split<T>> base,
                                             std::vector<index_t> map, std::string name) {
  return std::make_shared<SubsetSplit<T>>(std::move(base), std::move(map), std::move(name));
}

template std::shared_ptr<const Split<float>> subset_split(std::shared_ptr<const Split<float>>,
                                                          std::vector<index_t>, std::string);
template std::shared_ptr<const Split<double>> subset_split(std::shared_ptr<const Split<double>>,
                                                           std::vector<index_t>, std::string);

}  // namespace curv
