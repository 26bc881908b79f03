// Tensor (owning, 64-byte aligned) and View (non-owning) over dense row-major, batch-first data.
//
// A View is a pointer plus a shape; it never owns memory and is cheap to copy. An empty View
// (data == nullptr) stands for "absent", e.g. a zero tangent or a gradient nobody asked for.
// View<const T> is the read-only flavour; every View<T> converts to it.
#pragma once

#include <cstddef>
#include <memory>
#include <type_traits>

#include "curv/core/error.hpp"
#include "curv/core/shape.hpp"

namespace curv {

inline constexpr std::size_t kAlignment = 64;

template <class T>
struct View {
  T* data = nullptr;
  Shape shape;

  View() = default;
  View(T* d, Shape s) : data(d), shape(s) {}
  // Read-only view of a mutable one.
  template <class U, class = std::enable_if_t<std::is_same_v<const U, T> && !std::is_same_v<U, T>>>
  View(const View<U>& o) : data(o.data), shape(o.shape) {}  // NOLINT: implicit by design

  bool empty() const { return data == nullptr; }
  index_t numel() const { return shape.numel(); }
  index_t rows() const { return shape.rows(); }
  index_t row_size() const { return shape.row_size(); }
  T& operator[](index_t i) const { return data[i]; }
  T* begin() const { return data; }
  T* end() const { return data + numel(); }

  // Rows [begin, end) along the leading dimension.
  View slice(index_t begin, index_t end) const {
    return View(data + begin * row_size(), shape.with_rows(end - begin));
  }
  // The same data under another shape with the same number of elements.
  View reshape(Shape s) const {
    CURV_CHECK(s.numel() == numel(), "reshape: expected ", numel(), " elements, found ", s.str());
    return View(data, s);
  }
};

namespace detail {
struct AlignedFree {
  void operator()(void* p) const noexcept;
};
void* aligned_alloc_bytes(std::size_t bytes);
}  // namespace detail

template <class T>
class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(Shape s) : shape_(s), data_(allocate(s.numel())) { fill(T(0)); }

  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  const Shape& shape() const { return shape_; }
  index_t numel() const { return data_ ? shape_.numel() : 0; }
  bool empty() const { return !data_; }
  T& operator[](index_t i) { return data_.get()[i]; }
  const T& operator[](index_t i) const { return data_.get()[i]; }

  View<T> view() { return View<T>(data(), shape_); }
  View<const T> view() const { return View<const T>(data(), shape_); }
  operator View<T>() { return view(); }              // NOLINT: implicit by design
  operator View<const T>() const { return view(); }  // NOLINT: implicit by design

  void fill(T v) {
    for (index_t i = 0; i < numel(); ++i) data_.get()[i] = v;
  }
  // Keeps the storage when the element count does not grow.
  void resize(Shape s) {
    if (s.numel() > capacity_ || !data_) data_ = allocate(s.numel());
    shape_ = s;
  }

 private:
  std::unique_ptr<T[], detail::AlignedFree> allocate(index_t n) {
    capacity_ = n;
    return std::unique_ptr<T[], detail::AlignedFree>(
        static_cast<T*>(detail::aligned_alloc_bytes(static_cast<std::size_t>(n) * sizeof(T))));
  }

  Shape shape_;
  index_t capacity_ = 0;
  std::unique_ptr<T[], detail::AlignedFree> data_;
};

}  // namespace curv
