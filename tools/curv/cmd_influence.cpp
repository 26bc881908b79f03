// curv influence: training-data influence scores of a trained model (influence/, docs/methods/
// influence.md): s[q, n] = ∇m(z'_q)ᵀ M ∇ℓ(z_n) for the queries (--queries) against the training
// examples scored (--train-subset), or self-influence s(z, z) (--self), with M by --method:
//   exact, cg, lissa   (H + λI)⁻¹, H the Hessian or GGN (--operator) of the mean training loss
//                      on --examples (the scored examples by default)
//   arnoldi            H's top --arnoldi-rank eigenpairs from --arnoldi-iterations products
//   kfac, ekfac        the K-FAC / EK-FAC operator's inverse (λ defaults to 0.1 × its mean
//                      eigenvalue), diagonal the exact diagonal's
//   grad-dot, grad-cos the identity on raw or unit gradients; tracin Σₖ ηₖ over a recorded run
//   trak               R ((1/N) ΦᵀΦ + λI)⁻¹ Rᵀ of --projection-dim projected margin gradients,
//                      averaged over the checkpoint and --ensemble's (influence/trak.hpp)
//   representer        Grad-Dot over the last layer refitted with L2 weight λ, over λ
//                      (influence/representer.hpp)
// λ is the checkpoint's weight decay plus --damping. Writes float32 .npy [queries, train] (or
// [train] for --self) through a temporary file; prints a JSON line. --show K draws query
// --show-query's image beside the K training images with the largest and the smallest scores.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "checks.hpp"
#include "commands.hpp"
#include "curv/data/index_list.hpp"
#include "curv/distributed/sharded_columns.hpp"
#include "curv/influence/arnoldi.hpp"
#include "curv/influence/representer.hpp"
#include "curv/influence/tracin.hpp"
#include "curv/influence/trak.hpp"
#include "curv/io/npy.hpp"
#include "curv/nn/checkpoint.hpp"
#include "curv/report/image_grid.hpp"
#include "curvature_input.hpp"
#include "progress.hpp"
#include "provenance.hpp"

namespace curv::cli {

namespace {

// What M is built from, by --method.
enum class Family { Inverse, Arnoldi, Structured, Gradient, Tracin, Trak, Representer };

Family family_of(const std::string& m) {
  if (m == "exact" || m == "cg" || m == "lissa") return Family::Inverse;
  if (m == "arnoldi") return Family::Arnoldi;
  if (m == "kfac" || m == "ekfac" || m == "diagonal") return Family::Structured;
  if (m == "grad-dot" || m == "grad-cos") return Family::Gradient;
  if (m == "tracin") return Family::Tracin;
  if (m == "trak") return Family::Trak;
  if (m == "representer") return Family::Representer;
  fail(
      "influence: expected --method among exact, cg, lissa, arnoldi, kfac, ekfac, diagonal, "
      "grad-dot, grad-cos, tracin, trak, representer, found '",
      m, "'");
}

// One example of an image split as a panel, captioned.
template <class T>
ImagePanel panel_of(const Split<T>& split, index_t i, const std::string& caption,
                    const std::string& more = "") {
  Batch<T> b;
  const index_t idx[1] = {i};
  split.fill(idx, nullptr, b);
  const Shape shape = split.example_shape();
  ImagePanel p;
  p.channels = shape[0], p.height = shape[1], p.width = shape[2];
  p.pixels.assign(b.x.data(), b.x.data() + b.x.numel());
  p.caption = caption;
  if (!b.labels.empty()) p.caption += " y=" + std::to_string(b.labels[0]);
  p.caption += more;
  return p;
}

template <class T>
void check_images(const Split<T>& split, const char* list) {
  const Shape s = split.example_shape();
  CURV_CHECK(s.rank() == 3 && (s[0] == 1 || s[0] == 3), "influence: --show draws images: expected ",
             list, " examples of shape (1 or 3 channels, height, width), found ", s.str());
}

// --show K: query q's image, then the K training examples with the largest scores (helped it
// most) and the K with the smallest (hurt it most), each with its score.
template <class T>
void show(const std::string& path, index_t K, index_t q, const std::vector<double>& S,
          const Split<T>& train_split, const IndexList& train, const Split<T>& query_split,
          const IndexList& queries, const std::string& method) {
  const index_t N = train.size();
  std::vector<index_t> order(static_cast<std::size_t>(N));
  for (index_t n = 0; n < N; ++n) order[std::size_t(n)] = n;
  std::stable_sort(order.begin(), order.end(), [&](index_t a, index_t b) {
    return S[std::size_t(q * N + a)] > S[std::size_t(q * N + b)];
  });
  auto panel = [&](index_t n) {
    char score[32];
    std::snprintf(score, sizeof score, "\ns=%.3g", S[std::size_t(q * N + n)]);
    const index_t i = train.indices[std::size_t(n)];
    return panel_of(train_split, i, train.split + ":" + std::to_string(i), score);
  };
  const index_t k = std::min(K, N);
  ImageRow helpful{"most helpful: the largest s", {}}, harmful{"most harmful: the smallest s", {}};
  for (index_t j = 0; j < k; ++j) helpful.panels.push_back(panel(order[std::size_t(j)]));
  for (index_t j = 0; j < k; ++j) harmful.panels.push_back(panel(order[std::size_t(N - 1 - j)]));
  const index_t qi = queries.indices[std::size_t(q)];
  ImageRow query{"query", {panel_of(query_split, qi, queries.split + ":" + std::to_string(qi))}};
  plot_image_grid(path, "Influence (" + method + ") on " + queries.split + ":" + std::to_string(qi),
                  {query, helpful, harmful});
}

struct Opts {
  CurvatureInput in;
  std::string train = "train:all", queries, method = "cg", measurement = "loss", out, trajectory;
  std::vector<std::string> ensemble;  // trak: more checkpoints of the same architecture
  index_t projection_dim = 2048;
  std::string projection = "rademacher";
  bool self = false;
  double weight_decay = -1;  // < 0: the checkpoint's recorded weight decay (0 without one)
  double tolerance = 1e-8, lissa_scale = 0;
  index_t max_iterations = 500, lissa_depth = 1000, arnoldi_iterations = 200, arnoldi_rank = 50;
  index_t gradient_batch = 256, exact_limit = 6000;
  bool fresh_batches = false;
  index_t show = 0, show_query = 0;  // --show K, the query's position in --queries
  std::string show_out;
  std::string per_layer;                   // the per-layer parts [layers, queries, train], .npy
  index_t query_rank = 0;                  // > 0: low-rank mapped query gradients
  std::string query_inputs, query_labels;  // queries from .npy files instead of the data
  bool damping_given = false;
};

template <class T>
int run(Opts& o) {
  const auto t0 = std::chrono::steady_clock::now();
  const Family family = family_of(o.method);
  const bool with_operator =
      family == Family::Inverse || family == Family::Arnoldi || family == Family::Structured;
  const double wd = o.weight_decay >= 0 ? o.weight_decay : recorded_weight_decay(o.in.checkpoint);
  influence::ScoreOptions so;
  so.query = Measurement::parse(o.measurement);
  so.batch = o.gradient_batch;
  so.cosine = o.method == "grad-cos";
  so.query_rank = o.query_rank;
  influence::ScoreTiming timing;
  so.timing = &timing;
  double arnoldi_product_seconds = -1;  // set by Arnoldi

  // Under mpirun the training examples are split, in whole blocks of --gradient-batch, across
  // the processes; M is built on each the same way (docs/distributed.md).
  distributed::Communicator& comm = distributed::Communicator::world();
  if (comm.distributed())
    CURV_CHECK(family == Family::Inverse || family == Family::Arnoldi ||
                   family == Family::Structured || family == Family::Gradient,
               "influence: --method ", o.method, ": expected one that maps gradients by a metric ",
               "on several MPI processes (exact, cg, lissa, arnoldi, kfac, ekfac, diagonal, ",
               "grad-dot, grad-cos), found one that does not");
  CURV_CHECK(!comm.distributed() || (o.per_layer.empty() && o.show == 0), "influence: expected ",
             "no --per-layer or --show on several MPI processes, found one");
  Progress progress(comm.root());
  CurvatureSetup<T> s;
  nlohmann::json info;
  if (with_operator) {
    progress.note("influence: " + o.in.op + " on examples " + o.in.examples);
    s = load_curvature<T>(o.in, /*shard=*/false);
    info = s.describe();
  } else {
    s.model = load_checkpoint<T>(o.in.checkpoint, o.in.model, o.in.config);
    s.task = make_task<T>(o.in.data, s.model->loss(), o.in.task);
    s.task->check_model(*s.model);
    info = {{"model", s.model->name()}, {"parameters", s.model->params().size()}};
  }
  const IndexList train = parse_index_list(o.train, *s.task);
  const Split<T>& train_split = s.task->split(train.split);
  // The queries: an index list of the data, or of --query-inputs (its rows, split "train").
  std::unique_ptr<Task<T>> query_file;
  if (!o.query_inputs.empty()) {
    TaskOptions qt;
    qt.labels = o.query_labels;
    query_file = make_task<T>(o.query_inputs, s.model->loss(), qt);
    query_file->check_model(*s.model);
  }
  const Task<T>& query_task = query_file ? *query_file : *s.task;
  IndexList queries;
  if (!o.self) queries = parse_index_list(o.queries, query_task);
  const Split<T>& query_split = query_task.split(o.self ? std::string("train") : queries.split);
  if (o.show > 0) {
    CURV_CHECK(o.show_query < queries.size(), "influence: expected --show-query in 0..",
               queries.size() - 1, " (a position in --queries ", queries.spec, "), found ",
               o.show_query);
    check_images(train_split, "--train-subset");
    check_images(query_split, "--queries");
  }

  // Phases reported apart: loading (the curvature's batches), M (its products or fits), scoring
  // (every gradient through M).
  const double load_seconds = seconds_since(t0);
  const auto t_metric = std::chrono::steady_clock::now();
  // M, by family; λ = weight decay + damping (kfac, ekfac: 0.1 × mean eigenvalue by default).
  double damping = o.in.added_damping();
  std::unique_ptr<influence::ScoreMetric> metric;
  std::unique_ptr<ProgressOperator> op;
  std::unique_ptr<LinearOperator> fresh;
  std::vector<influence::TracinCheckpoint> checkpoints;
  std::vector<std::unique_ptr<Model<T>>> members;  // trak: --ensemble's models
  std::vector<const Model<T>*> ensemble = {s.model.get()};
  influence::TrakOptions trak;
  if (with_operator) op = std::make_unique<ProgressOperator>(*s.op, progress);
  switch (family) {
    case Family::Inverse: {
      influence::InverseOptions inv;
      inv.kind = influence::parse_inverse(o.method);
      inv.damping = wd + damping;
      inv.tolerance = o.tolerance, inv.max_iterations = o.max_iterations;
      inv.lissa_scale = o.lissa_scale, inv.lissa_depth = o.lissa_depth;
      inv.exact_limit = o.exact_limit;
      if (o.fresh_batches) {  // LiSSA as Koh & Liang run it: each recursion step on one batch
        auto* model_op = dynamic_cast<ModelOperator<T>*>(s.op.get());
        fresh = std::make_unique<influence::FreshBatchOperator<T>>(*model_op, s.data->batches());
        op = std::make_unique<ProgressOperator>(*fresh, progress);
        info["fresh_batches"] = true;
      }
      op->stage("H·v products", 0);
      metric = std::make_unique<influence::InverseMetric>(*op, inv);
      break;
    }
    case Family::Arnoldi: {
      LinearOperator* H = op.get();
      if (o.fresh_batches) {
        auto* model_op = dynamic_cast<ModelOperator<T>*>(s.op.get());
        fresh = std::make_unique<influence::FreshBatchOperator<T>>(*model_op, s.data->batches());
        op = std::make_unique<ProgressOperator>(*fresh, progress);
        H = op.get();
      }
      op->stage("arnoldi: H·v products", std::min(o.arnoldi_iterations, H->size()));
      influence::ArnoldiOptions a;
      a.iterations = o.arnoldi_iterations, a.rank = o.arnoldi_rank, a.seed = o.in.seed;
      a.positive = o.in.op == "ggn";  // positive semi-definite: its largest values
      influence::ArnoldiReport r;
      metric = influence::arnoldi_metric(*H, a, wd + damping, &r);
      fresh.reset();  // the operator back on every batch
      info["arnoldi_products"] = r.products, info["arnoldi_values"] = r.values;
      arnoldi_product_seconds = r.product_seconds;
      info["arnoldi_rank"] = r.values.size(), info["fresh_batches"] = o.fresh_batches;
      if (!r.message.empty()) info["arnoldi_message"] = r.message;
      break;
    }
    case Family::Structured: {
      if (o.method != "diagonal" && !o.damping_given) {
        damping = 0.1 * s.op->trace() / double(s.op->size());
        info["damping_rule"] = "0.1 × mean eigenvalue";
      }
      metric = std::make_unique<influence::OperatorInverseMetric>(*s.op, wd + damping);
      break;
    }
    case Family::Gradient:
      metric = std::make_unique<influence::IdentityMetric>(s.model->params().size());
      break;
    case Family::Tracin:
      checkpoints = influence::tracin_checkpoints(Trajectory(o.trajectory));
      break;
    case Family::Trak:
      for (const std::string& path : o.ensemble) {
        members.push_back(load_checkpoint<T>(path, o.in.model, o.in.config));
        CURV_CHECK(members.back()->params().size() == s.model->params().size(),
                   "influence: --ensemble ", path, ": expected a model of ",
                   s.model->params().size(), " parameters like --checkpoint, found ",
                   members.back()->params().size());
        ensemble.push_back(members.back().get());
      }
      trak.dimension = o.projection_dim, trak.projection = parse_projection(o.projection);
      trak.seed = o.in.seed, trak.damping = wd + damping, trak.query = so.query;
      trak.batch = o.gradient_batch;
      break;
    case Family::Representer:  // its fit runs with the scores
      break;
  }
  const double metric_seconds = seconds_since(t_metric);
  const auto t_scores = std::chrono::steady_clock::now();
  progress.note("influence: scoring " + std::to_string(train.size()) + " training examples");
  std::vector<double> S;
  influence::TrakReport trak_report;
  influence::LayerScores layers;
  influence::RepresenterFit fit;
  if (family == Family::Representer) {
    influence::RepresenterOptions ro;
    ro.lambda = wd + damping, ro.query = so.query, ro.batch = o.gradient_batch;
    S = o.self ? influence::representer_self_scores(*s.model, train_split, train.indices, ro, &fit)
               : influence::representer_scores(*s.model, train_split, train.indices, query_split,
                                               queries.indices, ro, &fit);
  } else if (family == Family::Trak)
    S = o.self
            ? influence::trak_self_scores(ensemble, train_split, train.indices, trak, &trak_report)
            : influence::trak_scores(ensemble, train_split, train.indices, query_split,
                                     queries.indices, trak, &trak_report);
  else if (family == Family::Tracin)
    S = o.self
            ? influence::tracin_self_scores(*s.model, checkpoints, train_split, train.indices, so)
            : influence::tracin_scores(*s.model, checkpoints, train_split, train.indices,
                                       query_split, queries.indices, so);
  else if (comm.distributed())  // this process's columns, gathered on rank 0 in order
    S = distributed::gather_columns(
        comm, train.indices, so.batch, o.self ? 1 : queries.size(), [&](std::vector<index_t> part) {
          return o.self
                     ? influence::self_scores(*s.model, *metric, train_split, std::move(part), so)
                     : influence::scores(*s.model, *metric, train_split, std::move(part),
                                         query_split, queries.indices, so);
        });
  else
    S = o.self ? influence::self_scores(*s.model, *metric, train_split, train.indices, so)
               : influence::scores(*s.model, *metric, train_split, train.indices, query_split,
                                   queries.indices, so, o.per_layer.empty() ? nullptr : &layers);
  const double scoring_seconds = seconds_since(t_scores);
  if (!comm.root()) return 0;
  progress.clear();
  for (std::size_t i = 0; i < S.size(); ++i)
    CURV_CHECK(std::isfinite(S[i]), "influence: score ", i,
               " is not finite (nothing written): raise --damping");
  const std::vector<float> f(S.begin(), S.end());
  if (o.self)
    write_npy(o.out, f.data(), {std::int64_t(train.size())});
  else
    write_npy(o.out, f.data(), {std::int64_t(queries.size()), std::int64_t(train.size())});
  if (!o.per_layer.empty()) {
    for (std::size_t i = 0; i < layers.values.size(); ++i)
      CURV_CHECK(std::isfinite(layers.values[i]), "influence: per-layer score ", i,
                 " is not finite (--per-layer not written): raise --damping");
    const std::vector<float> v(layers.values.begin(), layers.values.end());
    write_npy(o.per_layer, v.data(),
              {std::int64_t(layers.names.size()), std::int64_t(queries.size()),
               std::int64_t(train.size())});
    info["per_layer"] = o.per_layer, info["layers"] = layers.names;
  }
  if (o.show > 0) {
    show(o.show_out, o.show, o.show_query, S, train_split, train, query_split, queries, o.method);
    info["show"] = o.show_out;
  }

  info["method"] = o.method, info["measurement"] = so.query.name(), info["self"] = o.self;
  if (o.query_rank > 0) info["query_rank"] = o.query_rank;
  if (!o.self) info["queries"] = queries.spec, info["query_count"] = queries.size();
  info["train"] = train.spec, info["train_count"] = train.size();
  if (with_operator) {
    info["weight_decay"] = wd, info["damping"] = damping, info["lambda"] = wd + damping;
    info["metric"] = metric->name();
  }
  if (family == Family::Inverse) {
    info["products"] = metric->report().products;
    info["worst_relative_residual"] = metric->report().worst_residual;
    if (o.method == "cg")
      info["tolerance"] = o.tolerance, info["max_iterations"] = o.max_iterations;
    if (o.method == "lissa")
      info["lissa_scale"] = o.lissa_scale, info["lissa_depth"] = o.lissa_depth;
  }
  if (family == Family::Tracin) {
    info["trajectory"] = o.trajectory;
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& c : checkpoints) steps.push_back({{"step", c.step}, {"lr", c.lr}});
    info["checkpoints"] = steps;
  }
  if (family == Family::Representer) {
    info["weight_decay"] = wd, info["damping"] = damping, info["lambda"] = wd + damping;
    info["last_layer_fit"] = {{"newton_steps", fit.steps},
                              {"gradient_norm", fit.gradient_norm},
                              {"model_loss", fit.model_loss},
                              {"fit_loss", fit.fit_loss},
                              {"model_accuracy", fit.model_accuracy},
                              {"fit_accuracy", fit.fit_accuracy}};
  }
  if (family == Family::Trak) {
    info["weight_decay"] = wd, info["damping"] = damping, info["lambda"] = wd + damping;
    info["projection_dim"] = trak.dimension, info["projection"] = o.projection;
    info["projection_seed"] = trak.seed;
    nlohmann::json models = {o.in.checkpoint};
    for (const auto& path : o.ensemble) models.push_back(path);
    info["ensemble"] = models;
    info["training_sweeps"] = trak_report.training_sweeps;
    info["mean_weight_1_minus_p"] = trak_report.mean_weight;
    info["gradient_seconds"] = trak_report.gradient_seconds;
    info["projection_seconds"] = trak_report.projection_seconds;
    info["generation_seconds"] = trak_report.generation_seconds;
  }
  info["out"] = o.out;
  info["load_seconds"] = load_seconds, info["metric_seconds"] = metric_seconds;
  info["scoring_seconds"] = scoring_seconds, info["seconds"] = seconds_since(t0);
  if (family != Family::Trak && family != Family::Representer) {
    info["gradient_seconds"] = timing.gradient_seconds;
    info["dot_seconds"] = timing.product_seconds;
  }
  if (arnoldi_product_seconds >= 0) {
    // What Arnoldi influence cannot do without: its n products, one gradient per example and
    // each gradient's projection onto the p Ritz vectors. The ratio is what the rest costs.
    const double floor = arnoldi_product_seconds + timing.gradient_seconds + timing.product_seconds;
    info["arnoldi_product_seconds"] = arnoldi_product_seconds;
    info["floor_seconds"] = floor, info["floor_ratio"] = info["seconds"].get<double>() / floor;
  }
  if (with_operator) info["memory"] = s.memory();
  std::printf("%s\n", info.dump().c_str());
  return 0;
}

}  // namespace

Runner add_influence(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("influence",
                         "Influence scores of training examples on queries, or self-influence "
                         "(docs/methods/influence.md)");
  auto o = std::make_shared<Opts>();
  o->in.add_options(cmd);
  cmd->get_option("--operator")
      ->required(false)
      ->description(
          "exact, cg, lissa, arnoldi: hessian or ggn (default ggn); set by the other "
          "methods");
  cmd->add_option("--train-subset", o->train, "The training examples scored (an index list)")
      ->capture_default_str();
  cmd->add_option("--queries", o->queries, "The query examples, e.g. test:0-99 (an index list)");
  cmd->add_option(
         "--gradient-batch", o->gradient_batch,
         "Examples per per-example-gradient sweep while scoring (memory: this × P doubles)")
      ->capture_default_str();
  cmd->add_flag("--self", o->self, "Self-influence s(z, z) of the training examples instead");
  cmd->add_option(
         "--method", o->method,
         "exact, cg, lissa, arnoldi, kfac, ekfac, diagonal, grad-dot, grad-cos, tracin, trak, "
         "representer")
      ->capture_default_str();
  cmd->add_option("--measurement", o->measurement, "The queries' scalar: loss or margin")
      ->capture_default_str();
  cmd->add_option("--weight-decay", o->weight_decay,
                  "The objective's weight decay, part of λ (default: the checkpoint's recorded "
                  "recipe, else 0)");
  cmd->add_option("--out", o->out, "The scores: float32 .npy [queries, train], or [train]")
      ->required();
  cmd->add_option("--tolerance", o->tolerance, "cg: relative residual")->capture_default_str();
  cmd->add_option("--max-iterations", o->max_iterations, "cg: iterations")->capture_default_str();
  cmd->add_option("--lissa-scale", o->lissa_scale,
                  "lissa: must exceed the largest eigenvalue of H + λI");
  cmd->add_option("--lissa-depth", o->lissa_depth, "lissa: recursion depth")->capture_default_str();
  cmd->add_option("--exact-limit", o->exact_limit,
                  "exact: the largest P whose H is formed densely (P² doubles, twice)")
      ->capture_default_str();
  cmd->add_option("--arnoldi-iterations", o->arnoldi_iterations, "arnoldi: products n")
      ->capture_default_str();
  cmd->add_option("--arnoldi-rank", o->arnoldi_rank, "arnoldi: eigenpairs kept p <= n")
      ->capture_default_str();
  cmd->add_flag("--fresh-batches", o->fresh_batches,
                "arnoldi, lissa: each product on the next --batch of --examples, not all of "
                "them (lissa's residual is then that of one batch)");
  cmd->add_option("--trajectory", o->trajectory,
                  "tracin: a run recorded by curv train --record (its snapshots after step 0)");
  cmd->add_option("--projection-dim", o->projection_dim,
                  "trak: k, the projected gradients' dimension")
      ->capture_default_str();
  cmd->add_option("--projection", o->projection, "trak: rademacher, gaussian or sparse")
      ->capture_default_str();
  cmd->add_option("--ensemble", o->ensemble,
                  "trak: more checkpoints (independent runs, or one run's snapshots) averaged "
                  "with --checkpoint, comma-separated")
      ->delimiter(',');
  cmd->add_option("--show", o->show,
                  "Draw the query at --show-query and its K most helpful and K most harmful "
                  "training images to --show-out (a PNG)");
  cmd->add_option("--show-query", o->show_query, "--show: the query's position in --queries")
      ->capture_default_str();
  cmd->add_option("--show-out", o->show_out, "--show: the PNG");
  cmd->add_option("--query-inputs", o->query_inputs,
                  "Queries from this .npy of inputs (the model's layout) instead of --data; "
                  "--queries then indexes its rows (default all)");
  cmd->add_option("--query-labels", o->query_labels,
                  "--query-inputs: their int64 class labels (.npy), for the loss or the margin");
  cmd->add_option("--query-rank", o->query_rank,
                  "Each query's mapped gradient, per weight tensor, truncated to this rank by "
                  "SVD (Kronfluence's low-rank query gradients; 0: exact)")
      ->capture_default_str();
  cmd->add_option("--per-layer", o->per_layer,
                  "Also each layer's part of the scores, float32 .npy [layers, queries, train] "
                  "(summing to --out)");
  return [o, cmd] {
    o->in.resolve_data("influence");
    const Family family = family_of(o->method);
    o->damping_given = cmd->count("--damping") > 0;
    const bool set_operator = cmd->count("--operator") > 0;
    if (family == Family::Inverse || family == Family::Arnoldi) {
      if (!set_operator) o->in.op = "ggn";
      CURV_CHECK(o->in.op == "hessian" || o->in.op == "ggn",
                 "influence: expected --operator hessian or ggn, found '", o->in.op, "'");
    } else {
      CURV_CHECK(!set_operator, "influence: --method ", o->method,
                 " sets its own curvature: expected no --operator, found '", o->in.op, "'");
      if (family == Family::Structured) o->in.op = o->method == "diagonal" ? "diag" : o->method;
    }
    CURV_CHECK(o->in.subset == "all", "influence: expected --subset all, found '", o->in.subset,
               "'");
    CURV_CHECK(o->query_inputs.empty() || !o->self,
               "influence: --query-inputs gives queries: expected no --self, found it");
    CURV_CHECK(o->query_labels.empty() || !o->query_inputs.empty(),
               "influence: --query-labels labels --query-inputs, found no --query-inputs");
    if (!o->query_inputs.empty()) {
      check_readable(o->query_inputs, "--query-inputs", "an .npy file");
      if (!o->query_labels.empty())
        check_readable(o->query_labels, "--query-labels", "an .npy file");
      if (o->queries.empty()) o->queries = "all";
    }
    CURV_CHECK(o->self != !o->queries.empty(),
               o->self ? "influence: expected either --self or --queries, found both"
                       : "influence: expected --queries (an index list) or --self");
    CURV_CHECK(!o->self || o->measurement == "loss",
               "influence: --self scores the training loss on both sides: expected --measurement "
               "loss, found '",
               o->measurement, "'");
    const Measurement m = Measurement::parse(o->measurement);
    CURV_CHECK(m.kind == Measurement::Kind::Loss || m.kind == Measurement::Kind::Margin,
               "influence: expected --measurement loss or margin, found '", o->measurement, "'");
    CURV_CHECK(o->weight_decay >= 0 || cmd->count("--weight-decay") == 0,
               "influence: expected --weight-decay >= 0, found ", o->weight_decay);
    CURV_CHECK(o->gradient_batch >= 1, "influence: expected --gradient-batch >= 1, found ",
               o->gradient_batch);
    CURV_CHECK(o->tolerance > 0, "influence: expected --tolerance > 0, found ", o->tolerance);
    CURV_CHECK(o->max_iterations >= 1, "influence: expected --max-iterations >= 1, found ",
               o->max_iterations);
    CURV_CHECK(o->lissa_depth >= 1, "influence: expected --lissa-depth >= 1, found ",
               o->lissa_depth);
    CURV_CHECK(o->method != "lissa" || o->lissa_scale > 0,
               "influence: --method lissa needs --lissa-scale above the largest eigenvalue of "
               "H + λI (see curv spectrum --top 1)");
    CURV_CHECK(o->arnoldi_rank >= 1 && o->arnoldi_rank <= o->arnoldi_iterations,
               "influence: expected 1 <= --arnoldi-rank <= --arnoldi-iterations = ",
               o->arnoldi_iterations, ", found ", o->arnoldi_rank);
    CURV_CHECK(family == Family::Tracin || o->trajectory.empty(),
               "influence: --trajectory is for --method tracin, found --method ", o->method);
    CURV_CHECK(family != Family::Tracin || !o->trajectory.empty(),
               "influence: --method tracin needs --trajectory DIR (curv train --record DIR)");
    CURV_CHECK(
        family == Family::Trak || (o->ensemble.empty() && cmd->count("--projection-dim") == 0 &&
                                   cmd->count("--projection") == 0),
        "influence: --ensemble, --projection-dim and --projection are for --method trak, "
        "found --method ",
        o->method);
    CURV_CHECK(o->projection_dim >= 1, "influence: expected --projection-dim >= 1, found ",
               o->projection_dim);
    if (family == Family::Trak) parse_projection(o->projection);
    CURV_CHECK(!o->fresh_batches || family == Family::Arnoldi || o->method == "lissa",
               "influence: --fresh-batches is for --method arnoldi and lissa, found --method ",
               o->method);
    check_writable(o->out, "--out");
    CURV_CHECK(o->show >= 0 && o->show_query >= 0,
               "influence: expected --show and --show-query >= 0, found ", o->show, " and ",
               o->show_query);
    CURV_CHECK(o->show == 0 || (!o->self && !o->show_out.empty()),
               o->self ? "influence: --show draws a query's helpful and harmful examples: "
                         "expected --queries, found --self"
                       : "influence: --show needs --show-out FILE.png");
    CURV_CHECK(o->show > 0 || o->show_out.empty(),
               "influence: --show-out is for --show K, found no --show");
    check_writable(o->show_out, "--show-out");
    CURV_CHECK(o->per_layer.empty() || (!o->self && family != Family::Tracin &&
                                        family != Family::Trak && family != Family::Representer),
               "influence: --per-layer splits the scores of exact, cg, lissa, arnoldi, kfac, "
               "ekfac, diagonal, grad-dot and grad-cos over the layers, found ",
               o->self ? "--self" : "--method " + o->method);
    check_writable(o->per_layer, "--per-layer");
    CURV_CHECK(o->query_rank >= 0, "influence: expected --query-rank >= 0, found ", o->query_rank);
    CURV_CHECK(o->query_rank == 0 || (!o->self && family != Family::Tracin &&
                                      family != Family::Trak && family != Family::Representer),
               "influence: --query-rank truncates the mapped query gradients of exact, cg, lissa, "
               "arnoldi, kfac, ekfac, diagonal, grad-dot and grad-cos, found ",
               o->self ? "--self" : "--method " + o->method);
    o->in.validate(family == Family::Inverse || family == Family::Arnoldi ||
                   family == Family::Structured);
    if (cmd->count("--examples") == 0) o->in.examples = o->train;  // H on the scored examples
    return o->in.precision == "float32" ? run<float>(*o) : run<double>(*o);
  };
}

}  // namespace curv::cli
