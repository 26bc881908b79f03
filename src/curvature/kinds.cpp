#include "curv/curvature/kinds.hpp"

#include "curv/core/error.hpp"

namespace curv {

FactorKind parse_factor_kind(const std::string& name) {
  if (name == "ggn" || name == "exact") return FactorKind::GGN;
  if (name == "ef" || name == "empirical") return FactorKind::EF;
  if (name == "mc" || name == "fisher") return FactorKind::MC;
  fail("unknown curvature factor '", name,
       "': expected ggn (exact), ef (empirical Fisher) or mc (sampled Fisher)");
}

const char* factor_kind_name(FactorKind k) {
  switch (k) {
    case FactorKind::GGN:
      return "ggn";
    case FactorKind::EF:
      return "ef";
    case FactorKind::MC:
      return "mc";
  }
  return "?";
}

KfacDamping parse_kfac_damping(const std::string& name) {
  if (name == "eigen") return KfacDamping::Eigen;
  if (name == "factored") return KfacDamping::Factored;
  fail("unknown K-FAC damping '", name,
       "': expected eigen (exact damped inverse) or factored (π-adjusted Tikhonov)");
}

const char* kfac_damping_name(KfacDamping d) {
  return d == KfacDamping::Eigen ? "eigen" : "factored";
}

}  // namespace curv
