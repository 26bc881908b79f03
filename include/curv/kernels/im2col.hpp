// im2col / col2im for 2-D convolution (cross-correlation, zero padding).
//
// Two layouts of the same patches, with K = C·KH·KW and one patch per output position:
//  - columns, for the GEMMs of a chunk of images [n0, n1):  cols (K, B·P), B = n1 − n0, P = OH·OW,
//      cols[(c·KH + kh)·KW + kw, (n − n0)·P + oh·OW + ow] = x[n, c, oh·s + kh − pad, ow·s + kw −
//      pad]
//    so that W (O,K) · cols gives the outputs of B images, channel-major like NCHW;
//  - rows, the transpose over the whole batch: (N·P, K), what KFC (Grosse & Martens 2016) treats
//    as extra samples of a conv layer's input and what observers receive.
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
  // Images per chunk for the column layout: about 64k patch entries (a cache-resident block),
  // at least one image.
  index_t images_per_chunk() const;
};

// cols (K, (n1−n0)·P) = patches of images [n0, n1) of x (assigned).
template <class T>
void im2col(const ConvGeometry& g, const T* x, index_t n0, index_t n1, T* cols);

// dx[n0:n1] += the adjoint of im2col applied to cols (K, (n1−n0)·P).
template <class T>
void col2im_add(const ConvGeometry& g, const T* cols, index_t n0, index_t n1, T* dx);

// rows (N·P, K) = patches of every image (assigned).
template <class T>
void im2row(const ConvGeometry& g, const T* x, T* rows);

}  // namespace curv
