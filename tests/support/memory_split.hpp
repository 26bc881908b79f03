// A split over one batch held in memory, for tests of what walks index lists of a split.
#pragma once

#include <cstring>

#include "curv/data/split.hpp"

namespace curv::testing {

// A split over one batch held in memory: fill() copies the requested rows.
class MemorySplit : public Split<double> {
 public:
  // labelled = false hides the labels (inputs to predict only).
  explicit MemorySplit(Batch<double> all, bool labelled = true)
      : all_(std::move(all)), labelled_(labelled) {}
  bool labelled() const override { return labelled_; }
  std::int64_t class_of(index_t i) const override {
    return labelled_ && all_.values.numel() == 0 ? std::int64_t(all_.labels[std::size_t(i)]) : -1;
  }
  std::string name() const override { return "memory/train"; }
  index_t size() const override { return all_.size(); }
  Shape example_shape() const override {
    Shape s;
    for (int i = 1; i < all_.x.shape().rank(); ++i) s.push_back(all_.x.shape()[i]);
    return s;
  }
  void fill(std::span<const index_t> idx, Rng*, Batch<double>& b) const override {
    Shape s = all_.x.shape();
    const index_t row = all_.x.numel() / s[0], n = index_t(idx.size());
    s[0] = n;
    b.x = Tensor<double>(s);
    b.labels.clear(), b.indices.assign(idx.begin(), idx.end());
    // Regression targets (a values tensor) are copied row by row like the inputs.
    const index_t targets = all_.values.numel() > 0 ? all_.values.numel() / s_rows() : 0;
    if (labelled_ && targets > 0) b.values = Tensor<double>(Shape{n, targets});
    for (index_t i = 0; i < n; ++i) {
      std::memcpy(b.x.data() + i * row, all_.x.data() + idx[i] * row, sizeof(double) * row);
      if (labelled_ && targets > 0)
        std::memcpy(b.values.data() + i * targets, all_.values.data() + idx[i] * targets,
                    sizeof(double) * targets);
      else if (labelled_)
        b.labels.push_back(all_.labels[std::size_t(idx[i])]);
    }
  }
  std::uint64_t fingerprint() const override { return 0; }

 private:
  index_t s_rows() const { return all_.x.shape()[0]; }
  Batch<double> all_;
  bool labelled_;
};

}  // namespace curv::testing
