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

index_t ConvGeometry::images_per_chunk() const {
  return std::clamp<index_t>((index_t(1) << 16) / std::max<index_t>(1, cols() * positions()), 1,
                             std::max<index_t>(1, n));
}

namespace {

// Output columns [lo, hi) of a run read inside the image: iw = iw0 + ow·s ∈ [0, W).
struct Span {
  index_t lo, hi;
};
Span inside(index_t iw0, index_t s, index_t W, index_t OW) {
  const index_t lo = iw0 >= 0 ? 0 : (-iw0 + s - 1) / s;
  const index_t hi = iw0 >= W ? 0 : std::min(OW, (W - 1 - iw0) / s + 1);
  return {std::min(lo, OW), std::max(std::min(lo, OW), hi)};
}

// Calls f(out, x_row_or_null, iw0, span) for every (kernel offset k, image n, output row oh):
// the run of OW outputs at cols[k, (n − n0)·P + oh·OW …] whose inputs lie on input row ih of
// channel c, at columns iw0 + ow·stride. A null row means the run reads padding only; span is
// the part of the run inside the image (the rest is padding).
template <class T, class F>
void for_each_run(const ConvGeometry& g, const T* x, index_t n0, index_t n1, F&& f) {
  const index_t P = g.positions(), B = n1 - n0;
  for (index_t c = 0; c < g.c; ++c)
    for (index_t kh = 0; kh < g.kh; ++kh)
      for (index_t kw = 0; kw < g.kw; ++kw) {
        const index_t k = (c * g.kh + kh) * g.kw + kw;
        const index_t iw0 = kw - g.pad;
        const Span span = inside(iw0, g.stride, g.w, g.ow);
        for (index_t n = n0; n < n1; ++n)
          for (index_t oh = 0; oh < g.oh; ++oh) {
            const index_t ih = oh * g.stride + kh - g.pad;
            const index_t at = k * B * P + (n - n0) * P + oh * g.ow;
            const T* row = (ih < 0 || ih >= g.h) ? nullptr : x + ((n * g.c + c) * g.h + ih) * g.w;
            f(at, row, iw0, span);
          }
      }
}

}  // namespace

template <class T>
void im2col(const ConvGeometry& g, const T* x, index_t n0, index_t n1, T* cols) {
  const index_t s = g.stride, OW = g.ow;
  for_each_run(g, x, n0, n1, [&](index_t at, const T* row, index_t iw0, Span span) {
    T* out = cols + at;
    if (!row) return std::fill(out, out + OW, T(0));
    std::fill(out, out + span.lo, T(0));
    if (s == 1) {
      std::copy(row + iw0 + span.lo, row + iw0 + span.hi, out + span.lo);
    } else {
      for (index_t ow = span.lo; ow < span.hi; ++ow) out[ow] = row[iw0 + ow * s];
    }
    std::fill(out + span.hi, out + OW, T(0));
  });
}

template <class T>
void col2im_add(const ConvGeometry& g, const T* cols, index_t n0, index_t n1, T* dx) {
  const index_t s = g.stride;
  // The same runs as im2col, with x rows made writable: the adjoint scatters where im2col gathers.
  for_each_run(g, static_cast<const T*>(dx), n0, n1,
               [&](index_t at, const T* row, index_t iw0, Span span) {
                 if (!row) return;
                 T* d = const_cast<T*>(row) + iw0;
                 const T* in = cols + at;
                 if (s == 1) {
                   for (index_t ow = span.lo; ow < span.hi; ++ow) d[ow] += in[ow];
                 } else {
                   for (index_t ow = span.lo; ow < span.hi; ++ow) d[ow * s] += in[ow];
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
      // Row by row: each row is written once, contiguously, from K streams that stay in L1.
      for (index_t p = 0; p < P; ++p)
        for (index_t k = 0; k < K; ++k) r[p * K + k] = cols[static_cast<std::size_t>(k * P + p)];
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
