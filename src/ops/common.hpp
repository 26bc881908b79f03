// Small kernels shared by the op files (internal to the library).
#pragma once

#include <algorithm>
#include <vector>

#include "curv/autodiff/node.hpp"
#include "curv/kernels/gemm.hpp"
#include "curv/kernels/parallel.hpp"

namespace curv::detail {

// out[j] += Σᵢ m[i, j] for a (rows, cols) matrix: the bias gradient.
template <class T>
void add_column_sums(const T* m, index_t rows, index_t cols, T* out) {
  for (index_t i = 0; i < rows; ++i) {
    const T* r = m + i * cols;
    for (index_t j = 0; j < cols; ++j) out[j] += r[j];
  }
}

// Every row of the (rows, cols) matrix m set to v.
template <class T>
void fill_rows(T* m, index_t rows, index_t cols, const T* v) {
  for (index_t i = 0; i < rows; ++i) std::copy(v, v + cols, m + i * cols);
}

// (N, C, P) ⇄ (N·P, C): channel-major image layout to one row per position and back.
template <class T>
void images_to_rows(const T* x, index_t n, index_t c, index_t p, T* rows) {
  parallel_for(n, std::max<index_t>(1, kElementwiseGrain / std::max<index_t>(1, c * p)),
               [&](index_t n0, index_t n1) {
                 for (index_t i = n0; i < n1; ++i)
                   for (index_t k = 0; k < c; ++k) {
                     const T* src = x + (i * c + k) * p;
                     T* dst = rows + i * p * c + k;
                     for (index_t q = 0; q < p; ++q) dst[q * c] = src[q];
                   }
               });
}
template <class T>
void rows_to_images(const T* rows, index_t n, index_t c, index_t p, T* x) {
  parallel_for(n, std::max<index_t>(1, kElementwiseGrain / std::max<index_t>(1, c * p)),
               [&](index_t n0, index_t n1) {
                 for (index_t i = n0; i < n1; ++i)
                   for (index_t k = 0; k < c; ++k) {
                     const T* src = rows + i * p * c + k;
                     T* dst = x + (i * c + k) * p;
                     for (index_t q = 0; q < p; ++q) dst[q] = src[q * c];
                   }
               });
}

// Per-example parameter gradients: f(n, row) writes example n's gradient into `row` (which is
// already offset to the op's parameters). Examples run in parallel with BLAS single-threaded.
template <class T, class F>
void for_each_example(const ParamGrad<T>& g, index_t examples, index_t offset, F&& f) {
  BlasSerial serial;
  parallel_for(examples, 1, [&](index_t n0, index_t n1) {
    for (index_t n = n0; n < n1; ++n) f(n, g.data + n * g.stride + offset);
  });
}

// dst[i] = f(i) (assign) or dst[i] += f(i) for i in [0, n), in parallel above the grain. The
// branch sits outside the loops so both stay vectorizable.
template <class T, class F>
void write_elementwise(T* dst, index_t n, bool assign, F&& f) {
  parallel_for(n, kElementwiseGrain, [&](index_t b, index_t e) {
    if (assign)
      for (index_t i = b; i < e; ++i) dst[i] = f(i);
    else
      for (index_t i = b; i < e; ++i) dst[i] += f(i);
  });
}

// Per-thread scratch that persists across calls (slot picks one of a few independent buffers),
// so chunked kernels running inside TBB tasks allocate nothing in steady state.
template <class T>
T* thread_scratch(int slot, index_t n) {
  thread_local std::vector<T> buffers[4];
  std::vector<T>& b = buffers[slot];
  if (static_cast<index_t>(b.size()) < n) b.resize(static_cast<std::size_t>(n));
  return b.data();
}

}  // namespace curv::detail
