// Arena: bump allocation of 64-byte aligned scratch memory, rewound as a whole.
//
// The tape takes every activation, saved context and sweep buffer from one arena, so a training
// step or a curvature product allocates nothing once the arena has grown to the step's size.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "curv/core/tensor.hpp"

namespace curv {

class Arena {
 public:
  // Uninitialized, aligned storage for n elements of T; valid until reset().
  template <class T>
  T* alloc(index_t n) {
    return static_cast<T*>(alloc_bytes(static_cast<std::size_t>(n) * sizeof(T)));
  }
  template <class T>
  View<T> alloc_view(Shape s) {
    return View<T>(alloc<T>(s.numel()), s);
  }
  // Forgets every allocation. When the last cycle overflowed into several blocks they are merged
  // into one, so the steady state is a single block and no allocation.
  void reset();
  std::size_t capacity() const;

 private:
  void* alloc_bytes(std::size_t bytes);
  struct Block {
    std::unique_ptr<std::byte[], detail::AlignedFree> data;
    std::size_t size = 0;
  };
  std::vector<Block> blocks_;
  std::size_t used_ = 0;  // in the last block
  std::size_t total_used_ = 0;
};

}  // namespace curv
