// im2col / col2im for 2-D convolution in "rows" layout: one row per output position,
//   cols[(n*OH + oh)*OW + ow, (c*KH + kh)*KW + kw] = x[n, c, oh*stride + kh - pad, ow*stride + kw - pad]
// (zero outside the image). A convolution is then one GEMM  y_rows = cols · Wᵀ, and the same
// rows are what KFC (Grosse & Martens 2016) treats as extra samples of the layer's input.
#pragma once

#include "curv/core/shape.hpp"

namespace curv {

struct ConvGeometry {
  index_t n = 0, c = 0, h = 0, w = 0;  // input  (N,C,H,W)
  index_t kh = 0, kw = 0, stride = 1, pad = 0;
  index_t oh = 0, ow = 0;  // output spatial size

  static ConvGeometry make(index_t n, index_t c, index_t h, index_t w, index_t kh, index_t kw,
                           index_t stride, index_t pad);
  index_t rows() const { return n * oh * ow; }
  index_t cols() const { return c * kh * kw; }
  index_t positions() const { return oh * ow; }
};

// cols = im2col(x) (assigned).
template <class T>
void im2col(const ConvGeometry& g, const T* x, T* cols);

// dx += col2im(cols): the adjoint of im2col.
template <class T>
void col2im_add(const ConvGeometry& g, const T* cols, T* dx);

}  // namespace curv
