// LeNet-5 on Fashion-MNIST with SGD, Adam, K-FAC, EK-FAC, FOOF and M-FAC, 10 epochs with a
// cosine learning-rate schedule: every rate of each learning-rate grid runs on seeds 0, 1 and 2
// and the rate with the best median is kept (`--tuning median`); steps and seconds to 90 % test
// accuracy and the final accuracy, medians over the three seeds. See README.md.
#include "../common/options.hpp"

using namespace curv;

int main(int argc, char** argv) {
  Protocol p;
  p.title = "LeNet-5, Fashion-MNIST, batch 128";
  p.base.model = "lenet5", p.base.data = "fashion-mnist";
  p.base.epochs = 10, p.base.batch = 128, p.base.momentum = 0.9;
  p.base.schedule.kind = Schedule::Kind::Cosine;
  p.base.eval_every = 117, p.base.eval_at_start = true, p.base.eval_batch = 1000;
  p.base.evaluate = {"test:all"};
  p.metric = "test_accuracy", p.target = 0.90, p.metric_label = "test accuracy";
  // Steps to 90 % vary by hundreds between seeds, so a rate chosen on one seed is often a lucky
  // one: each rate is judged by its median over the seeds.
  p.tuning = "median";
  p.optimizers = {"sgd", "adam", "kfac", "ekfac", "foof", "mfac"};
  p.grids = {{"sgd", {0.01, 0.03, 0.1}},
             {"adam", {3e-4, 1e-3, 3e-3, 1e-2, 3e-2}},
             {"kfac", {1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3}},
             {"ekfac", {1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3}},
             {"foof", {3e-3, 0.01, 0.03, 0.1}},
             {"mfac", {1e-4, 3e-4, 1e-3}}};
  // K-FAC and EK-FAC: kfac-pytorch's recipe (empirical-Fisher factors from the gradient's own
  // sweep, factor decay 0.95, inverses every 10 steps, KL clip 1e-3, momentum 0.9), with K-FAC's
  // λ = 3e-2 from a 2-epoch screen of {3e-4, 3e-3, 3e-2, 0.1, 0.3} (README.md).
  SecondOrderConfig kfac;
  kfac.factors = FactorKind::EF, kfac.rescale = "kl", kfac.damping = 3e-2, kfac.decay = 0.95;
  kfac.inverse_every = 10, kfac.kl_clip = 1e-3;
  SecondOrderConfig foof = kfac;
  foof.rescale = "none", foof.damping = 0.1;
  SecondOrderConfig mfac;
  mfac.window = 128, mfac.damping = 1e-4, mfac.rescale = "none";
  // EK-FAC: K-FAC's recipe unchanged, λ and factored damping included, so the two differ only
  // in the scaling: EK-FAC's re-fit in place of γ αᵀ. The earlier eigen-damped recipe (λ = 0.1)
  // is README.md's "EK-FAC's damping".
  SecondOrderConfig ekfac = kfac;
  // Each new basis restarts the scaling from that step's re-fit. Carrying the old scaling over
  // (the library's default) never needed fewer steps here: a median of 1755 against 1638 at
  // 0.003 over three seeds, and 1989 against 1638 at 0.01 on seed 0 (README.md).
  ekfac.carry_scaling = false;
  p.settings = {{"kfac", kfac}, {"ekfac", ekfac}, {"foof", foof}, {"mfac", mfac}};
  CLI::App app{"LeNet-5 on Fashion-MNIST: SGD, Adam, K-FAC, EK-FAC, FOOF and M-FAC"};
  experiments::ProtocolOptions options;
  experiments::add_options(app, "lenet-optimizers", p, options);
  return experiments::run_program("lenet-optimizers", app, argc, argv, p, options);
}
