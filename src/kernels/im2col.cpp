#include "curv/kernels/im2col.hpp"

#include "curv/core/error.hpp"
#include "curv/kernels/parallel.hpp"

namespace curv {

ConvGeometry ConvGeometry::make(index_t n, index_t c, index_t h, index_t w, index_t kh, index_t kw,
                                index_t stride, index_t pad) {
  CURV_CHECK(stride >= 1 && pad >= 0, "conv2d: expected stride >= 1 and pad >= 0, found stride ",
             stride, " pad ", pad);
  ConvGeometry g{n, c, h, w, kh, kw, stride, pad, 0, 0};
  g.oh = (h + 2 * pad - kh) / stride + 1;
  g.ow = (w + 2 * pad - kw) / stride + 1;
  CURV_CHECK(h + 2 * pad >= kh && w + 2 * pad >= kw, "conv2d: expected a kernel ", kh, "x", kw,
             " to fit the padded input ", h + 2 * pad, "x", w + 2 * pad);
  return g;
}

namespace {
// Images per task: enough work per task to amortize scheduling.
index_t image_grain(const ConvGeometry& g) {
  return std::max<index_t>(1, kElementwiseGrain / std::max<index_t>(1, g.positions() * g.cols()));
}
}  // namespace

template <class T>
void im2col(const ConvGeometry& g, const T* x, T* cols) {
  const index_t K = g.cols();
  parallel_for(g.n, image_grain(g), [&](index_t n0, index_t n1) {
    for (index_t n = n0; n < n1; ++n) {
      const T* xn = x + n * g.c * g.h * g.w;
      T* rows = cols + n * g.positions() * K;
      for (index_t oh = 0; oh < g.oh; ++oh)
        for (index_t ow = 0; ow < g.ow; ++ow) {
          T* r = rows + (oh * g.ow + ow) * K;
          for (index_t c = 0; c < g.c; ++c)
            for (index_t kh = 0; kh < g.kh; ++kh) {
              const index_t ih = oh * g.stride + kh - g.pad;
              T* rk = r + (c * g.kh + kh) * g.kw;
              if (ih < 0 || ih >= g.h) {
                for (index_t kw = 0; kw < g.kw; ++kw) rk[kw] = T(0);
                continue;
              }
              const T* xrow = xn + (c * g.h + ih) * g.w;
              const index_t iw0 = ow * g.stride - g.pad;
              for (index_t kw = 0; kw < g.kw; ++kw) {
                const index_t iw = iw0 + kw;
                rk[kw] = (iw >= 0 && iw < g.w) ? xrow[iw] : T(0);
              }
            }
        }
    }
  });
}

template <class T>
void col2im_add(const ConvGeometry& g, const T* cols, T* dx) {
  const index_t K = g.cols();
  // Each image's rows scatter only into that image, so images are independent tasks.
  parallel_for(g.n, image_grain(g), [&](index_t n0, index_t n1) {
    for (index_t n = n0; n < n1; ++n) {
      T* dxn = dx + n * g.c * g.h * g.w;
      const T* rows = cols + n * g.positions() * K;
      for (index_t oh = 0; oh < g.oh; ++oh)
        for (index_t ow = 0; ow < g.ow; ++ow) {
          const T* r = rows + (oh * g.ow + ow) * K;
          for (index_t c = 0; c < g.c; ++c)
            for (index_t kh = 0; kh < g.kh; ++kh) {
              const index_t ih = oh * g.stride + kh - g.pad;
              if (ih < 0 || ih >= g.h) continue;
              const T* rk = r + (c * g.kh + kh) * g.kw;
              T* drow = dxn + (c * g.h + ih) * g.w;
              const index_t iw0 = ow * g.stride - g.pad;
              for (index_t kw = 0; kw < g.kw; ++kw) {
                const index_t iw = iw0 + kw;
                if (iw >= 0 && iw < g.w) drow[iw] += rk[kw];
              }
            }
        }
    }
  });
}

template void im2col<float>(const ConvGeometry&, const float*, float*);
template void im2col<double>(const ConvGeometry&, const double*, double*);
template void col2im_add<float>(const ConvGeometry&, const float*, float*);
template void col2im_add<double>(const ConvGeometry&, const double*, double*);

}  // namespace curv
