// Every optimizer by name, with the defaults `curv train` documents: the one place a name
// becomes an Optimizer.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "curv/optim/optimizer.hpp"
#include "curv/optim/second_order.hpp"

namespace curv {

// Adam's and AdamW's moment decays and denominator floor (make_adam), PyTorch's defaults.
struct AdamConfig {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
};

// The layer-wise rules' own settings (make_lars, make_lamb): the trust coefficient η, and
// whether one-dimensional tensors (biases, norm gains) are left out of the trust ratio and the
// weight decay.
struct LargeBatchConfig {
  double trust = 0;  // 0: the rule's default, default_trust(name)
  bool exclude_1d = true;
};

// Every optimizer by name: sgd, adam, adamw (momentum/nesterov/weight_decay as in make_sgd,
// `adam` as in make_adam), lars (momentum, cfg.weight_decay, large_batch), lamb (adam's betas
// and eps, cfg.weight_decay, large_batch), kfac, ekfac, foof, mfac (cfg; cfg.weight_decay is
// their η). Throws curv::Error naming the known ones otherwise.
template <class T>
std::unique_ptr<Optimizer<T>> make_optimizer(const std::string& name, double lr, double momentum,
                                             bool nesterov, const SecondOrderConfig& cfg,
                                             const AdamConfig& adam = {},
                                             const LargeBatchConfig& large_batch = {});

// What `curv train` uses when a setting is not given: for kfac, ekfac and foof the recipes the
// LeNet-5 experiment found best (experiments/lenet-optimizers/README.md: K-FAC/EK-FAC KL-clipped at
// a fixed λ = 3e-2 with lr 3e-3, FOOF λ = 0.1 with lr 0.03), Adam's best rate there, 0.01; sgd 0.05
// and mfac 1e-3 (λ 1e-3), which did best after one epoch of LeNet-5 on Fashion-MNIST. A fixed λ
// cannot collapse the way the adapted one of the quadratic model (`rescale` qmodel) can.
// LARS 2 (with η = 1e-3) and LAMB 5e-3 (η = 1), from LeNet-5 on Fashion-MNIST at batch 128
// (docs/optimizers.md): LARS diverged at 10 and was level from 2 to 5; LAMB at 0.015 became
// unstable within three epochs, and 0.005 beat 0.01 after three.
double default_lr(const std::string& name);
double default_damping(const std::string& name);
std::string default_rescale(const std::string& name);
// The trust coefficient η: 1e-3 for lars (the LARS paper's), 1 for lamb (the LAMB paper's
// ratio ‖w‖/‖r‖ unscaled); 0 for the rules that have none.
double default_trust(const std::string& name);
// Adam's ε, PyTorch's 1e-8; LAMB's reference implementation uses 1e-6.
double default_eps(const std::string& name);
std::vector<std::string> optimizer_names();

}  // namespace curv
