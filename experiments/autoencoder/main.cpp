// The K-FAC paper's deep autoencoder experiment (Martens & Grosse 2015, §13) at CPU scale:
// MNIST, 784-1000-500-250-30-250-500-1000-784, batch 1000 for every method, the same iteration
// budget, the objective L + (η/2)‖θ‖² with η = 1e-5, and the reconstruction error
// (mean over images of Σ_pixels (σ(output) − x)²) tracked on a fixed 10,000-image training
// subset, then measured on all 60,000 at the end. Each optimizer runs over its learning-rate
// grid; curves go to CSV files, the best run of each optimizer to two PNG plots (error against
// iterations and against seconds), and a summary to results.jsonl. See README.md.
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>

#include "../common/plot.hpp"
#include "curv/kernels/parallel.hpp"
#include "curv/nn/objective.hpp"
#include "curv/optim/registry.hpp"
#include "curv/train/trainer.hpp"

using namespace curv;
namespace fs = std::filesystem;

namespace {

struct Run {
  std::string optimizer;
  double lr = 0;
  std::vector<double> iterations, seconds, errors;
  double final_error = INFINITY, full_error = NAN, damping = 0;
  std::vector<std::pair<std::string, double>> profile;  // the optimizer's own seconds by part
  std::string failure;
};

// Mean over the first n training images of Σ_pixels (σ(z) − x)², evaluated in chunks.
double reconstruction_error(const Model<float>& model, const Task<float>& task, index_t n) {
  auto loss = make_loss<float>("bce");
  Objective<float> obj(model, *loss);
  Rng unused(0);
  Tensor<float> x;
  BatchTargets<float> y;
  std::vector<index_t> idx;
  double sum = 0;
  for (index_t i = 0; i < n; i += 1000) {
    const index_t b = std::min<index_t>(1000, n - i);
    idx.resize(std::size_t(b));
    std::iota(idx.begin(), idx.end(), i);
    task.train_batch(idx.data(), b, unused, x, y);
    obj.set_batch(x, y.view());
    const View<const float> z = obj.output();
    for (index_t j = 0; j < z.numel(); ++j) {
      const double d = 1.0 / (1.0 + std::exp(-double(z.data[j]))) - double(x.data()[j]);
      sum += d * d;
    }
  }
  return sum / double(n);
}

struct Setup {
  std::string init = "default", out = "experiments/autoencoder/out";
  index_t iterations = 600, batch = 1000, eval_every = 20, subset = 10000;
  double l2 = 1e-5;
  std::uint64_t seed = 0;
  std::vector<std::string> optimizers{"sgd", "adam", "kfac"};
  std::vector<double> sgd_lrs{1e-3, 3e-3, 1e-2, 3e-2, 1e-1}, adam_lrs{1e-4, 3e-4, 1e-3, 3e-3, 1e-2},
      kfac_lrs{0.03, 0.1, 0.3, 1.0, 3.0};
  SecondOrderConfig kfac;  // the reference recipe, set in main()
};

Run train_one(const Setup& s, const Task<float>& task, const std::string& name, double lr) {
  Run r;
  r.optimizer = name, r.lr = lr;
  auto model = make_model<float>("autoencoder", nlohmann::json{{"init", s.init}}.dump());
  Rng init_rng(s.seed);
  model->init(init_rng);
  SecondOrderConfig cfg = s.kfac;
  cfg.weight_decay = s.l2;
  auto opt = make_optimizer<float>(name, lr, 0.9, false, cfg);
  auto record = [&](const TrainLoop<float>& loop) {
    r.iterations.push_back(double(loop.steps()));
    r.seconds.push_back(loop.seconds());
    r.errors.push_back(reconstruction_error(*model, task, s.subset));
    CURV_CHECK(std::isfinite(r.errors.back()), "the error became non-finite at iteration ",
               loop.steps());
  };
  try {
    TrainLoop<float> loop(*model, *opt, task, s.batch,
                          s.seed + 1);  // the same batches for every run
    record(loop);
    while (loop.steps() < s.iterations) {
      loop.step(lr);
      if (loop.steps() % s.eval_every == 0 || loop.steps() == s.iterations) record(loop);
    }
    r.final_error = r.errors.back();
    r.damping = opt->damping();
    r.profile = opt->profile();
    r.full_error = reconstruction_error(*model, task, task.train_size());
  } catch (const Error& e) {
    r.failure =
        name + " lr " + std::to_string(lr) + ": " + e.what();  // a diverged grid point is a result
  }
  return r;
}

// A curve written by write_curve, read back (to redraw the plots without training again).
Run read_curve(const std::string& path, const std::string& optimizer, double lr) {
  Run r;
  r.optimizer = optimizer, r.lr = lr;
  std::ifstream f(path);
  std::string line;
  std::getline(f, line);
  while (std::getline(f, line)) {
    double it = 0, sec = 0, err = 0;
    if (std::sscanf(line.c_str(), "%lf,%lf,%lf", &it, &sec, &err) != 3) continue;
    r.iterations.push_back(it), r.seconds.push_back(sec), r.errors.push_back(err);
  }
  if (!r.errors.empty()) r.final_error = r.errors.back();
  return r;
}

void write_curve(const std::string& path, const Run& r) {
  std::ofstream f(path + ".tmp");
  f << "iteration,seconds,error_10k\n";
  for (std::size_t i = 0; i < r.errors.size(); ++i)
    f << r.iterations[i] << "," << r.seconds[i] << "," << r.errors[i] << "\n";
  f.close();
  fs::rename(path + ".tmp", path);
}

// First time (iteration or seconds) at which the curve is at or below `level`; NaN if never.
double first_reaching(const std::vector<double>& t, const std::vector<double>& e, double level) {
  for (std::size_t i = 0; i < e.size(); ++i)
    if (e[i] <= level) return t[i];
  return NAN;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"The K-FAC paper's deep autoencoder on MNIST: K-FAC against SGD-momentum and Adam"};
  Setup s;
  // K-FAC: Martens & Grosse's recipe (λ adapted every 5 iterations by ω₁ = 0.95⁵, factor decay
  // 0.95, inverses every 5, the Monte-Carlo Fisher, the quadratic model), with the statistics
  // and the quadratic model's Gauss-Newton products on the first 250 of each batch's 1000
  // images (their §8), and λ starting at 0.01 (README: a screen of the initial λ).
  s.kfac.damping = 0.01, s.kfac.adapt_every = 5, s.kfac.adapt_factor = 0.95, s.kfac.decay = 0.95;
  s.kfac.inverse_every = 5, s.kfac.factors = FactorKind::MC, s.kfac.rescale = "qmodel";
  s.kfac.stats_examples = 250, s.kfac.qmodel_examples = 250;
  app.add_option("--init", s.init, "default (PyTorch) or sparse (Martens 2010)")
      ->capture_default_str();
  app.add_option("--iterations", s.iterations, "Iterations for every method")
      ->capture_default_str();
  app.add_option("--batch", s.batch, "Batch size for every method")->capture_default_str();
  app.add_option("--eval-every", s.eval_every, "Iterations between error evaluations")
      ->capture_default_str();
  app.add_option("--optimizers", s.optimizers, "Which of sgd, adam, kfac to run")
      ->capture_default_str();
  app.add_option("--sgd-lrs", s.sgd_lrs, "SGD-momentum (0.9) learning-rate grid")
      ->capture_default_str();
  app.add_option("--adam-lrs", s.adam_lrs, "Adam learning-rate grid")->capture_default_str();
  app.add_option("--kfac-lrs", s.kfac_lrs, "K-FAC step multipliers (on the quadratic model's step)")
      ->capture_default_str();
  app.add_option("--kfac-damping", s.kfac.damping, "K-FAC initial λ")->capture_default_str();
  app.add_option("--qmodel-examples", s.kfac.qmodel_examples,
                 "K-FAC: examples of each batch whose exact GGN sizes the step (0: all)")
      ->capture_default_str();
  app.add_option("--inverse-every", s.kfac.inverse_every, "K-FAC: iterations between inversions")
      ->capture_default_str();
  app.add_option("--stats-examples", s.kfac.stats_examples,
                 "K-FAC: examples of each batch the factors are estimated on (0: all)")
      ->capture_default_str();
  app.add_option("--seed", s.seed, "Initialization and batch order")->capture_default_str();
  app.add_option("--out", s.out, "Directory for curves, plots and results.jsonl")
      ->capture_default_str();
  bool replot = false;
  app.add_flag("--replot", replot,
               "Redraw the plots from the curves of an earlier run (no training)");
  CLI11_PARSE(app, argc, argv);
  try {
    const FlushDenormals flush;  // see --help: subnormal weights would slow a run, not change it
    auto task = make_task<float>("mnist", "bce", {});
    const std::string dir = s.out + "/" + s.init;
    fs::create_directories(dir);
    std::ofstream results(dir + "/results.jsonl", std::ios::app);
    std::vector<Run> best;
    for (const auto& name : s.optimizers) {
      const auto& grid = name == "sgd" ? s.sgd_lrs : name == "adam" ? s.adam_lrs : s.kfac_lrs;
      Run top;
      for (double lr : grid) {
        char file[128];
        std::snprintf(file, sizeof file, "/%s-lr%g.csv", name.c_str(), lr);
        if (replot) {
          Run r = read_curve(dir + file, name, lr);
          if (!r.errors.empty() && r.final_error < top.final_error) top = r;
          continue;
        }
        Run r = train_one(s, *task, name, lr);
        if (!r.errors.empty()) write_curve(dir + file, r);
        nlohmann::json j = {{"init", s.init},
                            {"optimizer", name},
                            {"lr", lr},
                            {"iterations", s.iterations},
                            {"batch", s.batch},
                            {"final_error_10k", r.final_error},
                            {"error_60k", r.full_error},
                            {"seconds", r.seconds.empty() ? 0.0 : r.seconds.back()},
                            {"iteration_to_30", first_reaching(r.iterations, r.errors, 30)}};
        if (r.damping > 0) j["final_damping"] = r.damping;
        for (const auto& [part, sec] : r.profile) j["optimizer_seconds"][part] = sec;
        if (name == "kfac") j["inverse_every"] = s.kfac.inverse_every;
        if (s.kfac.stats_examples > 0 && name == "kfac")
          j["stats_examples"] = s.kfac.stats_examples;
        if (s.kfac.qmodel_examples > 0 && name == "kfac")
          j["qmodel_examples"] = s.kfac.qmodel_examples;
        if (!r.failure.empty()) j["failure"] = r.failure;
        std::printf("%s\n", j.dump().c_str());
        std::fflush(stdout);
        results << j.dump() << "\n" << std::flush;
        if (r.failure.empty() && r.final_error < top.final_error) top = r;
      }
      if (!top.errors.empty()) best.push_back(top);
    }
    std::vector<experiments::Series> by_iteration, by_seconds;
    for (const auto& r : best) {
      char label[64];
      std::snprintf(label, sizeof label, "%s lr %g", r.optimizer.c_str(), r.lr);
      by_iteration.push_back({label, r.iterations, r.errors});
      by_seconds.push_back({label, r.seconds, r.errors});
    }
    if (!best.empty()) {
      experiments::plot_lines(dir + "/error_vs_iterations.png",
                              "Deep autoencoder, MNIST (" + s.init + " init)", "iteration",
                              "reconstruction error (10k train images)", by_iteration, true);
      experiments::plot_lines(
          dir + "/error_vs_seconds.png", "Deep autoencoder, MNIST (" + s.init + " init)",
          "seconds (training only)", "reconstruction error (10k train images)", by_seconds, true);
    }
    // The targets, from the best runs: K-FAC's iterations to 30, and its time to Adam's best.
    const Run* kfac = nullptr;
    const Run* adam = nullptr;
    for (const auto& r : best) {
      if (r.optimizer == "kfac") kfac = &r;
      if (r.optimizer == "adam") adam = &r;
    }
    nlohmann::json summary = {{"init", s.init}};
    for (const auto& r : best)
      summary["best"][r.optimizer] = {
          {"lr", r.lr},
          {"final_error_10k", r.final_error},
          {"error_60k", r.full_error},
          {"seconds", r.seconds.back()},
          {"seconds_per_iteration", r.seconds.back() / double(s.iterations)}};
    if (kfac) summary["kfac_iteration_to_30"] = first_reaching(kfac->iterations, kfac->errors, 30);
    if (kfac && adam) {
      summary["kfac_seconds_to_adam_best"] =
          first_reaching(kfac->seconds, kfac->errors, adam->final_error);
      summary["adam_seconds_to_adam_best"] =
          first_reaching(adam->seconds, adam->errors, adam->final_error);
    }
    if (replot) return 0;
    std::printf("%s\n", summary.dump().c_str());
    results << summary.dump() << "\n";
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "autoencoder: %s\n", e.what());
    return 1;
  }
}
