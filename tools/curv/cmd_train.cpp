// curv train: train a model on a data set through the library's training loop (train/run.hpp);
// progress on stderr, the run's record (command, git commit, recipe, evaluations) to --log and
// --curve, a trajectory to --record, and a one-line JSON summary on stdout.
#include <sys/resource.h>
#include <tbb/global_control.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <tuple>

#include "checks.hpp"
#include "commands.hpp"
#include "curv/distributed/data_parallel.hpp"
#include "curv/distributed/kfac_exchange.hpp"
#include "curv/kernels/parallel.hpp"
#include "curv/nn/checkpoint.hpp"
#include "curv/optim/registry.hpp"
#include "curv/train/recorder.hpp"
#include "curv/train/trajectory.hpp"
#include "kfac_flags.hpp"
#include "progress.hpp"
#include "provenance.hpp"
#include "readable.hpp"
#include "recipes.hpp"
#include "train_curvature_rate.hpp"
#include "train_marglik.hpp"
#include "train_pruning.hpp"

namespace curv::cli {
namespace {

struct Opts {
  Recipe r;
  std::string schedule = "constant";
  KfacFlags kfac;
  std::string save, log, curve, record, model_file, recipe, init_from;
  index_t record_every = 100, log_every = 50;
  bool fixed_damping = false;
  int threads = 0;
  int bucket_kb = int(distributed::BucketedAllreduce<float>::kDefaultBucketBytes >> 10);
  bool mpi_stats = false;
  double gradient_workers = 1;  // KAISA's f: 1/c, c dividing the processes
  TrainPruneOptions prune;
  TrainMarglikOptions marglik;
  CurvatureRateFlags curvature_rate;
};

// The optimizers each option applies to: one given to another optimizer is refused, naming those
// it is for, rather than silently ignored.
const std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>>& applicability() {
  static const std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>> table = {
      {{"--nesterov"}, {"sgd"}},
      {{"--momentum"}, {"sgd", "lars", "kfac", "ekfac", "foof", "mfac"}},
      {{"--beta1", "--beta2", "--eps"}, {"adam", "adamw", "lamb"}},
      {{"--trust-coefficient"}, {"lars", "lamb"}},
      {{"--damping"}, {"kfac", "ekfac", "foof", "mfac"}},
      {{"--damping-min", "--fixed-damping", "--adapt-every", "--adapt-factor", "--qmodel-examples",
        "--stats-examples", "--factor-decay", "--inverse-every", "--rescale", "--kl-clip",
        "--unscheduled-clip", "--fallback-lr"},
       {"kfac", "ekfac", "foof"}},
      {{"--factors", "--kfac-damping", "--no-pi"}, {"kfac", "ekfac"}},
      {{"--restart-scaling"}, {"ekfac"}},
      {{"--window"}, {"mfac"}},
      {{"--gradient-workers"}, {"kfac", "foof"}}};
  return table;
}

void check_applicable(const CLI::App& cmd, const Recipe& r) {
  for (const auto& [options, optimizers] : applicability())
    for (const std::string& option : options) {
      if (cmd.count(option) == 0 ||
          std::find(optimizers.begin(), optimizers.end(), r.optimizer) != optimizers.end())
        continue;
      std::string names;
      for (const std::string& n : optimizers) names += (names.empty() ? "" : ", ") + n;
      fail("train: ", option, " applies to ", names, ", found --optimizer ", r.optimizer);
    }
  const std::string& rescale = r.second_order.rescale;
  for (const char* option :
       {"--damping-min", "--fixed-damping", "--adapt-every", "--adapt-factor", "--qmodel-examples"})
    CURV_CHECK(cmd.count(option) == 0 || rescale == "qmodel", "train: ", option,
               " applies with --rescale qmodel (the adapted λ), found --rescale ", rescale);
  for (const char* option : {"--kl-clip", "--unscheduled-clip"})
    CURV_CHECK(cmd.count(option) == 0 || rescale == "kl", "train: ", option,
               " applies with --rescale kl, found --rescale ", rescale);
  for (const char* option : {"--step-size", "--gamma"})
    CURV_CHECK(cmd.count(option) == 0 || r.schedule.kind == Schedule::Kind::Step, "train: ", option,
               " applies to --schedule step, found --schedule ",
               Schedule::kind_name(r.schedule.kind));
}

// What a data-parallel run exchanged (rank 0's): per step, the buckets and the gradient bytes
// each process sends into the sums; over the run the allreduces (gradients, losses, K-FAC's
// factors) and the broadcasts rank 0 sent or received (K-FAC's shared inverses or
// preconditioned gradients), the share of buckets started during the backward sweep and the
// time finish() waited.
nlohmann::json mpi_summary(const distributed::BucketedAllreduce<float>& x) {
  const auto& s = x.stats();
  const auto& t = distributed::traffic();
  const double steps = double(std::max<index_t>(s.steps, 1));
  return {
      {"buckets_per_step", s.buckets_per_step},
      {"gradient_bytes_per_step", s.bytes_per_step},
      {"allreduce_bytes", t.allreduce_bytes},
      {"allreduce_calls", t.allreduce_calls},
      {"allreduce_bytes_per_step", double(t.allreduce_bytes) / steps},
      {"broadcast_bytes", t.broadcast_bytes},
      {"broadcast_calls", t.broadcast_calls},
      {"started_during_sweep",
       double(s.started_in_sweep) / (steps * double(std::max<std::size_t>(s.buckets_per_step, 1)))},
      {"wait_seconds", s.wait_seconds}};
}

int run(Opts& o, const CLI::App& cmd) {
  Recipe& r = o.r;
  if (!o.model_file.empty()) {  // a layer list (nn/models/sequential.cpp) as the model
    check_readable(o.model_file, "--model-file", "a JSON layer list");
    std::ifstream f(o.model_file);
    try {
      r.config = nlohmann::json::parse(f).dump();
    } catch (const nlohmann::json::exception& e) {
      fail("--model-file '", o.model_file, "': expected a JSON layer list, found invalid JSON (",
           e.what(), ")");
    }
    r.model = "sequential";
  }
  SecondOrderConfig& so = r.second_order;
  // Each optimizer's own defaults (optim/registry.hpp) for what was not given.
  if (!cmd.count("--lr")) r.lr = default_lr(r.optimizer);
  if (!cmd.count("--damping")) so.damping = default_damping(r.optimizer);
  if (!cmd.count("--rescale")) so.rescale = default_rescale(r.optimizer);
  if (!cmd.count("--trust-coefficient")) r.large_batch.trust = default_trust(r.optimizer);
  if (!cmd.count("--eps")) r.adam.eps = default_eps(r.optimizer);
  o.kfac.check();
  so.factors = o.kfac.factor_kind();
  // curvature: the learner sets the peak rate, the schedule (its --curvature-decay) the shape.
  const bool curvature_schedule = o.schedule == "curvature";
  r.schedule.kind = Schedule::kind_from(curvature_schedule ? "constant" : o.schedule);
  o.curvature_rate.check(cmd, r, curvature_schedule);
  check_applicable(cmd, r);
  CURV_CHECK(r.clip_norm >= 0, "train: expected --clip >= 0 (0: off), found ", r.clip_norm);
  CURV_CHECK(r.divergence == 0 || r.divergence > 1,
             "train: expected --divergence > 1 (or 0: off), found ", r.divergence);
  // A trajectory's steps keep their rates, not the momentum the learner set on the way.
  CURV_CHECK(!curvature_schedule || o.record.empty() || o.curvature_rate.fixed_momentum,
             "train: expected no --record with --schedule curvature (a replay cannot restore the "
             "learned momentum; --fixed-momentum keeps it)");
  CURV_CHECK(r.schedule.warmup_steps >= 0, "train: expected --warmup >= 0 steps, found ",
             r.schedule.warmup_steps);
  CURV_CHECK(r.adam.beta1 >= 0 && r.adam.beta1 < 1, "train: expected --beta1 in [0, 1), found ",
             r.adam.beta1);
  CURV_CHECK(r.adam.beta2 >= 0 && r.adam.beta2 < 1, "train: expected --beta2 in [0, 1), found ",
             r.adam.beta2);
  CURV_CHECK(r.adam.eps > 0, "train: expected --eps > 0, found ", r.adam.eps);
  // make_optimizer reads a trust coefficient of 0 as "the default": refuse it here, by name.
  CURV_CHECK(!cmd.count("--trust-coefficient") || r.large_batch.trust > 0,
             "train: expected --trust-coefficient > 0, found ", r.large_batch.trust);
  CURV_CHECK(r.batch > 0, "train: expected --batch >= 1, found ", r.batch);
  CURV_CHECK(r.epochs > 0 || r.steps > 0, "train: expected --epochs >= 1 or --steps >= 1, found ",
             r.epochs, " and ", r.steps);
  CURV_CHECK(o.threads >= 0, "train: expected --threads >= 0, found ", o.threads);
  so.kfac_damping = o.kfac.damping_kind(), so.kfac_pi = o.kfac.pi_adjusted();
  r.second_order.adapt_damping = !o.fixed_damping;
  r.data_seed = r.seed;
  distributed::Communicator& comm = distributed::Communicator::world();
  if (comm.distributed()) {  // data parallel: one shard of every batch per process
    CURV_CHECK(!cmd.count("--shards") || r.shards == comm.size(), "train: expected --shards ",
               comm.size(), " (the MPI processes) or none, found ", r.shards);
    r.shards = comm.size();
    const char* local = !o.prune.kind.empty() ? "--prune"
                        : o.marglik.on        ? "--marglik"
                        : curvature_schedule  ? "--schedule curvature"
                                              : nullptr;
    CURV_CHECK(!local, "train: expected no --prune, --marglik or --schedule curvature in a ",
               "data-parallel run (each measures curvature on one process's shard), found ", local);
  }
  CURV_CHECK(r.shards >= 1, "train: expected --shards >= 1, found ", r.shards);
  CURV_CHECK(r.batch % r.shards == 0, "train: expected a batch divisible by the ", r.shards,
             comm.distributed() ? " MPI processes" : " shards",
             " (the same examples on each), found --batch ", r.batch);
  CURV_CHECK(r.shards == 1 || o.record.empty(), "train: expected no --record with ", r.shards,
             " shards (a trajectory records unsharded draws)");
  CURV_CHECK(o.bucket_kb > 0, "train: expected --mpi-bucket-kb > 0, found ", o.bucket_kb);
  CURV_CHECK(!cmd.count("--gradient-workers") || comm.distributed(),
             "train: --gradient-workers applies to kfac or foof under mpirun, found one process");
  CURV_CHECK(!o.mpi_stats || comm.distributed(),
             "train: --mpi-stats applies to a run under mpirun, found one process");
  if (!o.init_from.empty()) check_readable(o.init_from, "--init-from", "a safetensors checkpoint");
  check_writable(o.save, "--save");
  check_writable(o.curve, "--curve");
  check_writable(o.prune.save_dense, "--save-dense");
  o.marglik.fit.batch = r.batch, o.marglik.fit.seed = r.seed;
  check_train_marglik(o.marglik, r, !o.record.empty(), !o.prune.kind.empty());
  std::unique_ptr<tbb::global_control> threads;
  if (o.threads > 0) {
    threads = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                    o.threads);
    set_blas_threads(o.threads);
  }
  std::unique_ptr<Model<float>> model;
  std::unique_ptr<Task<float>> task;
  std::unique_ptr<Optimizer<float>> opt;
  std::unique_ptr<distributed::KfacExchange> kfac_exchange;
  IndexList train;
  std::vector<IndexList> scored;
  distributed::agreed(comm, [&] {  // the data is read here: every process, or none, goes on
    model = make_recipe_model<float>(r);
    if (!o.init_from.empty())  // every parameter's name and shape checked against the model's
      load_parameters(read_safetensors(o.init_from), o.init_from, model->name(), model->params());
    task = make_recipe_task<float>(r, *model);
    opt = make_recipe_optimizer<float>(r);
    std::tie(train, scored) = check_recipe(r, *task, *model);  // before any output
  });
  if (comm.distributed() && opt->reads_batch()) {  // distributed K-FAC
    // A fraction the grid cannot take throws the same error everywhere, before any collective.
    kfac_exchange = std::make_unique<distributed::KfacExchange>(comm, o.gradient_workers);
    distributed::agreed(comm, [&] { opt->distribute(*kfac_exchange); });
  }
  std::unique_ptr<distributed::BucketedAllreduce<float>> exchange;
  if (comm.distributed())
    exchange = std::make_unique<distributed::BucketedAllreduce<float>>(
        comm, model->params(), std::size_t(o.bucket_kb) << 10);
  // The learner checks its batch against the training examples: before any output too.
  const auto learner = o.curvature_rate.make(task->split("train"), train.indices);
  const index_t examples = train.size();
  std::unique_ptr<TrainPruning> pruning;
  if (!o.prune.kind.empty())
    pruning =
        std::make_unique<TrainPruning>(o.prune, *model, *opt, task->split("train"), train.indices,
                                       total_steps(r, examples / r.batch), r.seed);
  std::unique_ptr<laplace::OnlineMarglik<float>> marglik;
  if (o.marglik.on)
    marglik = std::make_unique<laplace::OnlineMarglik<float>>(
        *model, task->split("train"), train.indices, examples / r.batch, o.marglik.fit);
  std::unique_ptr<TrajectoryRecorder<float>> trajectory;  // refuses a used directory up front
  if (!o.record.empty())
    trajectory = std::make_unique<TrajectoryRecorder<float>>(o.record, o.record_every);
  // The start line: beside command, commit and recipe, what else decides the numbers — the
  // threads (reduction order) and the data (each split's fingerprint).
  nlohmann::json data_record = nlohmann::json::object();
  for (const std::string& split : task->split_names()) {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx",
                  static_cast<unsigned long long>(task->split(split).fingerprint()));
    data_record[split] = hex;
  }
  nlohmann::json start_extra = {
      {"threads", tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism)},
      {"data_fingerprints", data_record}};
  const bool layerwise = r.optimizer == "lars" || r.optimizer == "lamb";
  if (comm.distributed()) start_extra["processes"] = comm.size();
  // One process writes the record (an unwritable log stops every process).
  std::unique_ptr<RunRecorder> recorder;
  distributed::agreed(comm, [&] {
    if (comm.root()) recorder = std::make_unique<RunRecorder>(o.curve, o.log, r, start_extra);
  });

  Progress progress(comm.root());
  progress.line("train " + r.model + " on " + r.data + ": " + std::to_string(examples) +
                " examples, " + std::to_string(model->params().size()) + " parameters, " +
                r.optimizer + " lr " + significant(r.lr));
  RunHooks<float> hooks;
  hooks.log_every = o.log_every;
  hooks.trajectory = trajectory.get();
  hooks.rate = learner.get();
  hooks.exchange = exchange.get();
  hooks.evaluate = comm.root();
  nlohmann::json last;
  if (pruning) hooks.hooks.push_back(&pruning->hook());
  if (marglik) {
    hooks.regularizers.push_back(&marglik->regularizer());
    hooks.hooks.push_back(marglik.get());
  }
  hooks.on_evaluation = [&](const Evaluation& e) {
    Evaluation scored_e = e;
    if (pruning) scored_e.metrics["sparsity"] = pruning->sparsity();
    if (marglik && !marglik->history().empty())  // the latest fit's evidence
      scored_e.metrics["log_marglik"] = marglik->history().back().log_marglik;
    recorder->evaluation(scored_e);
    last = to_json(scored_e);
    progress.line(rounded(last).dump());
  };
  hooks.on_step = [&](index_t step, index_t total, double loss) {
    progress.step(long(step), long(total), loss);
  };
  RunSummary s;
  try {
    if (pruning) pruning->begin();
    s = run_training(r, *task, *model, *opt, hooks);
  } catch (const Error& e) {
    if (recorder) recorder->failure(e.what());
    throw;
  }
  if (!comm.root()) return 0;  // every process holds the same weights; rank 0 writes them
  if (!o.save.empty()) save_checkpoint(*model, o.save, training_metadata(r));
  // Epochs as asked, or the fraction a step budget covered.
  const nlohmann::json epochs = r.steps > 0
                                    ? nlohmann::json(double(s.steps) / double(s.steps_per_epoch))
                                    : nlohmann::json(r.epochs);
  nlohmann::json summary = {{"model", r.model}, {"data", r.data},   {"optimizer", r.optimizer},
                            {"lr", r.lr},       {"batch", r.batch}, {"seed", r.seed},
                            {"epochs", epochs}, {"steps", s.steps}, {"seconds", s.seconds}};
  if (layerwise) summary["trust_coefficient"] = r.large_batch.trust;
  if (r.shards > 1) summary["shards"] = r.shards;
  if (comm.distributed()) summary["processes"] = comm.size();
  if (o.mpi_stats) summary["mpi"] = mpi_summary(*exchange);
  if (learner) {  // what the learner measured: how often, at what cost, and where it ended
    const auto& m = learner->history().back();
    summary["curvature_schedule"] = {{"measurements", learner->history().size()},
                                     {"seconds", learner->seconds()},
                                     {"last_lambda_max", m.lambda_max},
                                     {"last_lambda_min_positive", m.lambda_min_positive},
                                     {"last_momentum", m.momentum},
                                     {"last_measured_lr", m.lr},
                                     {"last_peak_lr", m.peak}};
  }
  for (const auto& [k, v] : last.items())
    if (k != "step" && k != "epoch" && k != "seconds" && k != "lr") summary[k] = v;
  if (pruning) {
    const nlohmann::json p =
        pruning->finish(*task, scored, r.eval_batch > 0 ? r.eval_batch : r.batch);
    for (const auto& [k, v] : p.items()) summary[k] = v;
  }
  if (marglik) summary["marglik"] = marglik_summary(*marglik, o.marglik);
  // Memory: the process's peak against what the run must hold (parameters and their
  // gradients, optimizer state, one batch's activations, the data).
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const double mb = 1.0 / (1 << 20);
  const std::size_t needed = 2 * sizeof(float) * std::size_t(model->params().size()) +
                             s.state_bytes + s.activation_bytes + task->data_bytes();
  summary["peak_rss_mb"] = double(ru.ru_maxrss) * 1024 * mb;
  summary["needed_mb"] = double(needed) * mb;
  if (!o.save.empty()) summary["save"] = o.save;
  if (!o.init_from.empty()) summary["init_from"] = o.init_from;
  recorder->finish(summary);  // the record keeps every digit; the terminal gets six
  std::printf("%s\n", rounded(summary).dump().c_str());
  return 0;
}

}  // namespace

Runner add_train(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "Train a model, evaluating it as it goes");
  auto o = std::make_shared<Opts>();
  Recipe& r = o->r;
  SecondOrderConfig& so = r.second_order;
  auto* model_opt =
      cmd->add_option("--model", r.model, "Model name (curv info lists the parameters)")
          ->capture_default_str();
  auto* config_opt = cmd->add_option("--config", r.config, "Model configuration as a JSON object")
                         ->capture_default_str();
  // Expanded before parsing (tools/curv/recipes.hpp); listed here for --help.
  std::string recipes;
  for (const auto& [name, flags] : train_recipes()) recipes += (recipes.empty() ? "" : ", ") + name;
  cmd->add_option(
      "--recipe", o->recipe,
      "A documented recipe's flags (docs/training.md), those given here winning: " + recipes);
  cmd->add_option("--model-file", o->model_file,
                  "A model as a JSON layer list instead of --model (docs/models/*.json)")
      ->excludes(config_opt)
      ->excludes(model_opt);
  cmd->add_option("--data", r.data,
                  "mnist, fashion-mnist, cifar10, moby-dick, t2t-synthetic or inputs.npy")
      ->capture_default_str();
  cmd->add_option("--labels", r.task.labels, "With --data inputs.npy: the targets .npy");
  cmd->add_flag("--standardize", r.task.standardize,
                "Image data: inputs standardized per channel by the training split's "
                "mean and deviation (give it again wherever the model is used)");
  cmd->add_option("--examples", r.examples,
                  "Training examples: an index list of the train split (docs/data.md)")
      ->capture_default_str();
  cmd->add_option("--validation", r.task.validation,
                  "Carve this fraction of train out as the val split (seeded by --seed)")
      ->capture_default_str();
  cmd->add_option("--label-noise", r.task.label_noise,
                  "Image classification: replace this fraction of the training labels by "
                  "another class, uniformly (seeded by --seed; mislabel detection)")
      ->capture_default_str();
  cmd->add_option("--classes", r.task.classes,
                  "Image classification: only these classes, relabeled 0..K-1 in the order "
                  "given (e.g. 1,7: Koh & Liang's binary MNIST; the model has K outputs)")
      ->delimiter(',');
  cmd->add_option("--optimizer", r.optimizer,
                  "sgd, adam, adamw, lars, lamb, kfac, ekfac, foof or mfac")
      ->capture_default_str();
  cmd->add_option("--lr", r.lr,
                  "Learning rate (the schedule's peak); default sgd 0.05, adam/adamw 0.01, "
                  "lars 2, lamb 0.005, kfac/ekfac 0.003, foof 0.03, mfac 0.001");
  cmd->add_option("--momentum", r.momentum, "sgd, lars, kfac, ekfac, foof, mfac: momentum")
      ->capture_default_str();
  cmd->add_flag("--nesterov", r.nesterov, "sgd: Nesterov momentum");
  cmd->add_option("--beta1", r.adam.beta1, "adam, adamw, lamb: first-moment decay β₁")
      ->capture_default_str();
  cmd->add_option("--beta2", r.adam.beta2, "adam, adamw, lamb: second-moment decay β₂")
      ->capture_default_str();
  cmd->add_option("--eps", r.adam.eps,
                  "adam, adamw, lamb: ε added to the root of the second moment; default 1e-8, "
                  "lamb 1e-6");
  cmd->add_option("--trust-coefficient", r.large_batch.trust,
                  "lars, lamb: η in the layer-wise trust ratio (docs/optimizers.md); default "
                  "1e-3 (lars), 1 (lamb)");
  cmd->add_option("--weight-decay", so.weight_decay,
                  "L2 (sgd, adam, lars, second order) or decoupled (adamw, lamb) weight decay")
      ->capture_default_str();
  cmd->add_option("--schedule", o->schedule,
                  "constant, step, cosine, or curvature (the rate from Lanczos on the batch "
                  "Hessian: docs/methods/spectra.md)")
      ->capture_default_str();
  cmd->add_option("--warmup", r.schedule.warmup_steps, "Linear warm-up steps")
      ->capture_default_str();
  cmd->add_option("--step-size", r.schedule.step_size, "step schedule: steps between decays")
      ->capture_default_str();
  cmd->add_option("--gamma", r.schedule.gamma, "step schedule: decay factor")
      ->capture_default_str();
  cmd->add_option("--clip", r.clip_norm, "Clip the gradient norm to this (0: off)")
      ->capture_default_str();
  cmd->add_option("--divergence", r.divergence,
                  "Stop with an error once a step's loss exceeds this times the first step's "
                  "(0: off; only non-finite losses stop the run)")
      ->capture_default_str();
  cmd->add_flag("--augment", r.task.augment,
                "CIFAR-10: random crop (padding 4) and horizontal flip");
  cmd->add_option("--epochs", r.epochs, "Passes over the training examples")->capture_default_str();
  cmd->add_option("--steps", r.steps, "Optimizer steps (when > 0, instead of --epochs)")
      ->capture_default_str();
  cmd->add_option("--batch", r.batch, "Minibatch size")->capture_default_str();
  cmd->add_option("--shards", r.shards,
                  "Draw each batch as this many equal shards from as many parts of the data, "
                  "as `mpirun -np N` does (its default there; docs/distributed.md)")
      ->capture_default_str();
  cmd->add_option("--mpi-bucket-kb", o->bucket_kb,
                  "Under mpirun: gradient sums start in buckets of at least this many KiB "
                  "during the backward sweep")
      ->capture_default_str();
  cmd->add_option("--gradient-workers", o->gradient_workers,
                  "Under mpirun, kfac/foof: KAISA's gradient-worker fraction 1/c, c dividing "
                  "the processes: each layer's refresh goes to that fraction of them, which "
                  "precondition its gradient for c processes each (1: all precondition; "
                  "1/processes: the layer's owner alone)")
      ->capture_default_str();
  cmd->add_flag("--mpi-stats", o->mpi_stats,
                "Under mpirun: buckets, bytes sent and time waiting, in the JSON line");
  cmd->add_option("--seed", r.seed, "Seed of initialization, shuffling, augmentation, validation")
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "Threads for TBB and BLAS (0: all cores)")
      ->capture_default_str();
  cmd->add_option("--context", r.task.context, "moby-dick: characters per window")
      ->capture_default_str();
  cmd->add_option("--eval", r.evaluate,
                  "Index lists scored at every evaluation, e.g. test:all val:all train:0-9999")
      ->capture_default_str();
  cmd->add_option("--eval-every", r.eval_every, "Steps between evaluations (0: every epoch's end)")
      ->capture_default_str();
  cmd->add_option("--eval-batch", r.eval_batch, "Examples per evaluation batch (0: --batch)")
      ->capture_default_str();
  cmd->add_option("--save", o->save, "Write the trained model to this safetensors file");
  cmd->add_option("--init-from", o->init_from,
                  "Start from these weights (a checkpoint of the same architecture, e.g. a "
                  "trajectory snapshot) instead of the seed's initialization; the optimizer "
                  "starts fresh");
  cmd->add_option("--log", o->log,
                  "Append the run's record to this file: start (command, git commit, recipe), "
                  "one JSON line per evaluation, end");
  cmd->add_option("--curve", o->curve, "Write one CSV row per evaluation to this file");
  cmd->add_option("--record", o->record,
                  "Record the trajectory into this directory (snapshots and every step's batch)");
  cmd->add_option("--record-every", o->record_every, "Steps between trajectory snapshots")
      ->capture_default_str();
  cmd->add_option("--log-every", o->log_every, "Steps between progress updates")
      ->capture_default_str();
  auto* g = cmd->add_option_group("second-order", "kfac, ekfac, foof, mfac (docs/optimizers.md)");
  g->add_option("--damping", so.damping,
                "λ; default 0.03 for kfac/ekfac (fixed with --rescale kl; the initial value with "
                "qmodel), 0.1 for foof, 1e-3 for mfac");
  g->add_option("--damping-min", so.damping_min, "Floor of the adapted λ")->capture_default_str();
  g->add_flag("--fixed-damping", o->fixed_damping, "Do not adapt λ (qmodel)");
  g->add_option("--adapt-every", so.adapt_every, "Steps between λ adaptations")
      ->capture_default_str();
  g->add_option("--adapt-factor", so.adapt_factor, "λ ×= factor (ρ > 3/4) or ÷= factor (ρ < 1/4)")
      ->capture_default_str();
  g->add_option("--qmodel-examples", so.qmodel_examples,
                "qmodel: size the step with the exact GGN of the batch's first N examples (0: all)")
      ->capture_default_str();
  g->add_option("--stats-examples", so.stats_examples,
                "kfac/ekfac/foof: estimate the factors on the batch's first N examples (0: all)")
      ->capture_default_str();
  g->add_option("--factor-decay", so.decay, "Moving-average decay of the K-FAC factors")
      ->capture_default_str();
  g->add_option("--inverse-every", so.inverse_every, "Steps between inversions / eigenbases")
      ->capture_default_str();
  o->kfac.add(g, "kfac/ekfac");
  g->add_option("--rescale", so.rescale,
                "kl (KL clipping; kfac/ekfac default), qmodel (exact-curvature quadratic model, "
                "λ adapted) or none (foof default)");
  g->add_option("--kl-clip", so.kl_clip, "kl: κ")->capture_default_str();
  g->add_flag("!--unscheduled-clip", so.scheduled_clip,
              "kl: size ν with the current rate (kfac-pytorch), so the schedule does not scale "
              "clipped steps");
  g->add_flag("!--restart-scaling", so.carry_scaling,
              "ekfac: restart the scaling from one batch's re-fit at each new basis instead of "
              "carrying it over");
  g->add_option("--fallback-lr", so.fallback_lr,
                "Adam learning rate for parameters outside linear/conv layers")
      ->capture_default_str();
  g->add_option("--window", so.window, "mfac: gradients in the sliding window")
      ->capture_default_str();
  add_train_prune_options(cmd, o->prune);
  add_train_marglik_options(cmd, o->marglik);
  o->curvature_rate.add(cmd);
  return [o, cmd] {
    o->r.task.validation_seed = o->r.seed, o->r.task.label_noise_seed = o->r.seed;
    return run(*o, *cmd);
  };
}

}  // namespace curv::cli
