// ArraySplit: a split whose examples sit in memory as arrays — inputs (N, example…) and either
// class labels (N) or real-valued targets (N, C), or neither. What the .npy data sets and the
// synthetic regression task hold.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "curv/data/split.hpp"

namespace curv::detail {

template <class T>
class ArraySplit final : public Split<T> {
 public:
  ArraySplit(std::string name, Shape example, std::vector<T> x, std::vector<std::int64_t> labels,
             std::vector<T> values, index_t columns)
      : name_(std::move(name)),
        example_(example),
        x_(std::move(x)),
        labels_(std::move(labels)),
        values_(std::move(values)),
        columns_(columns) {}

  std::string name() const override { return name_; }
  index_t size() const override { return index_t(x_.size()) / example_.numel(); }
  Shape example_shape() const override { return example_; }
  bool labelled() const override { return !labels_.empty() || !values_.empty(); }
  std::int64_t class_of(index_t i) const override {
    return labels_.empty() ? -1 : labels_[std::size_t(i)];
  }
  std::size_t bytes() const override {
    return (x_.size() + values_.size()) * sizeof(T) + labels_.size() * sizeof(std::int64_t);
  }
  std::uint64_t fingerprint() const override {
    std::uint64_t h = fnv1a(x_.data(), x_.size() * sizeof(T));
    h = fnv1a(labels_.data(), labels_.size() * sizeof(std::int64_t), h);
    return fnv1a(values_.data(), values_.size() * sizeof(T), h);
  }
  index_t max_label() const {
    return labels_.empty() ? -1 : *std::max_element(labels_.begin(), labels_.end());
  }

  void fill(std::span<const index_t> idx, Rng*, Batch<T>& b) const override {
    const index_t n = index_t(idx.size()), d = example_.numel();
    Shape s{n};
    for (int k = 0; k < example_.rank(); ++k) s.push_back(example_[k]);
    b.x.resize(s);
    b.labels.clear();
    b.values = Tensor<T>();
    if (!values_.empty()) b.values.resize(Shape{n, columns_});
    for (index_t i = 0; i < n; ++i) {
      const index_t e = idx[std::size_t(i)];
      std::copy_n(x_.data() + e * d, d, b.x.data() + i * d);
      if (!labels_.empty()) b.labels.push_back(labels_[std::size_t(e)]);
      if (!values_.empty())
        std::copy_n(values_.data() + e * columns_, columns_, b.values.data() + i * columns_);
    }
    b.indices.assign(idx.begin(), idx.end());
  }

 private:
  std::string name_;
  Shape example_;
  std::vector<T> x_;
  std::vector<std::int64_t> labels_;
  std::vector<T> values_;
  index_t columns_;
};

}  // namespace curv::detail
