// Multi-head scaled dot-product attention, self (packed qkv) or cross (q, packed kv).
// Per example n and head h, with Q:(Tq,dh), K, V:(Tk,dh) the head's columns and s = 1/√dh:
//   forward  S = s Q Kᵀ (masked above the diagonal when causal),  P = softmax_rows(S),  O = P V
//   vjp      V̄ += Pᵀ Ō,  P̄ = Ō Vᵀ,  S̄ = P ⊙ (P̄ − rowsum(P̄ ⊙ P)),  Q̄ += s S̄ K,  K̄ += s S̄ᵀ Q
//   jvp      Ṡ = s (Q̇ Kᵀ + Q K̇ᵀ),  Ṗ = P ⊙ (Ṡ − rowsum(Ṡ ⊙ P)),  Ȯ = Ṗ V + P V̇
//   vjp_rop  R{V̄} += Ṗᵀ Ō + Pᵀ R{Ō},  R{P̄} = R{Ō} Vᵀ + Ō V̇ᵀ,
//            R{S̄} = Ṗ ⊙ (P̄ − rowsum(P̄ ⊙ P)) + P ⊙ (R{P̄} − rowsum(R{P̄} ⊙ P) − rowsum(P̄ ⊙ Ṗ)),
//            R{Q̄} += s (R{S̄} K + S̄ K̇),  R{K̄} += s (R{S̄}ᵀ Q + S̄ᵀ Q̇)
// Inputs are packed as the projections produce them: self-attention reads q, k, v from one
// (N,T,3d) value (q, k, v blocks, heads contiguous in each); cross-attention reads q (N,Tq,d)
// and k, v from one (N,Tk,2d) value. P is kept, (N,H,Tq,Tk); heads run in parallel.
#include <cmath>
#include <limits>

#include "common.hpp"
#include "curv/kernels/exp.hpp"
#include "curv/ops/ops.hpp"

namespace curv {
namespace {

enum Slot { kS = 0, kDP = 1, kSd = 2, kRDP = 3 };

// Where a head's q, k, v live inside the packed inputs: base pointers are resolved per pass
// (values, adjoints or tangents share one layout).
struct Layout {
  index_t N, Tq, Tk, d, H, dh;
  int q_in, kv_in;              // which node input holds q, and k/v
  index_t q_off, k_off, v_off;  // column offsets inside their rows
  index_t ldq, ldkv;            // row lengths of the q and kv inputs
};

template <class T>
class Attention final : public Node<T> {
 public:
  Attention(Layout l, bool causal, std::array<View<const T>, 2> in)
      : l_(l), causal_(causal), in_(in), P_(Shape{l.N, l.H, l.Tq, l.Tk}) {}
  std::string_view name() const override { return "attention"; }
  // q, k, v of head h of example n, from the per-input base pointers b.
  template <class P>
  P* q(std::array<P*, 2> b, index_t n, index_t h) const {
    return b[l_.q_in] + n * l_.Tq * l_.ldq + l_.q_off + h * l_.dh;
  }
  template <class P>
  P* k(std::array<P*, 2> b, index_t n, index_t h) const {
    return b[l_.kv_in] + n * l_.Tk * l_.ldkv + l_.k_off + h * l_.dh;
  }
  template <class P>
  P* v(std::array<P*, 2> b, index_t n, index_t h) const {
    return b[l_.kv_in] + n * l_.Tk * l_.ldkv + l_.v_off + h * l_.dh;
  }
  T* p(index_t n, index_t h) { return P_.data() + (n * l_.H + h) * l_.Tq * l_.Tk; }
  T* o(T* base, index_t n, index_t h) const { return base + n * l_.Tq * l_.d + h * l_.dh; }
  const T* o(const T* base, index_t n, index_t h) const {
    return base + n * l_.Tq * l_.d + h * l_.dh;
  }
  T scale() const { return T(1) / std::sqrt(T(l_.dh)); }

  void forward(T* out) {
    const std::array<const T*, 2> x{in_[0].data, in_[1].data};
    for_each_head([&](index_t n, index_t h) {
      T* P = p(n, h);
      gemm(Trans::No, Trans::Yes, l_.Tq, l_.Tk, l_.dh, scale(), q(x, n, h), l_.ldq, k(x, n, h),
           l_.ldkv, T(0), P, l_.Tk);
      softmax_rows(P);
      gemm(Trans::No, Trans::No, l_.Tq, l_.dh, l_.Tk, T(1), P, l_.Tk, v(x, n, h), l_.ldkv, T(0),
           o(out, n, h), l_.d);
    });
  }

  void vjp(const VjpArgs<T>& a) override {
    const std::array<const T*, 2> x{in_[0].data, in_[1].data};
    const std::array<T*, 2> dx{a.dx[0].data, num_inputs() > 1 ? a.dx[1].data : nullptr};
    if (!dx[0] && !dx[1]) return;
    for_each_head([&](index_t n, index_t h) {
      const T* P = p(n, h);
      const T* dO = o(a.dy.data, n, h);
      T* dS = detail::thread_scratch<T>(kDP, l_.Tq * l_.Tk);
      if (dx[l_.kv_in])  // V̄ += Pᵀ Ō
        gemm(Trans::Yes, Trans::No, l_.Tk, l_.dh, l_.Tq, T(1), P, l_.Tk, dO, l_.d, T(1),
             v(dx, n, h), l_.ldkv);
      gemm(Trans::No, Trans::Yes, l_.Tq, l_.Tk, l_.dh, T(1), dO, l_.d, v(x, n, h), l_.ldkv, T(0),
           dS, l_.Tk);  // P̄
      softmax_backward(P, dS);
      if (dx[l_.q_in])
        gemm(Trans::No, Trans::No, l_.Tq, l_.dh, l_.Tk, scale(), dS, l_.Tk, k(x, n, h), l_.ldkv,
             T(1), q(dx, n, h), l_.ldq);
      if (dx[l_.kv_in])
        gemm(Trans::Yes, Trans::No, l_.Tk, l_.dh, l_.Tq, scale(), dS, l_.Tk, q(x, n, h), l_.ldq,
             T(1), k(dx, n, h), l_.ldkv);
    });
  }

  void jvp(const JvpArgs<T>& a) override {
    const std::array<const T*, 2> x{in_[0].data, in_[1].data};
    const std::array<const T*, 2> xd{a.x_dot[0].data, num_inputs() > 1 ? a.x_dot[1].data : nullptr};
    for_each_head([&](index_t n, index_t h) {
      T* Pd = detail::thread_scratch<T>(kSd, l_.Tq * l_.Tk);
      T* Od = o(a.y_dot.data, n, h);
      const bool has_s = p_dot(x, xd, n, h, Pd);
      if (has_s)
        gemm(Trans::No, Trans::No, l_.Tq, l_.dh, l_.Tk, T(1), Pd, l_.Tk, v(x, n, h), l_.ldkv, T(0),
             Od, l_.d);
      if (xd[l_.kv_in])
        gemm(Trans::No, Trans::No, l_.Tq, l_.dh, l_.Tk, T(1), p(n, h), l_.Tk, v(xd, n, h), l_.ldkv,
             T(has_s ? 1 : 0), Od, l_.d);
      else if (!has_s)
        for (index_t i = 0; i < l_.Tq; ++i) std::fill(Od + i * l_.d, Od + i * l_.d + l_.dh, T(0));
    });
  }

  void vjp_rop(const VjpRopArgs<T>& a) override {
    const std::array<const T*, 2> x{in_[0].data, in_[1].data};
    const std::array<const T*, 2> xd{a.x_dot[0].data, num_inputs() > 1 ? a.x_dot[1].data : nullptr};
    const std::array<T*, 2> rdx{a.dx_dot[0].data, num_inputs() > 1 ? a.dx_dot[1].data : nullptr};
    if (!rdx[0] && !rdx[1]) return;
    for_each_head([&](index_t n, index_t h) {
      const T* P = p(n, h);
      const T* dO = o(a.dy.data, n, h);
      const T* rdO = o(a.dy_dot.data, n, h);
      const index_t TT = l_.Tq * l_.Tk;
      T* dS = detail::thread_scratch<T>(kDP, TT);
      T* rdS = detail::thread_scratch<T>(kRDP, TT);
      T* Pd = detail::thread_scratch<T>(kSd, TT);
      const bool has_pd = p_dot(x, xd, n, h, Pd);
      if (rdx[l_.kv_in]) {  // R{V̄} += Ṗᵀ Ō + Pᵀ R{Ō}
        if (has_pd)
          gemm(Trans::Yes, Trans::No, l_.Tk, l_.dh, l_.Tq, T(1), Pd, l_.Tk, dO, l_.d, T(1),
               v(rdx, n, h), l_.ldkv);
        gemm(Trans::Yes, Trans::No, l_.Tk, l_.dh, l_.Tq, T(1), P, l_.Tk, rdO, l_.d, T(1),
             v(rdx, n, h), l_.ldkv);
      }
      gemm(Trans::No, Trans::Yes, l_.Tq, l_.Tk, l_.dh, T(1), dO, l_.d, v(x, n, h), l_.ldkv, T(0),
           dS, l_.Tk);  // P̄
      gemm(Trans::No, Trans::Yes, l_.Tq, l_.Tk, l_.dh, T(1), rdO, l_.d, v(x, n, h), l_.ldkv, T(0),
           rdS, l_.Tk);  // R{P̄}
      if (xd[l_.kv_in])
        gemm(Trans::No, Trans::Yes, l_.Tq, l_.Tk, l_.dh, T(1), dO, l_.d, v(xd, n, h), l_.ldkv, T(1),
             rdS, l_.Tk);
      // R{S̄} from P̄ and R{P̄} (before P̄ becomes S̄ in place).
      for (index_t i = 0; i < l_.Tq; ++i) {
        const T* Pi = P + i * l_.Tk;
        T *dPi = dS + i * l_.Tk, *rPi = rdS + i * l_.Tk;
        const T* Pdi = has_pd ? Pd + i * l_.Tk : nullptr;
        T a1 = 0, a2 = 0, a3 = 0;
        for (index_t j = 0; j < l_.Tk; ++j) {
          a1 += dPi[j] * Pi[j], a2 += rPi[j] * Pi[j];
          if (Pdi) a3 += dPi[j] * Pdi[j];
        }
        for (index_t j = 0; j < l_.Tk; ++j) {
          T r = Pi[j] * (rPi[j] - a2 - a3);
          if (Pdi) r += Pdi[j] * (dPi[j] - a1);
          rPi[j] = r;
          dPi[j] = Pi[j] * (dPi[j] - a1);  // S̄
        }
      }
      if (rdx[l_.q_in]) {  // R{Q̄} += s (R{S̄} K + S̄ K̇)
        gemm(Trans::No, Trans::No, l_.Tq, l_.dh, l_.Tk, scale(), rdS, l_.Tk, k(x, n, h), l_.ldkv,
             T(1), q(rdx, n, h), l_.ldq);
        if (xd[l_.kv_in])
          gemm(Trans::No, Trans::No, l_.Tq, l_.dh, l_.Tk, scale(), dS, l_.Tk, k(xd, n, h), l_.ldkv,
               T(1), q(rdx, n, h), l_.ldq);
      }
      if (rdx[l_.kv_in]) {  // R{K̄} += s (R{S̄}ᵀ Q + S̄ᵀ Q̇)
        gemm(Trans::Yes, Trans::No, l_.Tk, l_.dh, l_.Tq, scale(), rdS, l_.Tk, q(x, n, h), l_.ldq,
             T(1), k(rdx, n, h), l_.ldkv);
        if (xd[l_.q_in])
          gemm(Trans::Yes, Trans::No, l_.Tk, l_.dh, l_.Tq, scale(), dS, l_.Tk, q(xd, n, h), l_.ldq,
               T(1), k(rdx, n, h), l_.ldkv);
      }
    });
  }

 private:
  int num_inputs() const { return l_.q_in == l_.kv_in ? 1 : 2; }

  template <class F>
  void for_each_head(F&& f) {
    BlasSerial serial;
    parallel_for(l_.N * l_.H, 1, [&](index_t b, index_t e) {
      for (index_t i = b; i < e; ++i) f(i / l_.H, i % l_.H);
    });
  }

  // Row-wise softmax of S (Tq, Tk) in place, with the causal mask.
  void softmax_rows(T* S) const {
    for (index_t i = 0; i < l_.Tq; ++i) {
      T* r = S + i * l_.Tk;
      const index_t end = causal_ ? std::min(l_.Tk, i + 1) : l_.Tk;
      T m = r[0];
      for (index_t j = 1; j < end; ++j) m = std::max(m, r[j]);
      T s = 0;
      for (index_t j = 0; j < end; ++j) r[j] = fast_exp(r[j] - m);
      for (index_t j = 0; j < end; ++j) s += r[j];
      for (index_t j = 0; j < end; ++j) r[j] /= s;
      std::fill(r + end, r + l_.Tk, T(0));
    }
  }
  // dP → S̄ = P ⊙ (dP − rowsum(dP ⊙ P)), in place.
  void softmax_backward(const T* P, T* dP) const {
    for (index_t i = 0; i < l_.Tq; ++i) {
      const T* Pi = P + i * l_.Tk;
      T* di = dP + i * l_.Tk;
      T a = 0;
      for (index_t j = 0; j < l_.Tk; ++j) a += di[j] * Pi[j];
      for (index_t j = 0; j < l_.Tk; ++j) di[j] = Pi[j] * (di[j] - a);
    }
  }
  // Ṗ of head (n,h) into Pd; false (Pd untouched) when neither Q nor K has a tangent.
  bool p_dot(std::array<const T*, 2> x, std::array<const T*, 2> xd, index_t n, index_t h, T* Pd) {
    const bool qd = xd[l_.q_in] != nullptr, kd = xd[l_.kv_in] != nullptr;
    if (!qd && !kd) return false;
    T beta = 0;
    if (qd)
      gemm(Trans::No, Trans::Yes, l_.Tq, l_.Tk, l_.dh, scale(), q(xd, n, h), l_.ldq, k(x, n, h),
           l_.ldkv, beta, Pd, l_.Tk),
          beta = 1;
    if (kd)
      gemm(Trans::No, Trans::Yes, l_.Tq, l_.Tk, l_.dh, scale(), q(x, n, h), l_.ldq, k(xd, n, h),
           l_.ldkv, beta, Pd, l_.Tk);
    softmax_backward(p(n, h), Pd);  // Ṗ = P ⊙ (Ṡ − rowsum(Ṡ ⊙ P)); masked entries have P = 0
    return true;
  }

  Layout l_;
  bool causal_;
  std::array<View<const T>, 2> in_;
  Tensor<T> P_;
};

}  // namespace

namespace ops {

template <class T>
Value self_attention(Tape<T>& t, Value qkv, index_t heads, bool causal) {
  const Shape s = t.shape(qkv);
  CURV_CHECK(s.rank() == 3 && s[2] % 3 == 0 && heads > 0 && (s[2] / 3) % heads == 0,
             "self_attention: expected ", "(N,T,3d) with d divisible by ", heads, " heads, found ",
             s.str());
  const index_t d = s[2] / 3;
  const Layout l{s[0], s[1], s[1], d, heads, d / heads, 0, 0, 0, d, 2 * d, 3 * d, 3 * d};
  Value y = t.new_value(Shape{s[0], s[1], d}, t.depends(qkv));
  auto node = std::make_unique<Attention<T>>(
      l, causal, std::array<View<const T>, 2>{t.value(qkv), t.value(qkv)});
  node->forward(t.value(y).data);
  t.record(std::move(node), {qkv}, y);
  return y;
}

template <class T>
Value cross_attention(Tape<T>& t, Value q, Value kv, index_t heads) {
  const Shape qs = t.shape(q), ks = t.shape(kv);
  CURV_CHECK(qs.rank() == 3 && ks.rank() == 3 && qs[0] == ks[0] && ks[2] == 2 * qs[2] &&
                 heads > 0 && qs[2] % heads == 0,
             "cross_attention: expected q (N,Tq,d) and kv (N,Tk,2d) with d divisible by ", heads,
             " heads, found ", qs.str(), " and ", ks.str());
  const index_t d = qs[2];
  const Layout l{qs[0], qs[1], ks[1], d, heads, d / heads, 0, 1, 0, 0, d, d, 2 * d};
  Value y = t.new_value(qs, t.depends(q) || t.depends(kv));
  auto node = std::make_unique<Attention<T>>(l, false,
                                             std::array<View<const T>, 2>{t.value(q), t.value(kv)});
  node->forward(t.value(y).data);
  t.record(std::move(node), {q, kv}, y);
  return y;
}

template Value self_attention<float>(Tape<float>&, Value, index_t, bool);
template Value self_attention<double>(Tape<double>&, Value, index_t, bool);
template Value cross_attention<float>(Tape<float>&, Value, Value, index_t);
template Value cross_attention<double>(Tape<double>&, Value, Value, index_t);

}  // namespace ops
}  // namespace curv
