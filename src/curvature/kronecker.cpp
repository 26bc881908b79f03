#include "curv/curvature/kronecker.hpp"

#include <algorithm>
#include <cmath>

#include "curv/core/error.hpp"
#include "curv/kernels/gemm.hpp"
#include "curv/linalg/dense.hpp"

namespace curv {

namespace {

std::vector<double> transposed(const std::vector<double>& M, index_t n) {
  std::vector<double> t(M.size());
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < n; ++j) t[j * n + i] = M[i * n + j];
  return t;
}

double trace_of(const std::vector<double>& M, index_t n) {
  double t = 0;
  for (index_t i = 0; i < n; ++i) t += M[i * n + i];
  return t;
}

}  // namespace

KroneckerBlock::KroneckerBlock(KfacLayer layer, std::vector<double> A, std::vector<double> G)
    : layer_(std::move(layer)), A_(std::move(A)), G_(std::move(G)) {
  const index_t din = layer_.din(), out = layer_.out;
  CURV_CHECK(index_t(A_.size()) == din * din && index_t(G_.size()) == out * out, "K-FAC block ",
             layer_.kind, " at offset ", layer_.weight_offset, ": expected factors ", din, "x", din,
             " and ", out, "x", out, ", found ", A_.size(), " and ", G_.size(), " entries");
  for (double v : A_)
    CURV_CHECK(std::isfinite(v), "K-FAC block at offset ", layer_.weight_offset,
               ": input factor A has a non-finite entry ", v);
  for (double v : G_)
    CURV_CHECK(std::isfinite(v), "K-FAC block at offset ", layer_.weight_offset,
               ": output factor G has a non-finite entry ", v);
  work_.resize(static_cast<std::size_t>(out * din));
}

void KroneckerBlock::ensure_eigen() {
  if (!QA_.empty()) return;
  const index_t din = layer_.din(), out = layer_.out;
  alpha_.resize(din), QA_.resize(din * din), gamma_.resize(out), QG_.resize(out * out);
  linalg::eigh(A_.data(), din, alpha_.data(), QA_.data());
  linalg::eigh(G_.data(), out, gamma_.data(), QG_.data());
  // A and G are sums of outer products, positive semi-definite: an eigenvalue below zero is
  // rounding (float32 accumulation), and kept it would make γ·α negative — N·γ·α + δ can then
  // fall below zero for a small prior δ.
  for (double& a : alpha_) a = std::max(a, 0.0);
  for (double& g : gamma_) g = std::max(g, 0.0);
}

const std::vector<double>& KroneckerBlock::eigenvalues_A() { return ensure_eigen(), alpha_; }
const std::vector<double>& KroneckerBlock::eigenvalues_G() { return ensure_eigen(), gamma_; }
const std::vector<double>& KroneckerBlock::eigenvectors_A() { return ensure_eigen(), QA_; }
const std::vector<double>& KroneckerBlock::eigenvectors_G() { return ensure_eigen(), QG_; }

double pi_adjustment(const std::vector<double>& A, index_t din, const std::vector<double>& G,
                     index_t out) {
  const double a = trace_of(A, din) / double(din), g = trace_of(G, out) / double(out);
  return a > 0 && g > 0 ? std::sqrt(a / g) : 1.0;
}

double KroneckerBlock::pi() const { return pi_adjustment(A_, layer_.din(), G_, layer_.out); }

void KroneckerBlock::set_refit(std::vector<double> S) {
  CURV_CHECK(index_t(S.size()) == layer_.size(), "EK-FAC block at offset ", layer_.weight_offset,
             ": expected a scaling of ", layer_.size(), " entries, found ", S.size());
  S_ = std::move(S);
  inverse_lambda_ = -1;
}

std::vector<double> KroneckerBlock::scaling() {
  if (refitted()) return S_;
  ensure_eigen();
  const index_t din = layer_.din(), out = layer_.out;
  std::vector<double> s(static_cast<std::size_t>(out * din));
  for (index_t o = 0; o < out; ++o)
    for (index_t i = 0; i < din; ++i) s[o * din + i] = gamma_[o] * alpha_[i];
  return s;
}

template <class T>
void kronecker_eigen(const T* QG, const T* QA, index_t O, index_t din, const T* scale, const T* V,
                     T* out, T* work) {
  gemm(Trans::Yes, Trans::No, O, din, O, T(1), QG, V, T(0), work);     // Q_Gᵀ V
  gemm(Trans::No, Trans::No, O, din, din, T(1), work, QA, T(0), out);  // (Q_Gᵀ V) Q_A
  for (index_t j = 0; j < O * din; ++j) out[j] *= scale[j];
  gemm(Trans::No, Trans::Yes, O, din, din, T(1), out, QA, T(0), work);  // (·) Q_Aᵀ
  gemm(Trans::No, Trans::No, O, din, O, T(1), QG, work, T(0), out);     // Q_G (·)
}

template <class T>
void kronecker_sandwich(const T* L, const T* R, index_t O, index_t din, const T* V, T* out,
                        T* work) {
  gemm(Trans::No, Trans::No, O, din, O, T(1), L, V, T(0), work);      // L V
  gemm(Trans::No, Trans::No, O, din, din, T(1), work, R, T(0), out);  // (L V) R
}

template void kronecker_eigen(const float*, const float*, index_t, index_t, const float*,
                              const float*, float*, float*);
template void kronecker_eigen(const double*, const double*, index_t, index_t, const double*,
                              const double*, double*, double*);
template void kronecker_sandwich(const float*, const float*, index_t, index_t, const float*, float*,
                                 float*);
template void kronecker_sandwich(const double*, const double*, index_t, index_t, const double*,
                                 double*, double*);

void KroneckerBlock::in_eigenbasis(const double* V, const std::vector<double>& scale, double* out) {
  ensure_eigen();
  kronecker_eigen(QG_.data(), QA_.data(), layer_.out, layer_.din(), scale.data(), V, out,
                  work_.data());
}

void KroneckerBlock::mv(const double* V, double* out) {
  if (refitted()) return in_eigenbasis(V, S_, out);
  // G V A (A symmetric).
  kronecker_sandwich(G_.data(), A_.data(), layer_.out, layer_.din(), V, out, work_.data());
}

const std::vector<double>& KroneckerBlock::inverse_scaling(double lambda) {
  CURV_CHECK(lambda >= 0, "K-FAC: expected a damping >= 0, found ", lambda);
  if (lambda == inverse_lambda_) return inverse_scale_;
  std::vector<double>& inv = inverse_scale_;
  inverse_lambda_ = -1;  // invalid until filled
  inv = scaling();
  for (auto& s : inv) s += lambda;
  for (auto& s : inv) {
    CURV_CHECK(s > 0, "K-FAC block at offset ", layer_.weight_offset,
               " is singular under this damping (eigenvalue ", s, "): raise the damping above 0");
    s = 1.0 / s;
  }
  inverse_lambda_ = lambda;
  return inv;
}

void KroneckerBlock::inverse_mv(const double* V, double lambda, double* out) {
  in_eigenbasis(V, inverse_scaling(lambda), out);
}

std::vector<double> KroneckerBlock::inverse_root_scaling(double lambda) {
  std::vector<double> root = inverse_scaling(lambda);
  for (double& r : root) r = std::sqrt(r);
  return root;
}

void KroneckerBlock::inverse_root_mv(const double* V, double lambda, double* out) {
  in_eigenbasis(V, inverse_root_scaling(lambda), out);
}

void KroneckerBlock::inverse_factored_covariance(const double* a, const double* g, index_t n,
                                                 index_t rows, index_t k, double lambda,
                                                 double* out) {
  const index_t din = layer_.din(), O = layer_.out;
  CURV_CHECK(g != nullptr || (k == O && rows == 1), "K-FAC block at offset ", layer_.weight_offset,
             ": expected the layer's ", O, " outputs for one row without adjoints, found ", k,
             " outputs of ", rows, " rows");
  const std::vector<double>& inv_scale = inverse_scaling(lambda);
  ensure_eigen();
  if (rows > 1) {
    // Per chunk of inputs (about 4 M entries of G̃): Ã = Â Q_A, (n·R, din); G̃ = G Q_G,
    // (n·k·R, out); then per input Zₑ,c = (G̃ₑ,cᵀ Ãₑ) ⊙ (S + λ)^(-1/2) and Σₑ += Zₑ Zₑᵀ.
    const index_t m = O * din, step = std::max<index_t>(1, (index_t(1) << 22) / (k * rows * O));
    const std::vector<double> root = inverse_root_scaling(lambda);
    std::vector<double> At, Gt, Y(static_cast<std::size_t>(k * m));
    for (index_t first = 0; first < n; first += step) {
      const index_t b = std::min(step, n - first);
      At.resize(static_cast<std::size_t>(b * rows * din));
      Gt.resize(static_cast<std::size_t>(b * k * rows * O));
      gemm(Trans::No, Trans::No, b * rows, din, din, 1.0, a + first * rows * din, QA_.data(), 0.0,
           At.data());
      gemm(Trans::No, Trans::No, b * k * rows, O, O, 1.0, g + first * k * rows * O, QG_.data(), 0.0,
           Gt.data());
      for (index_t e = 0; e < b; ++e) {
        for (index_t c = 0; c < k; ++c) {
          double* y = Y.data() + c * m;
          gemm(Trans::Yes, Trans::No, O, din, rows, 1.0, Gt.data() + (e * k + c) * rows * O,
               At.data() + e * rows * din, 0.0, y);
          for (index_t j = 0; j < m; ++j) y[j] *= root[std::size_t(j)];
        }
        gemm(Trans::No, Trans::Yes, k, k, m, 1.0, Y.data(), Y.data(), 1.0,
             out + (first + e) * k * k);
      }
    }
    return;
  }
  std::vector<double> p(static_cast<std::size_t>(n * din)), w(static_cast<std::size_t>(O));
  // p = â Q_A: every input's coordinates in A's eigenbasis, (n, din).
  gemm(Trans::No, Trans::No, n, din, din, 1.0, a, QA_.data(), 0.0, p.data());
  // r = g Q_G: row (n, c) is Q_Gᵀgₙ,c, (n·k, out); for g = I it is Q_G's row c.
  std::vector<double> r;
  if (g) {
    r.resize(static_cast<std::size_t>(n * k * O));
    gemm(Trans::No, Trans::No, n * k, O, O, 1.0, g, QG_.data(), 0.0, r.data());
  }
  for (index_t e = 0; e < n; ++e) {
    const double* pe = p.data() + e * din;
    for (index_t o = 0; o < O; ++o) {  // w_o = Σ_i p_i² / (S[o,i] + λ)
      const double* inv = inv_scale.data() + o * din;
      double s = 0;
      for (index_t i = 0; i < din; ++i) s += pe[i] * pe[i] * inv[i];
      w[std::size_t(o)] = s;
    }
    const double* re = g ? r.data() + e * k * O : QG_.data();
    double* Se = out + e * k * k;  // Rₑ diag(w) Rₑᵀ
    for (index_t c = 0; c < k; ++c)
      for (index_t d = 0; d <= c; ++d) {
        double s = 0;
        for (index_t o = 0; o < O; ++o) s += re[c * O + o] * re[d * O + o] * w[std::size_t(o)];
        Se[c * k + d] += s;
        if (d != c) Se[d * k + c] += s;
      }
  }
}

void KroneckerBlock::inverse_covariance(const double* V, index_t n, index_t k, double lambda,
                                        double* out) {
  const index_t din = layer_.din(), O = layer_.out, m = O * din, rows = n * k;
  const std::vector<double> root = inverse_root_scaling(lambda);
  ensure_eigen();
  std::vector<double> X(static_cast<std::size_t>(rows * m)), Y(X.size());
  // X = V Q_A for all rows at once ((rows·out, din)), then Yᵣ = Q_Gᵀ Xᵣ row by row.
  gemm(Trans::No, Trans::No, rows * O, din, din, 1.0, V, QA_.data(), 0.0, X.data());
  for (index_t r = 0; r < rows; ++r)
    gemm(Trans::Yes, Trans::No, O, din, O, 1.0, QG_.data(), X.data() + r * m, 0.0,
         Y.data() + r * m);
  // Zᵣ = Yᵣ ⊙ (S + λ)^(-1/2), so Σₙ = Zₙ Zₙᵀ over the k rows of input n.
  for (index_t r = 0; r < rows; ++r) {
    double* y = Y.data() + r * m;
    for (index_t j = 0; j < m; ++j) y[j] *= root[std::size_t(j)];
  }
  for (index_t e = 0; e < n; ++e) {
    const double* Z = Y.data() + e * k * m;
    gemm(Trans::No, Trans::Yes, k, k, m, 1.0, Z, Z, 1.0, out + e * k * k);
  }
}

void KroneckerBlock::diagonal(double* d) {
  const index_t din = layer_.din(), O = layer_.out;
  if (!refitted()) {
    for (index_t o = 0; o < O; ++o)
      for (index_t i = 0; i < din; ++i) d[o * din + i] = G_[o * O + o] * A_[i * din + i];
    return;
  }
  // In the standard basis: rows of Q_G and Q_A, i.e. Q_Gᵀ and Q_Aᵀ as the basis.
  ensure_eigen();
  squared_sandwich(transposed(QG_, O), transposed(QA_, din), scaling(), d);
}

void KroneckerBlock::inverse_diagonal(double lambda, double* d) {
  ensure_eigen();
  std::vector<double> r = scaling();
  for (double& x : r) {
    CURV_CHECK(x + lambda > 0, "K-FAC block at offset ", layer_.weight_offset,
               " is singular under this damping (eigenvalue ", x + lambda,
               "): raise the damping above 0");
    x = 1 / (x + lambda);
  }
  squared_sandwich(transposed(QG_, layer_.out), transposed(QA_, layer_.din()), r, d);
}

std::vector<double> KroneckerBlock::diagonal_in(KroneckerBlock& basis) {
  CURV_CHECK(basis.layer_.out == layer_.out && basis.layer_.din() == layer_.din(),
             "K-FAC block at offset ", layer_.weight_offset, ": expected a basis for a ",
             layer_.out, "x", layer_.din(), " layer, found ", basis.layer_.out, "x",
             basis.layer_.din());
  ensure_eigen();
  basis.ensure_eigen();
  const index_t din = layer_.din(), O = layer_.out;
  // The new basis's vectors in this one's coordinates: R = Qᵀ Q'.
  std::vector<double> RG(QG_.size()), RA(QA_.size()), d(static_cast<std::size_t>(O * din));
  gemm(Trans::Yes, Trans::No, O, O, O, 1.0, QG_.data(), basis.QG_.data(), 0.0, RG.data());
  gemm(Trans::Yes, Trans::No, din, din, din, 1.0, QA_.data(), basis.QA_.data(), 0.0, RA.data());
  squared_sandwich(RG, RA, scaling(), d.data());
  return d;
}

void KroneckerBlock::squared_sandwich(const std::vector<double>& QG, const std::vector<double>& QA,
                                      const std::vector<double>& s, double* d) {
  // M = Σ S[o',i'] (q_G,o' q_G,o'ᵀ) ⊗ (q_A,i' q_A,i'ᵀ) in this block's basis, so a unit vector
  // u ⊗ w with coordinates U = Q_Gᵀu, W = Q_Aᵀw there has uᵀMu = Σ U[o']² S[o',i'] W[i']².
  const index_t din = layer_.din(), O = layer_.out;
  std::vector<double> qa2(QA.size()), qg2(QG.size()), t(static_cast<std::size_t>(O * din));
  for (std::size_t j = 0; j < QA.size(); ++j) qa2[j] = QA[j] * QA[j];
  for (std::size_t j = 0; j < QG.size(); ++j) qg2[j] = QG[j] * QG[j];
  gemm(Trans::Yes, Trans::No, O, din, O, 1.0, qg2.data(), s.data(), 0.0, t.data());
  gemm(Trans::No, Trans::No, O, din, din, 1.0, t.data(), qa2.data(), 0.0, d);
}

double KroneckerBlock::trace() {
  if (!refitted()) return trace_of(A_, layer_.din()) * trace_of(G_, layer_.out);
  double t = 0;
  for (double s : S_) t += s;
  return t;
}

double KroneckerBlock::logdet(double lambda) {
  CURV_CHECK(lambda >= 0, "K-FAC: expected a damping >= 0, found ", lambda);
  double ld = 0;
  for (double s : scaling()) ld += std::log(s + lambda);
  CURV_CHECK(std::isfinite(ld), "K-FAC block at offset ", layer_.weight_offset,
             " is singular under this damping: raise the damping above 0");
  return ld;
}

}  // namespace curv
