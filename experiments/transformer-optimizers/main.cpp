// The character transformer (2 layers, d 128, 4 heads, context 64) on Moby-Dick with Adam,
// K-FAC and M-FAC: 2 epochs at batch 32 with a linear warm-up and a cosine schedule shared by
// all three; each tuned on its learning-rate grid (seed 0), the best rate rerun on seeds 1 and
// 2; steps and seconds to a test loss (the held-out last 10 % of the text) of 1.85 nats/char and
// the final loss, medians over the three seeds. See README.md.
#include "../common/options.hpp"

using namespace curv;

int main(int argc, char** argv) {
  Protocol p;
  p.title = "Character transformer, Moby-Dick, batch 32";
  p.base.model = "transformer", p.base.data = "moby-dick";
  p.base.epochs = 2, p.base.batch = 32, p.base.momentum = 0.9;
  p.base.schedule.kind = Schedule::Kind::Cosine, p.base.schedule.warmup_steps = 100;
  p.base.eval_every = 50, p.base.eval_at_start = true, p.base.eval_batch = 256;
  p.base.evaluate = {"test:all"};
  p.metric = "test_loss", p.higher_is_better = false, p.target = 1.85;
  p.metric_label = "held-out loss (nats/char)";
  // Gradient-norm clipping at 1 for the first-order rules. Not for K-FAC: its KL clip already
  // bounds the step, and clipping the gradient first shrinks that bounded step further.
  p.clip = {{"adam", 1.0}, {"mfac", 1.0}};
  p.optimizers = {"adam", "kfac", "mfac"};
  p.grids = {{"adam", {1e-3, 3e-3, 1e-2, 3e-2}},
             {"kfac", {0.03, 0.1, 0.3, 1.0}},
             {"mfac", {3e-4, 1e-3, 3e-3}}};
  // K-FAC: tokens are rows of every linear layer's factors (the "expand" setting); the Fisher's
  // output factor from sampled labels, KL clipping sized with the peak rate so the schedule
  // scales clipped steps; the embeddings and layer norms take Adam. Damping and the fallback
  // rate come from a one-epoch screen, the factors from seed-0 runs of the protocol (README.md).
  SecondOrderConfig kfac;
  kfac.factors = FactorKind::MC, kfac.rescale = "kl", kfac.damping = 1e-2, kfac.decay = 0.95;
  kfac.inverse_every = 10, kfac.kl_clip = 1e-3, kfac.fallback_lr = 2e-3;
  SecondOrderConfig mfac;
  mfac.window = 32, mfac.damping = 1e-4, mfac.rescale = "none";
  p.settings = {{"kfac", kfac}, {"mfac", mfac}};
  CLI::App app{"Character transformer on Moby-Dick: Adam, K-FAC and M-FAC"};
  experiments::ProtocolOptions options;
  experiments::add_options(app, "transformer-optimizers", p, options);
  return experiments::run_program("transformer-optimizers", app, argc, argv, p, options);
}
