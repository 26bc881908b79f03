#include "kfac_flags.hpp"

#include "curv/core/error.hpp"

namespace curv::cli {

void KfacFlags::add(CLI::App* cmd, const std::string& who) {
  cmd->add_option("--factors", factors,
                  who +
                      ": the output factor G from ef (the gradient's own sweep), mc (sampled "
                      "labels: the true Fisher) or ggn (exact, one sweep per output)")
      ->capture_default_str();
  cmd->add_option("--kfac-damping", damping,
                  who +
                      ": how --damping λ enters: eigen, (A ⊗ G + λI)⁻¹, or factored, "
                      "(A + π√λI)⁻¹ ⊗ (G + √λ/π I)⁻¹")
      ->capture_default_str();
  cmd->add_flag("--no-pi", no_pi, who + " with --kfac-damping factored: π = 1");
}

void KfacFlags::check() const {
  factor_kind();
  CURV_CHECK(!no_pi || damping_kind() == KfacDamping::Factored,
             "--no-pi: expected --kfac-damping factored (π splits its λ), found '", damping, "'");
}

}  // namespace curv::cli
