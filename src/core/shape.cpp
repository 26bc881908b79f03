#include "curv/core/shape.hpp"

#include "curv/core/error.hpp"

namespace curv {

Shape::Shape(std::initializer_list<index_t> dims) {
  CURV_CHECK(dims.size() <= kMaxRank, "shape: expected rank <= ", kMaxRank, ", found ",
             dims.size());
  for (index_t d : dims) push_back(d);
}

void Shape::push_back(index_t d) {
  CURV_CHECK(rank_ < kMaxRank, "shape: expected rank <= ", kMaxRank, ", found ", rank_ + 1);
  CURV_CHECK(d >= 0, "shape: expected non-negative dimension, found ", d);
  dims_[static_cast<std::size_t>(rank_++)] = d;
}

index_t Shape::numel() const {
  index_t n = 1;
  for (int i = 0; i < rank_; ++i) n *= dims_[static_cast<std::size_t>(i)];
  return n;
}

index_t Shape::row_size() const {
  index_t n = 1;
  for (int i = 1; i < rank_; ++i) n *= dims_[static_cast<std::size_t>(i)];
  return n;
}

Shape Shape::with_rows(index_t n) const {
  Shape s = *this;
  if (s.rank_ > 0) s.dims_[0] = n;
  return s;
}

Shape Shape::tail() const {
  Shape s;
  for (int i = 1; i < rank_; ++i) s.push_back(dims_[static_cast<std::size_t>(i)]);
  return s;
}

bool Shape::operator==(const Shape& o) const {
  if (rank_ != o.rank_) return false;
  for (int i = 0; i < rank_; ++i)
    if (dims_[static_cast<std::size_t>(i)] != o.dims_[static_cast<std::size_t>(i)]) return false;
  return true;
}

std::string Shape::str() const {
  std::string s = "[";
  for (int i = 0; i < rank_; ++i) {
    if (i) s += ",";
    s += std::to_string(dims_[static_cast<std::size_t>(i)]);
  }
  return s + "]";
}

}  // namespace curv
