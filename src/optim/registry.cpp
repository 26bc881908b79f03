#include "curv/optim/registry.hpp"
#include "curv/core/error.hpp"

namespace curv {

std::vector<std::string> optimizer_names() {
  return {"sgd", "adam", "adamw", "lars", "lamb", "kfac", "ekfac", "foof", "mfac"};
}

double default_lr(const std::string& name) {
  if (name == "kfac" || name == "ekfac") return 3e-3;
  if (name == "adam" || name == "adamw") return 0.01;
  if (name == "foof") return 0.03;
  if (name == "mfac") return 1e-3;
  if (name == "lars") return 2.0;
  if (name == "lamb") return 5e-3;
  return 0.05;
}

double default_trust(const std::string& name) {
  if (name == "lars") return 1e-3;
  return name == "lamb" ? 1.0 : 0.0;
}

double default_eps(const std::string& name) { return name == "lamb" ? 1e-6 : 1e-8; }

double default_damping(const std::string& name) {
  // K-FAC and EK-FAC: the fixed λ of their KL-clipped LeNet-5 recipe (experiments/
  // lenet-optimizers). FOOF's (A + λI)⁻¹ scales directions A barely sees by 1/λ, so its λ is
  // larger (the value tuned there too).
  if (name == "kfac" || name == "ekfac") return 3e-2;
  return name == "foof" ? 0.1 : 1e-3;
}

std::string default_rescale(const std::string& name) {
  return name == "kfac" || name == "ekfac" ? "kl" : "none";
}

template <class T>
std::unique_ptr<Optimizer<T>> make_optimizer(const std::string& name, double lr, double momentum,
                                             bool nesterov, const SecondOrderConfig& cfg,
                                             const AdamConfig& adam,
                                             const LargeBatchConfig& large_batch) {
  if (name == "sgd") return make_sgd<T>(lr, momentum, nesterov, cfg.weight_decay);
  if (name == "adam" || name == "adamw")
    return make_adam<T>(lr, adam.beta1, adam.beta2, adam.eps, cfg.weight_decay, name == "adamw");
  if (name == "lars" || name == "lamb") {
    const double trust = large_batch.trust == 0 ? default_trust(name) : large_batch.trust;
    if (name == "lars")
      return make_lars<T>(lr, momentum, cfg.weight_decay, trust, large_batch.exclude_1d);
    return make_lamb<T>(lr, adam.beta1, adam.beta2, adam.eps, cfg.weight_decay, trust,
                        large_batch.exclude_1d);
  }
  if (name == "kfac" || name == "ekfac" || name == "foof") {
    SecondOrderConfig c = cfg;
    c.momentum = momentum;
    return make_kfac_optimizer<T>(name, lr, c);
  }
  if (name == "mfac") {
    SecondOrderConfig c = cfg;
    c.momentum = momentum;
    return make_mfac_optimizer<T>(lr, c);
  }
  std::string known;
  for (const auto& n : optimizer_names()) known += (known.empty() ? "" : ", ") + n;
  fail("train: expected an optimizer among ", known, ", found '", name, "'");
}

template std::unique_ptr<Optimizer<float>> make_optimizer<float>(const std::string&, double, double,
                                                                 bool, const SecondOrderConfig&,
                                                                 const AdamConfig&,
                                                                 const LargeBatchConfig&);
template std::unique_ptr<Optimizer<double>> make_optimizer<double>(const std::string&, double,
                                                                   double, bool,
                                                                   const SecondOrderConfig&,
                                                                   const AdamConfig&,
                                                                   const LargeBatchConfig&);

}  // namespace curv
