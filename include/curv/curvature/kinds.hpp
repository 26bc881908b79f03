// The choices that curvature operators and the optimizers built on them share, in one small
// header so an optimizer's settings name them without pulling in any operator.
//
// FactorKind: which output-space block Bₙ a Gauss-Newton-type matrix Jᵀ B J uses (see
// curvature/data.hpp for the factors Sₙ, Bₙ = Sₙ Sₙᵀ):
//   ggn   Bₙ = ∇²ℓₙ/N, the generalized Gauss-Newton matrix (the loss's closed-form square root)
//   ef    Bₙ = ∇ℓₙ∇ℓₙᵀ/N, the empirical Fisher
//   mc    Bₙ from labels sampled from the model, E[Bₙ] = ∇²ℓₙ/N: the Monte-Carlo Fisher
// KfacDamping: how a Kronecker-factored block applies λ (curvature/kronecker.hpp):
//   eigen      (A ⊗ G + λI)⁻¹, exactly, in the factors' eigenbasis
//   factored   (A + π√λ I)⁻¹ ⊗ (G + √λ/π I)⁻¹, Martens & Grosse's π-adjusted Tikhonov damping
#pragma once

#include <string>

namespace curv {

enum class FactorKind { GGN, EF, MC };
// "ggn", "ef" or "mc" (also accepted: "exact" for ggn, "empirical" for ef, "fisher" for mc).
FactorKind parse_factor_kind(const std::string& name);
const char* factor_kind_name(FactorKind k);

enum class KfacDamping { Eigen, Factored };
// "eigen" or "factored".
KfacDamping parse_kfac_damping(const std::string& name);
const char* kfac_damping_name(KfacDamping d);

}  // namespace curv
