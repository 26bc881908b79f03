// conv2d: y = W ⋆ x + b (cross-correlation, PyTorch layouts), as im2col + GEMM.
//   x:(N,C,H,W)  W:(O,C,KH,KW) seen as (O,K), K = C·KH·KW   b:(O)   y:(N,O,OH,OW)
// Images are processed in chunks of B whose patches fit in cache; with A = im2col of a chunk,
// (K, B·P), and Y the chunk's outputs as (O, B·P):
//   forward  Y = W A + b
//   vjp      W̄ += Ȳ Aᵀ,  b̄ += Σ_cols Ȳ,  x̄ += col2im(Wᵀ Ȳ)
//   jvp      Ẏ = W im2col(ẋ) + Ẇ A + ḃ
//   vjp_rop  R{W̄} += R{Ȳ} Aᵀ + Ȳ im2col(ẋ)ᵀ,  R{b̄} += Σ R{Ȳ},  R{x̄} += col2im(Wᵀ R{Ȳ} + Ẇᵀ Ȳ)
// Patches are recomputed in each pass rather than stored: from cache that is cheaper than
// streaming a batch-sized patch matrix through memory. Observers get the whole batch's patches
// as rows (KFC); a vjp that built them for an observer reads them instead of recomputing.
// Chunks run in parallel (BLAS serial inside); parameter gradients are summed per chunk and then
// in chunk order, so results do not depend on the number of threads.
#include "common.hpp"
#include "curv/kernels/im2col.hpp"
#include "curv/ops/ops.hpp"

namespace curv {
namespace {

// Scratch slots of detail::thread_scratch.
enum Slot { kCols = 0, kColsDot = 1, kOut = 2, kOutDot = 3 };

template <class T>
class Conv2d final : public Node<T> {
 public:
  Conv2d(const ConvGeometry& g, ParamRef<T> w, ParamRef<T> b, View<const T> x)
      : g_(g), w_(w), b_(b), x_(x), O_(w.value.shape[0]), K_(g.cols()), P_(g.positions()) {
    B_ = g.images_per_chunk();
    chunks_ = (g.n + B_ - 1) / B_;
  }

  std::string_view name() const override { return "conv2d"; }
  std::array<index_t, 2> parameter_offsets() const override { return {w_.offset, b_.offset}; }

  // Observers see the patches as rows (N·P, K) and Ȳ as rows (N·P, O); built only for them, and
  // Ȳ's rows only for observers that read them.
  LayerEvent<T> event(const T* dy) {
    if (rows_a_.empty()) {
      rows_a_.resize(Shape{g_.rows(), K_});
      im2row(g_, x_.data, rows_a_.data());
    }
    View<const T> g;
    if (dy) {
      rows_g_.resize(Shape{g_.rows(), O_});
      detail::images_to_rows(dy, g_.n, O_, P_, rows_g_.data());
      g = rows_g_.view();
    }
    return {"conv2d", w_.offset, b_.empty() ? -1 : b_.offset, rows_a_.view(), g, P_, O_};
  }

  void forward(T* y) {
    run_chunks([&](index_t, index_t n0, index_t n1) {
      const index_t BP = (n1 - n0) * P_;
      T* a = patches(kCols, x_.data, n0, n1);
      T* Y = detail::thread_scratch<T>(kOut, O_ * BP);
      affine(w_.value.data, a, b_.empty() ? nullptr : b_.value.data, BP, T(0), Y);
      to_images(Y, n0, n1, y);
    });
  }

  void vjp(const VjpArgs<T>& a) override {
    if (a.observer && a.observer->observes("conv2d", w_.offset))
      a.observer->on_backward(event(a.observer->reads_output_adjoints() ? a.dy.data : nullptr));
    const bool sum = a.dtheta.mode == ParamGrad<T>::Mode::Sum;
    const index_t wc = a.dtheta.column(w_.offset),
                  bc = b_.empty() ? -1 : a.dtheta.column(b_.offset);
    const bool per_example =
        a.dtheta.mode == ParamGrad<T>::Mode::PerExample && (wc >= 0 || bc >= 0);
    if (sum) partials_.fill_zero(chunks_, O_ * K_ + O_);
    run_chunks([&](index_t chunk, index_t n0, index_t n1) {
      const index_t BP = (n1 - n0) * P_;
      T* dY = from_images(kOut, a.dy.data, n0, n1);
      if (sum || per_example) {
        // Aᵀ (BP, K): the observers' patch rows when they were built, or this chunk's patches.
        const bool rows = !rows_a_.empty();
        const T* A = rows ? rows_a_.data() + n0 * P_ * K_ : patches(kCols, x_.data, n0, n1);
        const Trans ta = rows ? Trans::No : Trans::Yes;
        auto col = [&](index_t j) { return rows ? A + j * K_ : A + j; };  // column j of A
        const index_t lda = rows ? K_ : BP;
        if (sum) {
          T* part = partials_.chunk(chunk);
          gemm(Trans::No, ta, O_, K_, BP, T(1), dY, BP, A, lda, T(0), part, K_);  // Ȳ Aᵀ
          add_row_sums(dY, BP, part + O_ * K_);
        } else {
          for (index_t n = n0; n < n1; ++n) {
            T* row = a.dtheta.data + n * a.dtheta.stride;
            const index_t off = (n - n0) * P_;
            if (wc >= 0)
              gemm(Trans::No, ta, O_, K_, P_, T(1), dY + off, BP, col(off), lda, T(1), row + wc,
                   K_);
            if (bc >= 0)
              for (index_t o = 0; o < O_; ++o)
                for (index_t p = 0; p < P_; ++p) row[bc + o] += dY[o * BP + off + p];
          }
        }
      }
      if (!a.dx[0].empty()) {  // x̄ += col2im(Wᵀ Ȳ)
        T* dA = detail::thread_scratch<T>(kColsDot, K_ * BP);
        gemm(Trans::Yes, Trans::No, K_, BP, O_, T(1), w_.value.data, dY, T(0), dA);
        col2im_add(g_, dA, n0, n1, a.dx[0].data);
      }
    });
    if (sum)
      partials_.reduce_into(a.dtheta.data + w_.offset, O_ * K_,
                            b_.empty() ? nullptr : a.dtheta.data + b_.offset);
  }

  void jvp(const JvpArgs<T>& a) override {
    const T* xd = a.x_dot[0].empty() ? nullptr : a.x_dot[0].data;
    const T* td = a.theta_dot;
    run_chunks([&](index_t, index_t n0, index_t n1) {
      const index_t BP = (n1 - n0) * P_;
      T* Y = detail::thread_scratch<T>(kOut, O_ * BP);
      const T* bias_dot = td && !b_.empty() ? td + b_.offset : nullptr;
      T beta = 0;
      if (xd) affine(w_.value.data, patches(kColsDot, xd, n0, n1), bias_dot, BP, T(0), Y), beta = 1;
      if (td)
        affine(td + w_.offset, patches(kCols, x_.data, n0, n1), beta == T(0) ? bias_dot : nullptr,
               BP, beta, Y),
            beta = 1;
      if (beta == T(0)) std::fill(Y, Y + O_ * BP, T(0));
      to_images(Y, n0, n1, a.y_dot.data);
    });
  }

  void vjp_rop(const VjpRopArgs<T>& a) override {
    const T* xd = a.x_dot[0].empty() ? nullptr : a.x_dot[0].data;
    const T* td = a.theta_dot;
    if (a.dtheta_dot) partials_.fill_zero(chunks_, O_ * K_ + O_);
    run_chunks([&](index_t chunk, index_t n0, index_t n1) {
      const index_t BP = (n1 - n0) * P_;
      T* dY = from_images(kOut, a.dy.data, n0, n1);
      T* rdY = from_images(kOutDot, a.dy_dot.data, n0, n1);
      if (a.dtheta_dot) {  // R{W̄} = R{Ȳ} Aᵀ + Ȳ im2col(ẋ)ᵀ
        T* part = partials_.chunk(chunk);
        gemm(Trans::No, Trans::Yes, O_, K_, BP, T(1), rdY, patches(kCols, x_.data, n0, n1), T(0),
             part);
        if (xd)
          gemm(Trans::No, Trans::Yes, O_, K_, BP, T(1), dY, patches(kColsDot, xd, n0, n1), T(1),
               part);
        add_row_sums(rdY, BP, part + O_ * K_);
      }
      if (!a.dx_dot[0].empty()) {  // R{x̄} += col2im(Wᵀ R{Ȳ} + Ẇᵀ Ȳ)
        T* dA = detail::thread_scratch<T>(kColsDot, K_ * BP);
        gemm(Trans::Yes, Trans::No, K_, BP, O_, T(1), w_.value.data, rdY, T(0), dA);
        if (td) gemm(Trans::Yes, Trans::No, K_, BP, O_, T(1), td + w_.offset, dY, T(1), dA);
        col2im_add(g_, dA, n0, n1, a.dx_dot[0].data);
      }
    });
    if (a.dtheta_dot)
      partials_.reduce_into(a.dtheta_dot + w_.offset, O_ * K_,
                            b_.empty() ? nullptr : a.dtheta_dot + b_.offset);
  }

 private:
  // f(chunk, n0, n1) for every chunk of images, in parallel, BLAS single-threaded.
  template <class F>
  void run_chunks(F&& f) const {
    BlasSerial serial;
    parallel_for(chunks_, 1, [&](index_t c0, index_t c1) {
      for (index_t c = c0; c < c1; ++c) f(c, c * B_, std::min(g_.n, (c + 1) * B_));
    });
  }
  T* patches(Slot slot, const T* x, index_t n0, index_t n1) const {
    T* a = detail::thread_scratch<T>(slot, K_ * (n1 - n0) * P_);
    im2col(g_, x, n0, n1, a);
    return a;
  }
  // Y (O, BP) = beta·Y + W A, plus the bias broadcast along each row when given.
  void affine(const T* w, const T* a, const T* bias, index_t BP, T beta, T* Y) const {
    if (bias) {
      for (index_t o = 0; o < O_; ++o)
        std::fill(Y + o * BP, Y + (o + 1) * BP, beta * T(0) + bias[o]);
      if (beta != T(0)) fail("conv2d: internal: bias with accumulation");
      beta = 1;
    }
    gemm(Trans::No, Trans::No, O_, BP, K_, T(1), w, a, beta, Y);
  }
  static void add_row_sums_impl(const T* m, index_t rows, index_t cols, T* out) {
    for (index_t r = 0; r < rows; ++r) {
      T s = 0;
      for (index_t c = 0; c < cols; ++c) s += m[r * cols + c];
      out[r] += s;
    }
  }
  void add_row_sums(const T* m, index_t BP, T* out) const { add_row_sums_impl(m, O_, BP, out); }
  // Chunk layout (O, B·P) ⇄ images (B, O, P).
  void to_images(const T* Y, index_t n0, index_t n1, T* y) const {
    const index_t BP = (n1 - n0) * P_;
    for (index_t n = n0; n < n1; ++n)
      for (index_t o = 0; o < O_; ++o)
        std::copy(Y + o * BP + (n - n0) * P_, Y + o * BP + (n - n0 + 1) * P_,
                  y + (n * O_ + o) * P_);
  }
  T* from_images(Slot slot, const T* y, index_t n0, index_t n1) const {
    const index_t BP = (n1 - n0) * P_;
    T* Y = detail::thread_scratch<T>(slot, O_ * BP);
    for (index_t n = n0; n < n1; ++n)
      for (index_t o = 0; o < O_; ++o)
        std::copy(y + (n * O_ + o) * P_, y + (n * O_ + o + 1) * P_, Y + o * BP + (n - n0) * P_);
    return Y;
  }

  // One (O·K + O) block of parameter-gradient partial sums per chunk.
  struct Partials {
    Tensor<T> t;
    index_t size = 0;
    void fill_zero(index_t chunks, index_t n) {
      size = n;
      t.resize(Shape{chunks, n});
      t.fill(T(0));
    }
    T* chunk(index_t c) { return t.data() + c * size; }
    void reduce_into(T* dw, index_t wn, T* db) {
      for (index_t c = 0; c < t.shape()[0]; ++c) {
        const T* p = chunk(c);
        for (index_t i = 0; i < wn; ++i) dw[i] += p[i];
        if (db)
          for (index_t i = wn; i < size; ++i) db[i - wn] += p[i];
      }
    }
  };

  ConvGeometry g_;
  ParamRef<T> w_, b_;
  View<const T> x_;
  index_t O_, K_, P_, B_ = 1, chunks_ = 1;
  Partials partials_;
  Tensor<T> rows_a_, rows_g_;  // observer views, built on demand
};

}  // namespace

namespace ops {

template <class T>
Value conv2d(Tape<T>& t, Value x, ParamRef<T> w, ParamRef<T> b, index_t stride, index_t pad) {
  const Shape xs = t.shape(x), ws = w.value.shape;
  CURV_CHECK(ws.rank() == 4, "conv2d: expected a weight (O,C,KH,KW), found ", ws.str());
  CURV_CHECK(xs.rank() == 4 && xs[1] == ws[1], "conv2d: expected input (N,", ws[1], ",H,W), found ",
             xs.str());
  CURV_CHECK(b.empty() || b.value.shape == Shape{ws[0]}, "conv2d: expected bias [", ws[0],
             "], found ", b.value.shape.str());
  const ConvGeometry g = ConvGeometry::make(xs[0], xs[1], xs[2], xs[3], ws[2], ws[3], stride, pad);
  Value y = t.new_value(Shape{g.n, ws[0], g.oh, g.ow}, true);
  auto node = std::make_unique<Conv2d<T>>(g, w, b, t.value(x));
  node->forward(t.value(y).data);
  if (t.observer() && t.observer()->observes("conv2d", w.offset))
    t.observer()->on_forward(node->event(nullptr));
  t.record(std::move(node), {x}, y);
  return y;
}

template Value conv2d<float>(Tape<float>&, Value, ParamRef<float>, ParamRef<float>, index_t,
                             index_t);
template Value conv2d<double>(Tape<double>&, Value, ParamRef<double>, ParamRef<double>, index_t,
                              index_t);

}  // namespace ops
}  // namespace curv
