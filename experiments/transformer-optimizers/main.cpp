// The character transformer (2 layers, d 128, context 64) on Moby-Dick with Adam, K-FAC and
// M-FAC: each tuned on its learning-rate grid (seed 0), the best rate rerun on seeds 1 and 2;
// steps and seconds to a validation loss of 1.85 nats/char and the final loss, medians over
// the seeds. K-FAC preconditions every linear layer (tokens folded into the batch); layer norms,
// embeddings and positions take its Adam fallback. See README.md.
#include <CLI/CLI.hpp>

#include "../common/compare.hpp"

using namespace curv;

int main(int argc, char** argv) {
  experiments::Comparison c;
  c.title = "Character transformer, Moby-Dick, batch 32 x 64";
  c.model = "transformer", c.data = "moby-dick", c.metric = "val_loss", c.higher_is_better = false;
  c.target = 1.85, c.epochs = 3, c.batch = 32, c.eval_every = 200, c.eval_batch = 64;
  c.optimizers = {"adam", "kfac", "mfac"};
  c.grids = {{"adam", {3e-4, 1e-3, 3e-3}}, {"kfac", {0.03, 0.1, 0.3}}, {"mfac", {1e-4, 3e-4, 1e-3}}};
  SecondOrderConfig kfac;  // kfac-pytorch's recipe, as for LeNet-5
  kfac.factors = FactorKind::EF, kfac.rescale = "kl", kfac.damping = 3e-3, kfac.decay = 0.95;
  kfac.inverse_every = 10, kfac.kl_clip = 1e-3, kfac.fallback_lr = 1e-3;
  SecondOrderConfig mfac;
  mfac.window = 64, mfac.damping = 1e-4, mfac.rescale = "none";
  c.settings = {{"kfac", kfac}, {"mfac", mfac}};
  c.out = "experiments/transformer-optimizers/out";
  CLI::App app{"The character transformer on Moby-Dick: Adam, K-FAC and M-FAC"};
  app.add_option("--optimizers", c.optimizers, "Which to run")->capture_default_str();
  app.add_option("--epochs", c.epochs, "Epochs per run")->capture_default_str();
  app.add_option("--seeds", c.seeds, "Seeds (the first tunes the learning rate)")->capture_default_str();
  app.add_option("--eval-every", c.eval_every, "Steps between validation evaluations")->capture_default_str();
  app.add_option("--target", c.target, "Validation loss counted to")->capture_default_str();
  app.add_option("--out", c.out, "Output directory")->capture_default_str();
  app.add_flag("--replot", c.replot, "Rebuild the summary and plots from the curves of earlier runs");
  std::map<std::string, std::vector<double>> overrides;
  for (const auto& name : c.optimizers)
    app.add_option("--" + name + "-lrs", overrides[name], name + " learning-rate grid");
  CLI11_PARSE(app, argc, argv);
  for (auto& [name, grid] : overrides)
    if (!grid.empty()) c.grids[name] = grid;
  try {
    return experiments::run_comparison(c);
  } catch (const Error& e) {
    std::fprintf(stderr, "transformer-optimizers: %s\n", e.what());
    return 1;
  }
}
