// One optimizer step as the training loop takes it, and a second-order configuration without
// rescaling, momentum or damping adaptation: what optimizer tests build their checks on.
#pragma once

#include "curv/nn/objective.hpp"
#include "curv/optim/second_order.hpp"
#include "support/dense_curvature.hpp"

namespace curv::testing {

// One step as the training loop takes it; returns θ_new − θ_old and the gradient used.
inline Matrix one_step(Model<double>& m, Optimizer<double>& opt, const Batch<double>& b,
                       Matrix* grad = nullptr) {
  const index_t P = m.params().size();
  auto loss = make_loss<double>(m.loss());
  Objective<double> obj(m, *loss);
  obj.set_batch(b.x.view(), b.targets());
  opt.attach(obj);
  obj.gradient(m.params().grad(), opt.observes_gradient());
  if (grad) grad->assign(m.params().grad(), m.params().grad() + P);
  const Matrix before(m.params().data(), m.params().data() + P);
  opt.step(m.params());
  Matrix d(static_cast<std::size_t>(P));
  for (index_t i = 0; i < P; ++i) d[i] = m.params().data()[i] - before[i];
  return d;
}

inline SecondOrderConfig plain(double damping, FactorKind factors) {
  SecondOrderConfig c;
  c.damping = c.damping_min = damping;
  c.factors = factors;
  c.rescale = "none";
  c.momentum = 0;
  c.adapt_damping = false;
  return c;
}

}  // namespace curv::testing
