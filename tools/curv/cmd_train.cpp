// curv train: train a model on a dataset; progress on stderr, one JSON line per epoch to --log,
// and a one-line JSON summary on stdout.
#include <sys/resource.h>
#include <tbb/global_control.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "curv/core/error.hpp"
#include "curv/kernels/parallel.hpp"
#include "curv/nn/checkpoint.hpp"
#include "curv/optim/registry.hpp"
#include "curv/train/trainer.hpp"
#include "progress.hpp"

namespace curv::cli {

Runner add_train(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "Train a model and evaluate it after every epoch");
  struct Opts {
    std::string model = "mlp", config = "{}", data = "fashion-mnist", optimizer = "sgd",
                schedule = "constant";
    std::string save, log;
    index_t epochs = 1, batch = 128, limit = -1, warmup = 0, step_size = 1, context = 64,
            log_every = 50;
    double lr = 0.05, momentum = 0.9, weight_decay = 0, gamma = 0.1, clip = 0;
    bool nesterov = false, augment = false, fixed_damping = false;
    std::uint64_t seed = 0;
    int threads = 0;
    SecondOrderConfig so;
    std::string factors = "mc", kfac_damping = "factored";
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--model", o->model, "Model name (curv info lists the parameters)")
      ->capture_default_str();
  cmd->add_option("--config", o->config, "Model configuration as a JSON object")
      ->capture_default_str();
  cmd->add_option("--data", o->data, "mnist, fashion-mnist, cifar10, moby-dick or t2t-synthetic")
      ->capture_default_str();
  cmd->add_option("--optimizer", o->optimizer, "sgd, adam, adamw, kfac, ekfac, foof or mfac")
      ->capture_default_str();
  auto* lr_opt = cmd->add_option(
      "--lr", o->lr,
      "Learning rate (the schedule's peak); default 0.05, foof 0.01, kfac/ekfac 1, mfac 0.001");
  cmd->add_option("--momentum", o->momentum, "SGD momentum")->capture_default_str();
  cmd->add_flag("--nesterov", o->nesterov, "Nesterov momentum (SGD)");
  cmd->add_option("--weight-decay", o->weight_decay,
                  "L2 (sgd, adam) or decoupled (adamw) weight decay")
      ->capture_default_str();
  cmd->add_option("--schedule", o->schedule, "constant, step or cosine")->capture_default_str();
  cmd->add_option("--warmup", o->warmup, "Linear warm-up steps")->capture_default_str();
  cmd->add_option("--step-size", o->step_size, "step schedule: steps between decays")
      ->capture_default_str();
  cmd->add_option("--gamma", o->gamma, "step schedule: decay factor")->capture_default_str();
  cmd->add_option("--clip", o->clip, "Clip the gradient norm to this (0: off)")
      ->capture_default_str();
  cmd->add_flag("--augment", o->augment, "CIFAR-10: random crop (padding 4) and horizontal flip");
  cmd->add_option("--epochs", o->epochs, "Passes over the training set")->capture_default_str();
  cmd->add_option("--batch", o->batch, "Minibatch size")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed of initialization, shuffling and augmentation")
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "Threads for TBB and BLAS (0: all cores)")
      ->capture_default_str();
  cmd->add_option("--limit", o->limit,
                  "Use only the first N training examples (t2t-synthetic: examples per epoch)")
      ->capture_default_str();
  cmd->add_option("--context", o->context, "moby-dick: characters per window")
      ->capture_default_str();
  cmd->add_option("--save", o->save, "Write the trained model to this safetensors file");
  cmd->add_option("--log", o->log, "Append one JSON line of metrics per epoch to this file");
  cmd->add_option("--log-every", o->log_every, "Steps between progress updates")
      ->capture_default_str();
  auto* so = cmd->add_option_group("second-order", "kfac, ekfac, foof, mfac (docs/optimizers.md)");
  auto* damping_opt = so->add_option(
      "--damping", o->so.damping,
      "λ; default 1 for kfac/ekfac (initial, then adapted), 0.1 for foof, 1e-3 for mfac");
  so->add_option("--damping-min", o->so.damping_min, "Floor of the adapted λ")
      ->capture_default_str();
  so->add_flag("--fixed-damping", o->fixed_damping, "Do not adapt λ (qmodel)");
  so->add_option("--adapt-every", o->so.adapt_every, "Steps between λ adaptations")
      ->capture_default_str();
  so->add_option("--adapt-factor", o->so.adapt_factor,
                 "λ ×= factor (ρ > 3/4) or ÷= factor (ρ < 1/4)")
      ->capture_default_str();
  so->add_option(
        "--qmodel-examples", o->so.qmodel_examples,
        "qmodel: size the step with the exact GGN of the batch's first N examples (0: all)")
      ->capture_default_str();
  so->add_option("--stats-examples", o->so.stats_examples,
                 "kfac/ekfac/foof: estimate the factors on the batch's first N examples (0: all)")
      ->capture_default_str();
  so->add_option("--factor-decay", o->so.decay, "Moving-average decay of the K-FAC factors")
      ->capture_default_str();
  so->add_option("--inverse-every", o->so.inverse_every,
                 "Steps between inversions / eigenbasis updates")
      ->capture_default_str();
  so->add_option("--factors", o->factors,
                 "G from mc (sampled labels: true Fisher) or ef (empirical)")
      ->capture_default_str();
  so->add_option("--kfac-damping", o->kfac_damping,
                 "kfac/ekfac: factored (π-adjusted Tikhonov) or eigen")
      ->capture_default_str();
  auto* rescale_opt = so->add_option(
      "--rescale", o->so.rescale,
      "qmodel (exact-curvature quadratic model; kfac/ekfac default), kl (KL clipping) or "
      "none (foof default)");
  so->add_option("--kl-clip", o->so.kl_clip, "kl: κ")->capture_default_str();
  so->add_flag("!--unscheduled-clip", o->so.scheduled_clip,
               "kl: size ν with the current rate (kfac-pytorch), so the schedule does not scale "
               "clipped steps");
  so->add_flag("!--restart-scaling", o->so.carry_scaling,
               "ekfac: restart the scaling from one batch's re-fit at each new basis instead of "
               "carrying it over");
  so->add_option("--fallback-lr", o->so.fallback_lr,
                 "Adam learning rate for parameters outside linear/conv layers")
      ->capture_default_str();
  so->add_option("--window", o->so.window, "mfac: gradients in the sliding window")
      ->capture_default_str();
  return [o, lr_opt, damping_opt, rescale_opt] {
    if (rescale_opt->count() == 0 && o->optimizer == "foof") o->so.rescale = "none";
    if (lr_opt->count() == 0) o->lr = default_lr(o->optimizer);
    if (damping_opt->count() == 0) o->so.damping = default_damping(o->optimizer);
    CURV_CHECK(o->batch > 0, "train: expected --batch >= 1, found ", o->batch);
    CURV_CHECK(o->epochs > 0, "train: expected --epochs >= 1, found ", o->epochs);
    CURV_CHECK(o->threads >= 0, "train: expected --threads >= 0, found ", o->threads);
    std::unique_ptr<tbb::global_control> threads;
    if (o->threads > 0) {
      threads = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                      o->threads);
      set_blas_threads(o->threads);
    }
    auto model = make_model<float>(o->model, o->config);
    TaskOptions topt;
    topt.augment = o->augment;
    topt.limit = o->limit;
    topt.context = o->context;
    auto task = make_task<float>(o->data, model->loss(), topt);
    task->check_model(*model);
    CURV_CHECK(o->batch <= task->train_size(), "train: expected a batch size in 1..",
               task->train_size(), ", found ", o->batch);
    o->so.weight_decay = o->weight_decay;
    o->so.factors = parse_factor_kind(o->factors);
    o->so.kfac_damping = parse_kfac_damping(o->kfac_damping);
    o->so.adapt_damping = !o->fixed_damping;
    o->so.seed = o->seed;
    std::unique_ptr<Optimizer<float>> opt =
        make_optimizer<float>(o->optimizer, o->lr, o->momentum, o->nesterov, o->so);
    TrainConfig cfg;
    cfg.epochs = o->epochs;
    cfg.batch = o->batch;
    cfg.seed = o->seed;
    cfg.log_every = o->log_every;
    cfg.clip_norm = o->clip;
    cfg.schedule.kind = Schedule::kind_from(o->schedule);
    cfg.schedule.base_lr = o->lr;
    cfg.schedule.warmup_steps = o->warmup;
    cfg.schedule.step_size = o->step_size;
    cfg.schedule.gamma = o->gamma;
    // Open the log before training so a bad path fails at once, not after the run.
    std::ofstream log;
    if (!o->log.empty()) {
      log.open(o->log, std::ios::app);
      CURV_CHECK(log.good(), o->log, ": expected a writable log file, found it cannot be opened");
    }
    Rng rng(o->seed);
    model->init(rng);
    Progress progress;
    progress.line("train " + o->model + " on " + o->data + ": " +
                  std::to_string(task->train_size()) + " examples, " +
                  std::to_string(model->params().size()) + " parameters, " + o->optimizer + " lr " +
                  std::to_string(o->lr));
    double seconds = 0;
    std::size_t activations = 0;
    nlohmann::json last;
    train<float>(
        *model, *opt, *task, cfg,
        [&](const EpochReport& r) {
          seconds += r.seconds;
          activations = r.activation_bytes;
          nlohmann::json j = {{"epoch", r.epoch},
                              {"steps", r.steps},
                              {"train_loss", r.train_loss},
                              {"seconds", r.seconds}};
          if (opt->damping() > 0) j["damping"] = opt->damping();
          for (const auto& [k, v] : r.metrics) j[k] = v;
          last = j;
          progress.line(j.dump());
          if (log.is_open()) log << j.dump() << "\n" << std::flush;
        },
        [&](index_t step, index_t total, double loss) {
          progress.step(long(step), long(total), loss);
        });
    if (!o->save.empty()) save_checkpoint(*model, o->save);
    nlohmann::json summary = {
        {"model", o->model}, {"data", o->data}, {"epochs", o->epochs}, {"seconds", seconds}};
    for (const auto& [k, v] : last.items())
      if (k != "epoch" && k != "seconds") summary[k] = v;
    // Memory: the process's peak against what the run must hold (parameters and their
    // gradients, optimizer state, one batch's activations, the dataset).
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    const double mb = 1.0 / (1 << 20);
    const std::size_t needed = 2 * sizeof(float) * std::size_t(model->params().size()) +
                               opt->state_bytes() + activations + task->data_bytes();
    summary["peak_rss_mb"] = double(ru.ru_maxrss) * 1024 * mb;
    summary["needed_mb"] = double(needed) * mb;
    std::printf("%s\n", summary.dump().c_str());
    return 0;
  };
}

}  // namespace curv::cli
