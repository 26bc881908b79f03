// curv gradients: per-example gradients of a checkpoint's loss, one logit, the margin or the
// whole output Jacobian, over an index list and a parameter subset, optionally projected to k
// dimensions, written as one .npy matrix [examples · rows per example, columns]. Prints a
// one-line JSON summary with the time spent in each part.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "checkpoint_input.hpp"
#include "checks.hpp"
#include "commands.hpp"
#include "curv/curvature/gradients.hpp"
#include "curv/curvature/subset.hpp"
#include "curv/data/batch_source.hpp"
#include "curv/data/index_list.hpp"
#include "curv/data/task.hpp"
#include "curv/io/npy.hpp"
#include "curv/nn/checkpoint.hpp"
#include "curv/nn/objective.hpp"
#include "progress.hpp"
#include "provenance.hpp"

namespace curv::cli {

namespace {

struct Opts : CheckpointInput {
  std::string examples = "0-999", measurement = "loss";
  std::string subset = "all", projection = "gaussian", precision = "float32", out;
  index_t batch = 256, project = 0;
  std::uint64_t seed = 0;
  std::size_t cache_mb = 512;
  bool mean = false;
};

// --mean: ∇L = (1/N) Σ ∇ℓₙ of the mean loss over the list, one vector [subset size], float64.
template <class T>
int run_mean(const Opts& o) {
  const auto t0 = std::chrono::steady_clock::now();
  auto model = load_checkpoint<T>(o.checkpoint, o.model, o.config);
  auto task = make_task<T>(o.data, model->loss(), o.task);
  task->check_model(*model);
  const IndexList list = parse_index_list(o.examples, *task);
  const ParamSubset subset = ParamSubset::parse(o.subset, model->params().info());
  auto loss = make_loss<T>(model->loss());
  Objective<T> obj(*model, *loss);
  const index_t P = model->params().size();
  std::vector<T> g(static_cast<std::size_t>(P));
  std::vector<double> sum(static_cast<std::size_t>(P), 0.0);
  Progress bar;
  index_t done = 0;
  for_each_batch<T>(task->split(list.split), list.indices, o.batch, [&](const Batch<T>& b) {
    bar.count(long(done), long(list.size()), "examples");
    done += b.size();
    obj.set_batch(b.x, b.targets());
    obj.gradient(g.data());  // the batch's mean: weighted by its size below
    for (index_t i = 0; i < P; ++i)
      sum[std::size_t(i)] += double(g[std::size_t(i)]) * double(b.size());
  });
  bar.clear();
  for (double& x : sum) x /= double(list.size());
  std::vector<double> out(static_cast<std::size_t>(subset.size()));
  subset.gather(sum.data(), out.data());
  write_npy(o.out, out.data(), {std::int64_t(out.size())});
  nlohmann::json info = {
      {"model", model->name()}, {"examples", list.spec}, {"count", list.size()},
      {"measurement", "loss"},  {"subset", o.subset},    {"mean", true},
      {"columns", out.size()},  {"out", o.out},          {"seconds", seconds_since(t0)}};
  std::printf("%s\n", info.dump().c_str());
  return 0;
}

template <class T>
int run(const Opts& o) {
  // What can be checked before loading anything is checked first.
  GradientOptions g;
  g.measurement = Measurement::parse(o.measurement);
  g.projection = parse_projection(o.projection);
  CURV_CHECK(o.project >= 0, "expected --project k >= 1 (or 0 for no projection), found ",
             o.project);
  CURV_CHECK(o.batch >= 1, "expected --batch >= 1, found ", o.batch);
  check_writable(o.out, "--out");
  if (o.mean) {
    CURV_CHECK(o.measurement == "loss" && o.project == 0,
               "--mean: expected the loss's gradient unprojected, found --measurement ",
               o.measurement, " and --project ", o.project);
    return run_mean<T>(o);
  }
  g.subset = o.subset, g.batch = o.batch, g.project = o.project, g.seed = o.seed;
  g.cache_bytes = o.cache_mb << 20;

  const auto t0 = std::chrono::steady_clock::now();
  auto model = load_checkpoint<T>(o.checkpoint, o.model, o.config);
  auto task = make_task<T>(o.data, model->loss(), o.task);
  task->check_model(*model);
  const IndexList list = parse_index_list(o.examples, *task);
  GradientStream<T> stream(*model, task->split(list.split), list.indices, g);
  Progress bar;  // a terminal sees a bar over the examples; nothing else does
  stream.write_npy(o.out,
                   [&](index_t done) { bar.count(long(done), long(list.size()), "examples"); });
  bar.clear();
  const double seconds = seconds_since(t0);

  struct rusage u {};
  getrusage(RUSAGE_SELF, &u);
  const auto t = stream.timings();
  nlohmann::json info = {{"model", model->name()},
                         {"examples", list.spec},
                         {"count", stream.examples()},
                         {"measurement", g.measurement.name()},
                         {"subset", o.subset},
                         {"rows", stream.examples() * stream.rows_per_example()},
                         {"columns", stream.columns()},
                         {"precision", o.precision},
                         {"seconds", seconds},
                         {"seconds_gradients", t.gradients},
                         {"seconds_projection", t.projection},
                         {"seconds_generation", t.generation},
                         {"peak_rss_mb", double(u.ru_maxrss) / 1024.0},
                         {"out", o.out}};
  if (o.project > 0)
    info["projection"] = {{"kind", o.projection}, {"k", o.project}, {"seed", o.seed}};
  std::printf("%s\n", info.dump().c_str());
  return 0;
}

}  // namespace

Runner add_gradients(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "gradients",
      "Write per-example gradients (of the loss, a logit, the margin or every output) as .npy, "
      "optionally randomly projected");
  auto o = std::make_shared<Opts>();
  o->add_checkpoint_options(cmd);
  cmd->add_option("--examples", o->examples, "An index list (docs/data.md)")->capture_default_str();
  cmd->add_option("--measurement", o->measurement,
                  "loss, logit:C, predicted (the arg-max logit), margin (correct logit − "
                  "log-sum-exp of the others) or jacobian (one row per output)")
      ->capture_default_str();
  cmd->add_option("--subset", o->subset, "all, last, or comma-separated layer/parameter names")
      ->capture_default_str();
  cmd->add_option("--project", o->project, "k: project each row to k dimensions (0: none)")
      ->capture_default_str();
  cmd->add_option("--projection", o->projection, "gaussian, rademacher or sparse (count sketch)")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed of the projection")->capture_default_str();
  cmd->add_option("--batch", o->batch, "Examples per sweep")->capture_default_str();
  cmd->add_option("--cache-mb", o->cache_mb,
                  "Keep the projection matrix when it fits (MiB); else regenerate it per chunk")
      ->capture_default_str();
  cmd->add_option("--precision", o->precision, "float32 or float64: the dtype of sweeps and file")
      ->capture_default_str();
  cmd->add_option("--out", o->out, "Output .npy")->required();
  cmd->add_flag("--mean", o->mean,
                "Write the mean loss's gradient over --examples instead ([subset size], float64)");
  return [o] {
    CURV_CHECK(o->precision == "float32" || o->precision == "float64",
               "expected --precision float32 or float64, found '", o->precision, "'");
    o->resolve_data("gradients");
    return o->precision == "float32" ? run<float>(*o) : run<double>(*o);
  };
}

}  // namespace curv::cli
