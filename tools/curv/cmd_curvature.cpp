// curv curvature: one product with a curvature matrix of a trained model — M v, or (M + λI)⁻¹ v
// — for vectors given as .npy files in the flat parameter order (docs/models.md), written back
// as .npy; or its exact diagonal and trace. Prints a one-line JSON summary.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "checks.hpp"
#include "commands.hpp"
#include "curv/distributed/communicator.hpp"
#include "curv/io/npy.hpp"
#include "curv/linalg/solvers.hpp"
#include "curvature_input.hpp"
#include "progress.hpp"

namespace curv::cli {

namespace {

struct Opts {
  CurvatureInput in;
  std::string product = "mv", vector, out, solver = "auto";
  double tolerance = 1e-8, lissa_scale = 0;
  index_t max_iterations = 500, lissa_depth = 1000;
};

// --product diagonal | trace: the exact diagonal of M (written to --out as float64 [P]) and its
// trace. Operators with a structured diagonal (diag, kfac, ekfac, lowrank, …) give it directly;
// the others (hessian, ggn, ef, fisher) column by column, M e_i for every i: P products, exact,
// meant for models small enough (the progress bar tells the time).
template <class T>
int run_diagonal(const Opts& o) {
  const bool root = distributed::Communicator::world().root();  // the one that writes
  Progress progress(root);
  progress.note("curvature: building " + o.in.op + " on examples " + o.in.examples);
  CurvatureSetup<T> s = load_curvature<T>(o.in);
  ProgressOperator op(*s.op, progress);
  const auto t0 = std::chrono::steady_clock::now();
  const index_t n = op.size();
  std::vector<double> d;
  nlohmann::json info = s.describe();
  if (op.has_diagonal()) {
    d = op.diagonal();
    info["diagonal"] = "structured";
  } else {
    constexpr index_t kColumns = 32;  // unit vectors per batched product
    d.assign(std::size_t(n), 0.0);
    op.stage("columns", long(n));
    std::vector<double> E, ME;
    for (index_t c0 = 0; c0 < n; c0 += kColumns) {
      const index_t k = std::min(kColumns, n - c0);
      E.assign(std::size_t(k * n), 0.0), ME.assign(std::size_t(k * n), 0.0);
      for (index_t j = 0; j < k; ++j) E[std::size_t(j * n + c0 + j)] = 1;
      op.mm(E.data(), k, ME.data());
      for (index_t j = 0; j < k; ++j) d[std::size_t(c0 + j)] = ME[std::size_t(j * n + c0 + j)];
    }
    info["diagonal"] = "columns";
  }
  const double lambda = o.in.added_damping();  // the diagonal of M + λI
  for (double& x : d) x += lambda;
  double trace = 0;
  for (double x : d) {
    CURV_CHECK(std::isfinite(x), "the diagonal of ", op.name(), " is not finite (nothing written)");
    trace += x;
  }
  if (!root) return 0;
  if (o.product == "diagonal") write_npy(o.out, d.data(), {std::int64_t(n)});
  info["product"] = o.product, info["trace"] = trace;
  if (!o.out.empty()) info["out"] = o.out;
  info["seconds"] = seconds_since(t0);
  info["memory"] = s.memory();
  progress.clear();
  std::printf("%s\n", info.dump().c_str());
  return 0;
}

template <class T>
int run(const Opts& o) {
  // Everything that can be checked cheaply is checked before the model and data are loaded.
  o.in.validate();
  CURV_CHECK(o.product == "mv" || o.product == "inverse" || o.product == "diagonal" ||
                 o.product == "trace",
             "expected --product mv, inverse, diagonal or trace, found '", o.product, "'");
  if (o.product == "diagonal" || o.product == "trace") {
    CURV_CHECK(o.vector.empty(), "--product ", o.product, " takes no --vector, found '", o.vector,
               "'");
    CURV_CHECK(o.product == "trace" || !o.out.empty(),
               "--product diagonal: expected --out FILE.npy, found none");
    CURV_CHECK(o.product == "diagonal" || o.out.empty(),
               "--product trace prints the trace: expected no --out, found '", o.out, "'");
    check_writable(o.out, "--out");
    return run_diagonal<T>(o);
  }
  CURV_CHECK(!o.vector.empty() && !o.out.empty(), "--product ", o.product,
             ": expected --vector V.npy and --out OUT.npy");
  CURV_CHECK(o.solver == "auto" || o.solver == "cg" || o.solver == "lissa",
             "expected --solver auto, cg or lissa, found '", o.solver, "'");
  check_writable(o.out, "--out");
  const NpyArray V = read_npy(o.vector);
  CURV_CHECK(V.dtype == "<f4" || V.dtype == "<f8", o.vector,
             ": expected a float32 or float64 vector, found dtype ", V.dtype);
  CURV_CHECK(V.shape.size() == 1 || V.shape.size() == 2, o.vector,
             ": expected a vector [P] or vectors [k,P], found ", V.shape.size(), " dimensions");
  const std::vector<double> v = V.to_double();
  for (std::size_t i = 0; i < v.size(); ++i)
    CURV_CHECK(std::isfinite(v[i]), o.vector, ": expected finite entries, found ", v[i],
               " at index ", i);

  const bool root = distributed::Communicator::world().root();  // the one that writes
  Progress progress(root);
  progress.note("curvature: building " + o.in.op + " on examples " + o.in.examples);
  CurvatureSetup<T> s = load_curvature<T>(o.in);
  ProgressOperator op(*s.op, progress);
  const index_t n = op.size(), k = V.shape.size() == 1 ? 1 : V.shape[0];
  CURV_CHECK(index_t(V.shape.back()) == n, o.vector, ": expected ", n, " entries per vector (the ",
             o.in.subset == "all" ? "flat parameter vector" : "subset '" + o.in.subset + "'",
             " of ", s.model->name(), "), found ", V.shape.back());

  const auto t0 = std::chrono::steady_clock::now();
  std::vector<double> result(v.size());
  nlohmann::json info = s.describe();
  const double lambda = o.in.added_damping();
  if (o.product == "mv") {  // (M + λI) v
    op.stage("products", long(k));
    op.mm(v.data(), k, result.data());
    for (std::size_t i = 0; i < result.size(); ++i) result[i] += lambda * v[i];
  } else if (o.solver == "auto") {
    CURV_CHECK(op.has_inverse(), "operator '", op.name(),
               "' has no structured inverse: pass --solver cg (conjugate gradient on M + λI, with "
               "--damping) or "
               "--solver lissa");
    op.stage("solves", long(k));
    op.inverse_mm(v.data(), k, lambda, result.data());
  } else if (o.solver == "cg") {
    linalg::CgOptions c;
    c.damping = lambda, c.tolerance = o.tolerance, c.max_iterations = o.max_iterations;
    index_t iterations = 0;
    double worst = 0;
    op.stage("CG products", 0);
    for (index_t j = 0; j < k; ++j) {
      const auto r = linalg::cg(op, std::span<const double>(v.data() + j * n, std::size_t(n)), c);
      CURV_CHECK(r.converged, "conjugate gradient did not reach relative residual ", o.tolerance,
                 " in ", o.max_iterations, " iterations (reached ", r.relative_residual,
                 "): raise --max-iterations or --damping");
      std::copy(r.x.begin(), r.x.end(), result.begin() + j * n);
      iterations += r.iterations, worst = std::max(worst, r.relative_residual);
    }
    info["cg_iterations"] = iterations, info["cg_relative_residual"] = worst;
  } else {
    CURV_CHECK(o.lissa_scale > 0,
               "LiSSA needs --lissa-scale above the largest eigenvalue of M + λI (see curv "
               "spectrum --top 1)");
    linalg::LissaOptions l;
    l.scale = o.lissa_scale, l.depth = o.lissa_depth, l.damping = lambda;
    op.stage("LiSSA products", long(k * o.lissa_depth));
    for (index_t j = 0; j < k; ++j) {
      const auto r =
          linalg::lissa(op, std::span<const double>(v.data() + j * n, std::size_t(n)), l);
      std::copy(r.x.begin(), r.x.end(), result.begin() + j * n);
      info["lissa_relative_last_term"] = r.relative_last_term;
    }
  }
  for (std::size_t i = 0; i < result.size(); ++i)
    CURV_CHECK(std::isfinite(result[i]), "the ", o.product, " product with ", op.name(),
               " is not finite at entry ", i, " (nothing written): raise --damping");
  if (!root) return 0;
  if (V.dtype == "<f4") {
    const std::vector<float> f(result.begin(), result.end());
    write_npy(o.out, f.data(), V.shape);
  } else {
    write_npy(o.out, result.data(), V.shape);
  }
  info["product"] = o.product, info["vectors"] = k, info["damping"] = o.in.damping,
  info["out"] = o.out;
  info["seconds"] = seconds_since(t0);
  info["memory"] = s.memory();
  progress.clear();
  std::printf("%s\n", info.dump().c_str());
  return 0;
}

}  // namespace

Runner add_curvature(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "curvature",
      "Multiply a vector by a curvature matrix of a checkpoint, or by its damped inverse");
  auto o = std::make_shared<Opts>();
  o->in.add_options(cmd);
  cmd->add_option("--product", o->product,
                  "mv (M v), inverse ((M + λI)⁻¹ v), diagonal (exact diag M to --out) or trace")
      ->capture_default_str();
  cmd->add_option("--vector", o->vector,
                  "mv, inverse: input .npy [P] or [k,P], float32 or float64, flat parameter order");
  cmd->add_option("--out", o->out,
                  "mv, inverse: output .npy, same shape and dtype; diagonal: float64 [P]");
  cmd->add_option("--solver", o->solver,
                  "inverse: auto (the operator's structured inverse), cg or lissa")
      ->capture_default_str();
  cmd->add_option("--tolerance", o->tolerance, "cg: relative residual")->capture_default_str();
  cmd->add_option("--max-iterations", o->max_iterations, "cg: iterations")->capture_default_str();
  cmd->add_option("--lissa-scale", o->lissa_scale,
                  "lissa: must exceed the largest eigenvalue of M + λI");
  cmd->add_option("--lissa-depth", o->lissa_depth, "lissa: recursion depth")->capture_default_str();
  return [o] {
    o->in.resolve_data("curvature");
    return o->in.precision == "float32" ? run<float>(*o) : run<double>(*o);
  };
}

}  // namespace curv::cli
