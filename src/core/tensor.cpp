#include <cstdlib>
#include <new>

#include "curv/core/arena.hpp"
#include "curv/core/memory.hpp"
#include "curv/core/tensor.hpp"

namespace curv {
namespace detail {

void AlignedFree::operator()(void* p) const noexcept { std::free(p); }

void* aligned_alloc_bytes(std::size_t bytes) {
  // Large buffers start on a 2 MB boundary so that all of them can be backed by huge pages
  // (core/memory.hpp). aligned_alloc needs a size that is a multiple of the alignment.
  const bool large = bytes >= kLargeBufferBytes;
  const std::size_t alignment = large ? kHugePageBytes : kAlignment;
  std::size_t rounded = (bytes + alignment - 1) / alignment * alignment;
  if (rounded == 0) rounded = alignment;
  void* p = std::aligned_alloc(alignment, rounded);
  if (!p) throw std::bad_alloc();
  if (large) advise_huge_pages(p, rounded);
  return p;
}

}  // namespace detail

void* Arena::alloc_bytes(std::size_t bytes) {
  bytes = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  total_used_ += bytes;
  if (blocks_.empty() || used_ + bytes > blocks_.back().size) {
    std::size_t size =
        std::max<std::size_t>(bytes, blocks_.empty() ? (1u << 20) : 2 * blocks_.back().size);
    blocks_.push_back(Block{std::unique_ptr<std::byte[], detail::AlignedFree>(
                                static_cast<std::byte*>(detail::aligned_alloc_bytes(size))),
                            size});
    used_ = 0;
  }
  void* p = blocks_.back().data.get() + used_;
  used_ += bytes;
  return p;
}

void Arena::reset() {
  if (blocks_.size() > 1) {
    std::size_t size = std::max(total_used_, capacity());
    blocks_.clear();
    blocks_.push_back(Block{std::unique_ptr<std::byte[], detail::AlignedFree>(
                                static_cast<std::byte*>(detail::aligned_alloc_bytes(size))),
                            size});
  }
  used_ = 0;
  total_used_ = 0;
}

std::size_t Arena::capacity() const {
  std::size_t c = 0;
  for (const Block& b : blocks_) c += b.size;
  return c;
}

}  // namespace curv
