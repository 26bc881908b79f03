// Large buffers and the kernel's page size.
//
// A buffer's pages are mapped on first touch. At 4 KB pages, writing a fresh 250 MB buffer (the
// float32 gradients of 1,024 examples over LeNet-5's weights) costs about 0.6 s of page faults on
// a Linux VM — as long as the Gram matrix product that follows. Transparent huge pages (2 MB)
// make that 0.03 s. Most systems enable them only where a program asks (madvise mode), so curv
// asks for its large buffers: Tensor and Arena storage of 4 MB or more, and the per-example
// gradient matrices the curvature and pruning code collects.
#pragma once

#include <cstddef>
#include <vector>

namespace curv {

inline constexpr std::size_t kHugePageBytes = std::size_t(2) << 20;
// Buffers from this size on start on a huge-page boundary and ask for huge pages.
inline constexpr std::size_t kLargeBufferBytes = std::size_t(4) << 20;

// Asks for transparent huge pages over the 2 MB-aligned part of [p, p + bytes); call it before
// the memory is first written. A hint: a no-op off Linux or when the kernel declines.
void advise_huge_pages(void* p, std::size_t bytes);

// v.reserve(n), with huge pages asked for the new storage when it is large.
template <class T>
void reserve_large(std::vector<T>& v, std::size_t n) {
  v.reserve(n);
  advise_huge_pages(v.data(), v.capacity() * sizeof(T));
}

}  // namespace curv
