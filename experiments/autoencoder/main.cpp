// The K-FAC paper's deep autoencoder experiment (Martens & Grosse 2015, §13) at CPU scale:
// MNIST, 784-1000-500-250-30-250-500-1000-784, batch 1000 for every method, the same iteration
// budget, the objective L + (η/2)‖θ‖² with η = 1e-5, and the reconstruction error (mean over
// images of Σ_pixels (σ(output) − x)²) tracked on the first 10,000 training images
// (`train:0-9999`), then measured on all 60,000 at the end. Each optimizer runs over its
// learning-rate grid on one seed and its best final error is kept (the grid/seed protocol,
// train/protocol.hpp). See README.md.
#include <nlohmann/json.hpp>

#include "../common/options.hpp"

using namespace curv;

namespace {

// First step (or second) at which the curve is at or below `level`; NaN if never.
double first_reaching(const std::vector<double>& t, const std::vector<double>& e, double level) {
  for (std::size_t i = 0; i < e.size(); ++i)
    if (e[i] <= level) return t[i];
  return NAN;
}

}  // namespace

int main(int argc, char** argv) {
  Protocol p;
  std::string init = "default";
  p.base.model = "autoencoder", p.base.data = "mnist";
  p.base.steps = 600, p.base.batch = 1000, p.base.momentum = 0.9;
  p.base.eval_every = 20, p.base.eval_at_start = true, p.base.eval_batch = 1000;
  p.base.evaluate = {"train:0-9999"};
  p.metric = "train_error", p.higher_is_better = false, p.target = 30;
  p.metric_label = "reconstruction error (first 10k training images)";
  p.seeds = {0}, p.data_seed_offset = 1;  // the same batches in the same order for every run
  p.tuning = "first", p.select = "final", p.log_y = true;
  p.optimizers = {"sgd", "adam", "kfac"};
  p.grids = {{"sgd", {1e-3, 3e-3, 1e-2, 3e-2, 1e-1}},
             {"adam", {1e-4, 3e-4, 1e-3, 3e-3, 1e-2}},
             {"kfac", {0.03, 0.1, 0.3, 1.0, 3.0}}};
  // K-FAC: Martens & Grosse's recipe (λ adapted every 5 iterations by ω₁ = 0.95⁵, factor
  // decay 0.95, inverses every 5, the Monte-Carlo Fisher, the quadratic model), with the
  // statistics and the quadratic model's Gauss-Newton products on the first 250 of each batch's
  // 1000 images (their §8), and λ starting at 0.01 (README: a screen of the initial λ). The L2
  // term η = 1e-5 is every method's.
  p.base.second_order.weight_decay = 1e-5;
  SecondOrderConfig& k = p.settings["kfac"];
  k.damping = 0.01, k.adapt_every = 5, k.adapt_factor = 0.95, k.decay = 0.95;
  k.inverse_every = 5, k.factors = FactorKind::MC, k.rescale = "qmodel";
  k.stats_examples = 250, k.qmodel_examples = 250, k.weight_decay = 1e-5;
  // Each run's results line also gets the error on all 60,000 images, the final λ and where the
  // optimizer's time went.
  p.after_run = [](const GridRun&, const Model<float>& model, const Optimizer<float>& opt,
                   const Task<float>& task, nlohmann::json& line) {
    line["error_60k"] = task.evaluate(model, all_of(task, "train"), 1000).at("train_error");
    if (opt.damping() > 0) line["final_damping"] = opt.damping();
    for (const auto& [part, sec] : opt.profile()) line["optimizer_seconds"][part] = sec;
  };

  CLI::App app{"The K-FAC paper's deep autoencoder on MNIST: K-FAC against SGD-momentum and Adam"};
  experiments::ProtocolOptions options;
  experiments::add_options(app, "autoencoder", p, options);
  app.add_option("--init", init, "default (PyTorch) or sparse (Martens 2010)")
      ->capture_default_str();
  app.add_option("--qmodel-examples", k.qmodel_examples,
                 "K-FAC: examples of each batch whose exact GGN sizes the step (0: all)")
      ->capture_default_str();
  app.add_option("--inverse-every", k.inverse_every, "K-FAC: iterations between inversions")
      ->capture_default_str();
  app.add_option("--stats-examples", k.stats_examples,
                 "K-FAC: examples of each batch the factors are estimated on (0: all)")
      ->capture_default_str();
  app.parse_complete_callback([&] {
    p.base.config = nlohmann::json{{"init", init}}.dump();
    p.title = "Deep autoencoder, MNIST (" + init + " init)";
    options.output.sub = init;
  });
  // K-FAC's time to Adam's best final error, against Adam's own: the third target (README.md).
  auto targets = [&](const ProtocolResult& r) {
    if (!r.chosen.count("kfac") || !r.chosen.count("adam")) return;
    const GridRun &kfac = r.chosen.at("kfac").front(), &adam = r.chosen.at("adam").front();
    const nlohmann::json j = {
        {"kfac_steps_to_30", kfac.steps_to_target},
        {"kfac_seconds_to_adam_best", first_reaching(kfac.seconds, kfac.values, adam.final_value)},
        {"adam_seconds_to_adam_best", first_reaching(adam.seconds, adam.values, adam.final_value)}};
    std::printf("%s\n", j.dump().c_str());
  };
  return experiments::run_program("autoencoder", app, argc, argv, p, options, targets);
}
