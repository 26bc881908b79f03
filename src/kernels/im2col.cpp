#include "curv/kernels/im2col.hpp"

#include <algorithm>
#include <vector>

#include "curv/core/error.hpp"
#include "curv/kernels/parallel.hpp"

namespace curv {

ConvGeometry ConvGeometry::make(index_t n, index_t c, index_t h, index_t w, index_t kh, index_t kw,
                                index_t stride, index_t pad) {
  CURV_CHECK(stride >= 1 && pad >= 0, "conv2d: expected stride >= 1 and pad >= 0, found stride ",
             stride, " pad ", pad);
  CURV_CHECK(h + 2 * pad >= kh && w + 2 * pad >= kw, "conv2d: expected a kernel ", kh, "x", kw,
             " to fit the padded input ", h + 2 * pad, "x", w + 2 * pad);
  ConvGeometry g{n, c, h, w, kh, kw, stride, pad, 0, 0};
  g.oh = (h + 2 * pad - kh) / stride + 1;
  g.ow = (w + 2 * pad - kw) / stride + 1;
  return g;
}

namespace {

// Calls f(out_offset_in_row, x_row_or_null, iw0) for every (kernel offset k, image n, output row
// oh): the run of OW outputs whose inputs lie on input row ih of channel c, starting at column
// iw0 (stride apart). A null x row means the whole run reads padding.
template <class T, class F>
void for_each_run(const ConvGeometry& g, const T* x, index_t n0, index_t n1, F&& f) {
  const index_t P = g.positions(), B = n1 - n0;
  for (index_t c = 0; c < g.c; ++c)
    for (index_t kh = 0; kh < g.kh; ++kh)
      for (index_t kw = 0; kw < g.kw; ++kw) {
        const index_t k = (c * g.kh + kh) * g.kw + kw;
        for (index_t n = n0; n < n1; ++n)
          for (index_t oh = 0; oh < g.oh; ++oh) {
            const index_t ih = oh * g.stride + kh - g.pad;
            const index_t at = k * B * P + (n - n0) * P + oh * g.ow;
            const T* row = (ih < 0 || ih >= g.h) ? nullptr : x + ((n * g.c + c) * g.h + ih) * g.w;
            f(at, row, kw - g.pad);
          }
      }
}

}  // namespace

template <class T>
void im2col(const ConvGeometry& g, const T* x, index_t n0, index_t n1, T* cols) {
  const index_t s = g.stride, OW = g.ow, W = g.w;
  for_each_run(g, x, n0, n1, [&](index_t at, const T* row, index_t iw0) {
    T* out = cols + at;
    if (!row) return std::fill(out, out + OW, T(0));
    for (index_t ow = 0; ow < OW; ++ow) {
      const index_t iw = iw0 + ow * s;
      out[ow] = (iw >= 0 && iw < W) ? row[iw] : T(0);
    }
  });
}

template <class T>
void col2im_add(const ConvGeometry& g, const T* cols, index_t n0, index_t n1, T* dx) {
  const index_t s = g.stride, OW = g.ow, W = g.w;
  // The same runs as im2col, with x rows made writable: the adjoint scatters where im2col gathers.
  for_each_run(g, static_cast<const T*>(dx), n0, n1, [&](index_t at, const T* row, index_t iw0) {
    if (!row) return;
    T* d = const_cast<T*>(row);
    const T* in = cols + at;
    for (index_t ow = 0; ow < OW; ++ow) {
      const index_t iw = iw0 + ow * s;
      if (iw >= 0 && iw < W) d[iw] += in[ow];
    }
  });
}

template <class T>
void im2row(const ConvGeometry& g, const T* x, T* rows) {
  const index_t K = g.cols(), P = g.positions();
  parallel_for(g.n, 1, [&](index_t n0, index_t n1) {
    std::vector<T> cols(static_cast<std::size_t>(K * P));
    for (index_t n = n0; n < n1; ++n) {
      im2col(g, x, n, n + 1, cols.data());
      T* r = rows + n * P * K;
      for (index_t k = 0; k < K; ++k)
        for (index_t p = 0; p < P; ++p) r[p * K + k] = cols[static_cast<std::size_t>(k * P + p)];
    }
  });
}

template void im2col<float>(const ConvGeometry&, const float*, index_t, index_t, float*);
template void im2col<double>(const ConvGeometry&, const double*, index_t, index_t, double*);
template void col2im_add<float>(const ConvGeometry&, const float*, index_t, index_t, float*);
template void col2im_add<double>(const ConvGeometry&, const double*, index_t, index_t, double*);
template void im2row<float>(const ConvGeometry&, const float*, float*);
template void im2row<double>(const ConvGeometry&, const double*, double*);

}  // namespace curv
