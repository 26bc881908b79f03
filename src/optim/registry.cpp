#include "curv/optim/registry.hpp"
#include "curv/core/error.hpp"

namespace curv {

std::vector<std::string> optimizer_names() {
  return {"sgd", "adam", "adamw", "kfac", "ekfac", "foof", "mfac"};
}

double default_lr(const std::string& name) {
  if (name == "kfac" || name == "ekfac") return 1.0;
  if (name == "mfac") return 1e-3;
  if (name == "foof") return 0.01;
  return 0.05;
}

double default_damping(const std::string& name) {
  // The quadratic-model rules start cautious and let Levenberg–Marquardt lower λ; a small
  // initial λ lets the first, poorly estimated factors propose steps the model cannot judge.
  // FOOF's (A + λI)⁻¹ scales directions A barely sees by 1/λ, so its λ is larger (the value
  // tuned on LeNet-5 in experiments/lenet-optimizers).
  if (name == "kfac" || name == "ekfac") return 1.0;
  return name == "foof" ? 0.1 : 1e-3;
}

template <class T>
std::unique_ptr<Optimizer<T>> make_optimizer(const std::string& name, double lr, double momentum,
                                             bool nesterov, const SecondOrderConfig& cfg) {
  if (name == "sgd") return make_sgd<T>(lr, momentum, nesterov, cfg.weight_decay);
  if (name == "adam" || name == "adamw")
    return make_adam<T>(lr, 0.9, 0.999, 1e-8, cfg.weight_decay, name == "adamw");
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
                                                                 bool, const SecondOrderConfig&);
template std::unique_ptr<Optimizer<double>> make_optimizer<double>(const std::string&, double,
                                                                   double, bool,
                                                                   const SecondOrderConfig&);

}  // namespace curv
