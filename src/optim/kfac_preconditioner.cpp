#include "kfac_preconditioner.hpp"

#include <lapacke.h>

#include <cmath>

#include "curv/core/error.hpp"
#include "curv/kernels/gemm.hpp"
#include "curv/linalg/dense.hpp"

namespace curv::detail {

namespace {

// (M + shift·I)⁻¹ through its eigendecomposition (robust to a nearly singular M), in T.
template <class T>
std::vector<T> damped_inverse(const std::vector<double>& M, index_t n, double shift) {
  std::vector<double> values(static_cast<std::size_t>(n)), Q(static_cast<std::size_t>(n * n));
  linalg::eigh(M.data(), n, values.data(), Q.data());
  // (Q diag(1/(values + shift))) Qᵀ as one GEMM.
  std::vector<double> B(Q.size()), out(Q.size());
  for (index_t i = 0; i < n; ++i)
    for (index_t k = 0; k < n; ++k)
      B[i * n + k] = Q[i * n + k] / (std::max(values[k], 0.0) + shift);
  gemm(Trans::No, Trans::Yes, n, n, n, 1.0, B.data(), Q.data(), 0.0, out.data());
  std::vector<T> inv(out.begin(), out.end());
  return inv;
}

// (M + shift·I)⁻¹ by Cholesky (LAPACK potrf + potri): about a quarter of an eigendecomposition's
// work, which is what makes inverting a 1001-wide factor every few steps affordable. Falls back
// to the eigendecomposition if rounding leaves M + shift·I not numerically positive definite.
// M is symmetric, so its row-major storage is also its column-major storage: LAPACK runs on it
// in place, with none of the transpositions (two per call) or NaN scans that LAPACKE's row-major
// path adds (M is a KroneckerBlock's factor, checked finite). The inverse's lower triangle in
// column-major order is the upper one in row-major order.
template <class T>
std::vector<T> spd_inverse(const std::vector<double>& M, index_t n, double shift) {
  std::vector<double> L = M;
  for (index_t i = 0; i < n; ++i) L[i * n + i] += shift;
  const auto N = static_cast<lapack_int>(n);
  if (LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'L', N, L.data(), N) != 0 ||
      LAPACKE_dpotri_work(LAPACK_COL_MAJOR, 'L', N, L.data(), N) != 0)
    return damped_inverse<T>(M, n, shift);
  std::vector<T> inv(L.size());
  for (index_t i = 0; i < n; ++i)
    for (index_t j = i; j < n; ++j) inv[i * n + j] = T(L[i * n + j]);
  mirror_triangle(inv.data(), n, /*from_lower=*/false);
  return inv;
}

}  // namespace

template <class T>
void LayerPreconditioner<T>::check_factors(const KfacLayer& layer, const std::vector<double>& A,
                                           const std::vector<double>& G, index_t step,
                                           const std::string& who) {
  for (double v : A)
    CURV_CHECK(std::isfinite(v), who, ": the input factor of the ", layer.kind, " layer at offset ",
               layer.weight_offset, " became non-finite at step ", step);
  for (double v : G)
    CURV_CHECK(std::isfinite(v), who, ": the output factor of the ", layer.kind,
               " layer at offset ", layer.weight_offset, " became non-finite at step ", step);
}

template <class T>
void LayerPreconditioner<T>::refresh(KroneckerBlock& block, double shift) {
  const index_t din = layer_.din(), out = layer_.out;
  const std::vector<double>& A = block.A();
  const std::vector<double>& G = block.G();
  shift_ = shift;
  switch (kind_) {
    case Preconditioning::Foof:
      Ainv_ = spd_inverse<T>(A, din, shift);
      break;
    case Preconditioning::Factored: {
      const double pi = pi_adjusted_ ? block.pi() : 1.0, gamma = std::sqrt(shift);
      Ainv_ = spd_inverse<T>(A, din, pi * gamma);
      Ginv_ = spd_inverse<T>(G, out, gamma / pi);
      break;
    }
    case Preconditioning::Eigen:
    case Preconditioning::Ekfac:
    case Preconditioning::EkfacFactored: {
      std::vector<double> alpha = block.eigenvalues_A(), gam = block.eigenvalues_G();
      const std::vector<double>& qa = block.eigenvectors_A();
      const std::vector<double>& qg = block.eigenvectors_G();
      QA_.assign(qa.begin(), qa.end());
      QG_.assign(qg.begin(), qg.end());
      base_scaling_.resize(static_cast<std::size_t>(out * din));
      for (auto& a : alpha) a = std::max(a, 0.0);
      for (auto& g : gam) g = std::max(g, 0.0);
      for (index_t o = 0; o < out; ++o)
        for (index_t i = 0; i < din; ++i) base_scaling_[o * din + i] = gam[o] * alpha[i];
      scaling_ = base_scaling_;
      if (kind_ == Preconditioning::EkfacFactored)
        alpha_ = alpha, gamma_ = gam, pi_ = pi_adjusted_ ? block.pi() : 1.0;
      inv_scale_shift_ = -1;
      break;
    }
  }
  ready_ = true;
}

template <class T>
void LayerPreconditioner<T>::share(StatisticsExchange& x, int owner, double shift) {
  const auto din = std::size_t(layer_.din()), out = std::size_t(layer_.out);
  auto send = [&](auto& v, std::size_t n) {
    v.resize(n);
    x.share_refresh(v.data(), n, owner);
  };
  switch (kind_) {
    case Preconditioning::Foof:
      send(Ainv_, din * din);
      break;
    case Preconditioning::Factored:
      send(Ainv_, din * din), send(Ginv_, out * out);
      break;
    case Preconditioning::Eigen:
      send(QA_, din * din), send(QG_, out * out), send(base_scaling_, out * din);
      scaling_ = base_scaling_, inv_scale_shift_ = -1;
      break;
    case Preconditioning::Ekfac:
    case Preconditioning::EkfacFactored:
      fail("ekfac: expected a rule whose refresh can be shared across processes (kfac, foof), ",
           "found ekfac (its re-fit is not distributed)");
  }
  shift_ = shift, ready_ = true;
}

template <class T>
void LayerPreconditioner<T>::set_scaling(const std::vector<double>& S) {
  CURV_CHECK(S.size() == base_scaling_.size(), "ekfac: scaling of ", S.size(),
             " entries for a layer of ", base_scaling_.size());
  scaling_ = S;
  inv_scale_shift_ = -1;
}

template <class T>
void LayerPreconditioner<T>::apply_eigen(const T* V, const std::vector<T>& inv_scale, T* D) {
  work_.resize(static_cast<std::size_t>(layer_.out * layer_.din()));
  kronecker_eigen(QG_.data(), QA_.data(), layer_.out, layer_.din(), inv_scale.data(), V, D,
                  work_.data());
}

template <class T>
void LayerPreconditioner<T>::apply(const T* V, T* D) {
  const index_t din = layer_.din(), O = layer_.out;
  switch (kind_) {
    case Preconditioning::Foof:
      gemm(Trans::No, Trans::No, O, din, din, T(1), V, Ainv_.data(), T(0), D);
      return;
    case Preconditioning::Factored:
      work_.resize(static_cast<std::size_t>(O * din));
      kronecker_sandwich(Ginv_.data(), Ainv_.data(), O, din, V, D, work_.data());
      return;
    case Preconditioning::Eigen:
    case Preconditioning::Ekfac:
    case Preconditioning::EkfacFactored:
      if (inv_scale_shift_ != shift_) {
        inv_scale_.resize(scaling_.size());
        // Each entry is damped by λ+η and, for factored EK-FAC, by the cross terms γ(πγ_G + α_A/π)
        // of (γ_G + γ/π)(α_A + πγ) − γ_G α_A.
        const bool cross = kind_ == Preconditioning::EkfacFactored;
        const double g = std::sqrt(shift_);
        for (index_t o = 0; o < O; ++o)
          for (index_t i = 0; i < din; ++i) {
            const index_t j = o * din + i;
            const double cross_terms = cross ? g * (pi_ * gamma_[o] + alpha_[i] / pi_) : 0.0;
            inv_scale_[j] = T(1.0 / (std::max(scaling_[j], 0.0) + cross_terms + shift_));
          }
        inv_scale_shift_ = shift_;
      }
      apply_eigen(V, inv_scale_, D);
      return;
  }
}

template class LayerPreconditioner<float>;
template class LayerPreconditioner<double>;

}  // namespace curv::detail
