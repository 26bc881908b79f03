// curv influence: the influence-function score matrix of a trained model (influence/scores.hpp,
// docs/methods/influence.md): s[q, n] = ∇m(z'_q)ᵀ (H + λI)⁻¹ ∇ℓ(z_n) for the queries (--queries)
// against the training examples scored (--train-subset), with H the Hessian or GGN of the mean
// training loss on --examples (the scored examples by default) and λ the checkpoint's weight
// decay plus --damping. Writes the scores as float32 .npy [queries, train]; prints a JSON line.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "checks.hpp"
#include "commands.hpp"
#include "curv/data/index_list.hpp"
#include "curv/influence/scores.hpp"
#include "curv/io/npy.hpp"
#include "curvature_input.hpp"
#include "progress.hpp"
#include "provenance.hpp"

namespace curv::cli {

namespace {

struct Opts {
  CurvatureInput in;
  std::string train = "train:all", queries, method = "cg", measurement = "loss", out;
  double weight_decay = -1;  // < 0: the checkpoint's recorded weight decay (0 without one)
  double tolerance = 1e-8, lissa_scale = 0;
  index_t max_iterations = 500, lissa_depth = 1000;
};

template <class T>
int run(const Opts& o) {
  const auto t0 = std::chrono::steady_clock::now();
  influence::InverseOptions inv;
  inv.kind = influence::parse_inverse(o.method);
  const double wd = o.weight_decay >= 0 ? o.weight_decay : recorded_weight_decay(o.in.checkpoint);
  inv.damping = wd + o.in.added_damping();
  inv.tolerance = o.tolerance, inv.max_iterations = o.max_iterations;
  inv.lissa_scale = o.lissa_scale, inv.lissa_depth = o.lissa_depth;
  CURV_CHECK(inv.kind != influence::Inverse::Lissa || o.lissa_scale > 0,
             "influence: --method lissa needs --lissa-scale above the largest eigenvalue of "
             "H + λI (see curv spectrum --top 1)");
  influence::ScoreOptions so;
  so.query = Measurement::parse(o.measurement);
  CURV_CHECK(so.query.kind == Measurement::Kind::Loss || so.query.kind == Measurement::Kind::Margin,
             "influence: expected --measurement loss or margin, found '", o.measurement, "'");
  so.batch = o.in.batch;

  Progress progress;
  progress.note("influence: " + o.in.op + " on examples " + o.in.examples);
  CurvatureSetup<T> s = load_curvature<T>(o.in);
  const IndexList train = parse_index_list(o.train, *s.task);
  const IndexList queries = parse_index_list(o.queries, *s.task);
  ProgressOperator op(*s.op, progress);
  op.stage("H·v products", 0);
  influence::InverseReport report;
  const std::vector<double> S =
      influence::scores(*s.model, op, s.task->split(train.split), train.indices,
                        s.task->split(queries.split), queries.indices, inv, so, &report);
  progress.clear();
  for (std::size_t i = 0; i < S.size(); ++i)
    CURV_CHECK(std::isfinite(S[i]), "influence: score ", i,
               " is not finite (nothing written): ", "raise --damping");
  const std::vector<float> f(S.begin(), S.end());
  write_npy(o.out, f.data(), {std::int64_t(queries.size()), std::int64_t(train.size())});

  nlohmann::json info = s.describe();
  info["method"] = o.method, info["measurement"] = so.query.name();
  info["queries"] = queries.spec, info["query_count"] = queries.size();
  info["train"] = train.spec, info["train_count"] = train.size();
  info["weight_decay"] = wd, info["damping"] = o.in.damping, info["lambda"] = inv.damping;
  info["products"] = report.products, info["worst_relative_residual"] = report.worst_residual;
  if (inv.kind == influence::Inverse::Cg)
    info["tolerance"] = o.tolerance, info["max_iterations"] = o.max_iterations;
  if (inv.kind == influence::Inverse::Lissa)
    info["lissa_scale"] = o.lissa_scale, info["lissa_depth"] = o.lissa_depth;
  info["out"] = o.out;
  info["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  info["memory"] = s.memory();
  std::printf("%s\n", info.dump().c_str());
  return 0;
}

}  // namespace

Runner add_influence(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "influence",
      "Influence-function scores of training examples on queries (docs/methods/influence.md)");
  auto o = std::make_shared<Opts>();
  o->in.add_options(cmd);
  cmd->add_option("--train-subset", o->train, "The training examples scored (an index list)")
      ->capture_default_str();
  cmd->add_option("--queries", o->queries, "The query examples, e.g. test:0-99 (an index list)")
      ->required();
  cmd->add_option("--method", o->method,
                  "How (H + λI)⁻¹ is applied: exact (dense, small models), "
                  "cg or lissa")
      ->capture_default_str();
  cmd->add_option("--measurement", o->measurement, "The queries' scalar: loss or margin")
      ->capture_default_str();
  cmd->add_option("--weight-decay", o->weight_decay,
                  "The objective's weight decay, part of λ (default: the checkpoint's recorded "
                  "recipe, else 0)");
  cmd->add_option("--out", o->out, "The scores: float32 .npy [queries, train]")->required();
  cmd->add_option("--tolerance", o->tolerance, "cg: relative residual")->capture_default_str();
  cmd->add_option("--max-iterations", o->max_iterations, "cg: iterations")->capture_default_str();
  cmd->add_option("--lissa-scale", o->lissa_scale,
                  "lissa: must exceed the largest eigenvalue of H + λI");
  cmd->add_option("--lissa-depth", o->lissa_depth, "lissa: recursion depth")->capture_default_str();
  return [o, cmd] {
    o->in.resolve_data("influence");
    CURV_CHECK(o->in.op == "hessian" || o->in.op == "ggn",
               "influence: expected --operator hessian or ggn, found '", o->in.op, "'");
    CURV_CHECK(o->in.subset == "all", "influence: expected --subset all, found '", o->in.subset,
               "'");
    CURV_CHECK(o->weight_decay >= 0 || cmd->count("--weight-decay") == 0,
               "influence: expected --weight-decay >= 0, found ", o->weight_decay);
    CURV_CHECK(o->tolerance > 0, "influence: expected --tolerance > 0, found ", o->tolerance);
    CURV_CHECK(o->max_iterations >= 1, "influence: expected --max-iterations >= 1, found ",
               o->max_iterations);
    CURV_CHECK(o->lissa_depth >= 1, "influence: expected --lissa-depth >= 1, found ",
               o->lissa_depth);
    check_writable(o->out, "--out");
    o->in.validate();
    if (cmd->count("--examples") == 0) o->in.examples = o->train;  // H on the scored examples
    return o->in.precision == "float32" ? run<float>(*o) : run<double>(*o);
  };
}

}  // namespace curv::cli
