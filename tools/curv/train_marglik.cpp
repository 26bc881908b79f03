#include "train_marglik.hpp"

#include <cmath>

#include "curv/core/error.hpp"

namespace curv::cli {

void add_train_marglik_options(CLI::App* cmd, TrainMarglikOptions& o) {
  auto* g = cmd->add_option_group(
      "marginal likelihood",
      "--marglik: the prior fitted during training (docs/methods/laplace.md)");
  g->add_flag("--marglik", o.on,
              "Fit the prior precisions (and a regression's noise) by the Laplace evidence during "
              "training and train with them as the weight decay (Immer et al. 2021)");
  g->add_option("--marglik-every", o.fit.every, "Epochs between fits")->capture_default_str();
  g->add_option("--marglik-burnin", o.fit.burnin, "Epochs before the first fit")
      ->capture_default_str();
  g->add_option("--marglik-weights", o.fit.weights,
                "The weights the prior covers: all, or layer names (the others get none)")
      ->capture_default_str();
  g->add_option("--marglik-structure", o.fit.structure, "kron, diag or full")
      ->capture_default_str();
  g->add_option("--marglik-curvature", o.fit.curvature, "ggn, fisher or ef")->capture_default_str();
  g->add_option("--marglik-prior", o.fit.prior, "layer (one δ per layer) or scalar")
      ->capture_default_str();
  g->add_option("--marglik-prior-start", o.fit.prior_start, "δ before the first fit")
      ->capture_default_str();
}

void check_train_marglik(const TrainMarglikOptions& o, const Recipe& r, bool recording,
                         bool pruning) {
  if (!o.on) return;
  o.fit.validate();
  CURV_CHECK(r.second_order.weight_decay == 0, "train: --marglik fits the prior that weight ",
             "decay would fix: expected no --weight-decay, found ", r.second_order.weight_decay);
  CURV_CHECK(!recording, "train: a replay would not refit the --marglik prior: expected no ",
             "--record with --marglik");
  CURV_CHECK(!pruning, "train: expected --marglik or --prune, found both");
}

nlohmann::json marglik_summary(const laplace::OnlineMarglik<float>& m,
                               const TrainMarglikOptions& o) {
  nlohmann::json j = {{"every", o.fit.every},         {"burnin", o.fit.burnin},
                      {"structure", o.fit.structure}, {"curvature", o.fit.curvature},
                      {"prior", o.fit.prior},         {"prior_start", o.fit.prior_start},
                      {"fits", m.history().size()}};
  nlohmann::json fits = nlohmann::json::array();
  for (const laplace::MarglikFit& f : m.history()) {
    nlohmann::json row = {{"step", f.step},
                          {"log_marglik", f.log_marglik},
                          {"prior_precision", f.prior},
                          {"prior_steps", f.prior_steps}};
    if (f.noise > 0) row["noise_std"] = std::sqrt(f.noise);
    fits.push_back(row);
  }
  j["history"] = fits;
  if (!m.history().empty()) {
    const laplace::MarglikFit& last = m.history().back();
    j["log_marglik"] = last.log_marglik;
    nlohmann::json prior = nlohmann::json::object();
    for (std::size_t g = 0; g < m.groups().size(); ++g) prior[m.groups()[g].name] = last.prior[g];
    j["prior_precision"] = prior;
    if (last.noise > 0) j["noise_std"] = std::sqrt(last.noise);
  }
  return j;
}

}  // namespace curv::cli
