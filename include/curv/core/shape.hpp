// Shape: the dimensions of a dense, row-major, batch-first tensor.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>

namespace curv {

using index_t = std::int64_t;

class Shape {
 public:
  static constexpr int kMaxRank = 6;

  Shape() = default;
  Shape(std::initializer_list<index_t> dims);

  int rank() const { return rank_; }
  index_t operator[](int i) const { return dims_[static_cast<std::size_t>(i)]; }
  index_t& operator[](int i) { return dims_[static_cast<std::size_t>(i)]; }
  index_t numel() const;
  // Leading (batch) dimension and the size of one slice along it.
  index_t rows() const { return rank_ == 0 ? 1 : dims_[0]; }
  index_t row_size() const;

  // The same dims with the leading one replaced (a batch slice).
  Shape with_rows(index_t n) const;
  // Shape of one slice along the leading dimension.
  Shape tail() const;
  void push_back(index_t d);

  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }
  std::string str() const;  // "[128,1,28,28]"

 private:
  std::array<index_t, kMaxRank> dims_{};
  int rank_ = 0;
};

}  // namespace curv
