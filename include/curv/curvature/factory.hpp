// One entry point from a name to a curvature operator, shared by the `curv curvature` and
// `curv spectrum` commands and by every method that lets its user pick the curvature:
//   hessian ggn ef fisher   matrix-free products (curvature/model_operators.hpp)
//   kfac ekfac              Kronecker-factored blocks (curvature/kfac.hpp); `factors` picks G
//   kfac-factored           K-FAC with factored Tikhonov damping of strength `factored_damping`
//                           built into its matrix (curvature/kfac.hpp, factored_damping)
//   diag                    the exact diagonal of the ggn, ef or fisher (`factors`)
//   lowrank                 (1/m) Σ ∇ℓᵢ∇ℓᵢᵀ over the m examples, kept as its m gradients
//                           (curvature/low_rank_operator.hpp): exact inverses by Woodbury
// Every operator follows one damping contract: inverse_mv(v, λ) is (M + λI)⁻¹ v.
//   blockdiag-hessian, blockdiag-ggn, …   one exact block per layer of the named operator
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "curv/curvature/data.hpp"
#include "curv/curvature/kronecker.hpp"
#include "curv/linalg/operator.hpp"

namespace curv {

struct OperatorSpec {
  std::string name;                      // see above
  std::string subset = "all";            // ParamSubset::parse
  FactorKind factors = FactorKind::GGN;  // kfac, ekfac, diag
  index_t samples = 1;                   // labels drawn per example for fisher and mc factors
  std::uint64_t seed = 0;
  double factored_damping = 0;  // kfac-factored's γ (> 0), part of its matrix
  bool pi_adjusted = true;      // kfac-factored: γ split by π (false: π = 1)
};

std::vector<std::string> operator_names();

template <class T>
std::unique_ptr<LinearOperator> make_operator(CurvatureData<T>& data, const OperatorSpec& spec);

}  // namespace curv
