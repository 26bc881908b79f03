// Every optimizer by name, with the defaults `curv train` documents: the one place a name
// becomes an Optimizer.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "curv/optim/optimizer.hpp"
#include "curv/optim/second_order.hpp"

namespace curv {

// Every optimizer by name: sgd, adam, adamw (momentum/nesterov/weight_decay as in make_sgd and
// make_adam), kfac, ekfac, foof, mfac (cfg; cfg.weight_decay is their η). Throws curv::Error
// naming the known ones otherwise.
template <class T>
std::unique_ptr<Optimizer<T>> make_optimizer(const std::string& name, double lr, double momentum,
                                             bool nesterov, const SecondOrderConfig& cfg);
// The learning rate each optimizer is documented with when none is given: 0.05 for sgd, adam
// and adamw; 0.01 for foof; 1 for kfac and ekfac (it scales the quadratic model's step); 0.001
// for mfac.
double default_lr(const std::string& name);
// The damping each is documented with when none is given: 1 for kfac and ekfac (the initial λ
// of the adapted quadratic model), 0.1 for foof, 1e-3 for mfac.
double default_damping(const std::string& name);
std::vector<std::string> optimizer_names();

}  // namespace curv
