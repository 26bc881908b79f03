// One layer's preconditioner for the K-FAC family (internal to optim/): the damped inverse of
// its curvature block applied to the layer's gradient Ŵ = [∇W | ∇b] (out, din), in the model's
// dtype, with the expensive part (inverses, eigenbases) recomputed only every few steps.
//
//   factored (K-FAC)   D = (G + γ/π I)⁻¹ Ŵ (A + πγ I)⁻¹, γ = √(λ+η)      two GEMMs per step
//   eigen (K-FAC)      D = Q_G [(Q_Gᵀ Ŵ Q_A) / (γ_G α_Aᵀ + λ+η)] Q_Aᵀ      four GEMMs per step
//   ekfac              as eigen with a re-fitted scaling S in place of γ_G α_Aᵀ
//   ekfac, factored    S + γ(π γ_G + α_A/π)ᵀ + γ²: the terms factored damping adds to γ_G α_Aᵀ,
//                      so without a re-fit it is factored K-FAC
//   foof               D = Ŵ (A + (λ+η) I)⁻¹                                one GEMM per step
#pragma once

#include <string>
#include <vector>

#include "curv/curvature/kronecker.hpp"
#include "curv/optim/optimizer.hpp"

namespace curv::detail {

enum class Preconditioning { Factored, Eigen, Ekfac, EkfacFactored, Foof };

template <class T>
class LayerPreconditioner {
 public:
  // pi_adjusted: factored damping splits √λ between the factors by π (Martens & Grosse 2015,
  // §6.3); false: π = 1, A + √λI and G + √λI.
  LayerPreconditioner(KfacLayer layer, Preconditioning kind, bool pi_adjusted = true)
      : layer_(std::move(layer)), kind_(kind), pi_adjusted_(pi_adjusted) {}
  const KfacLayer& layer() const { return layer_; }

  // Throws curv::Error naming the optimizer (`who`), the layer and `step` if the factors (float64,
  // symmetric) are not finite. Called before they become a KroneckerBlock, whose own check
  // cannot name the step.
  static void check_factors(const KfacLayer& layer, const std::vector<double>& A,
                            const std::vector<double>& G, index_t step, const std::string& who);
  // Recomputes inverses or eigenbases from the block's factors with damping λ + η = `shift`.
  // Eigen-based kinds take the block's eigendecompositions, so EK-FAC's re-fit, which works in
  // the same block's basis, does not decompose the factors a second time.
  void refresh(KroneckerBlock& block, double shift);
  // EK-FAC: the scaling in the current basis (out, din), and the basis itself for the re-fit.
  void set_scaling(const std::vector<double>& S);
  const std::vector<double>& kfac_scaling() const { return base_scaling_; }
  // The damping changed between refreshes: eigen-based kinds apply it at no cost; factored and
  // FOOF inverses keep the λ of their last refresh (as in the K-FAC paper).
  void set_shift(double shift) { shift_ = shift; }
  bool ready() const { return ready_; }

  // D = preconditioned V, both (out, din) in the model's dtype.
  void apply(const T* V, T* D);
  // Distributed K-FAC: makes every process hold what `owner` computed in its last refresh
  // (inverses, or eigenbases and scaling) with damping `shift`, as if each had refreshed.
  // For kfac (eigen and factored) and foof.
  void share(StatisticsExchange& x, int owner, double shift);

 private:
  void apply_eigen(const T* V, const std::vector<T>& inv_scale, T* D);
  KfacLayer layer_;
  Preconditioning kind_;
  bool pi_adjusted_;
  bool ready_ = false;
  double shift_ = 0;
  std::vector<T> Ainv_, Ginv_;         // factored, foof
  std::vector<T> QA_, QG_;             // eigen, ekfac
  std::vector<double> base_scaling_;   // γ_G α_Aᵀ of the last refresh
  std::vector<double> alpha_, gamma_;  // ekfac, factored: the factors' eigenvalues (≥ 0)
  double pi_ = 1;                      // and π
  std::vector<double> scaling_;        // in use: base or re-fitted
  std::vector<T> inv_scale_;           // 1 / (scaling + shift), cached for shift_
  double inv_scale_shift_ = -1;
  std::vector<T> work_;
};

extern template class LayerPreconditioner<float>;
extern template class LayerPreconditioner<double>;

}  // namespace curv::detail
