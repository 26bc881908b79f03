// curv spectrum: extremal eigenvalues (Lanczos, Arnoldi, power iteration), the spectral density
// (stochastic Lanczos quadrature) and the trace (Hutch++) of a curvature matrix of a checkpoint.
// Prints a one-line JSON summary; --out writes the eigenvalues or the density as .npy or .csv.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "checks.hpp"
#include "commands.hpp"
#include "curv/distributed/communicator.hpp"
#include "curv/io/npy.hpp"
#include "curv/linalg/solvers.hpp"
#include "curv/report/plot.hpp"
#include "curvature_input.hpp"
#include "progress.hpp"
#include "spectrum_sweep.hpp"

namespace curv::cli {

namespace {

struct Opts {
  CurvatureInput in;
  index_t top = -1, iterations = 100, probes = 10, grid = 200,
          trace_matvecs = 0;  // top -1: not given
  bool density = false;
  std::string method = "lanczos", which = "magnitude", out, vectors_out;
  double sigma = 0, tolerance = 1e-8;
  SweepFlags sweep;
};

// Unconverged Ritz values are not results: fail with how far the solver got and what to raise.
void require_converged(const std::string& method, const linalg::Eigensolution& e, index_t wanted,
                       const Opts& o) {
  if (e.converged >= wanted) return;
  if (method == "power")
    fail("power iteration converged ", e.converged, " of ", wanted, " eigenpairs in ", e.iterations,
         " products: raise --iterations (now ", o.iterations,
         "; power iteration uses at least 1000 per pair)");
  fail(method, " converged ", e.converged, " of ", wanted, " eigenpairs in ", e.iterations,
       " products (residual <= ", o.tolerance,
       " x the largest |eigenvalue|): raise --iterations (now ", o.iterations,
       ") or loosen --tolerance");
}

// Writes rows of numbers: .npy as a (rows, cols) float64 array, .csv with a header line.
void write_table(const std::string& path, const std::vector<std::string>& header,
                 const std::vector<std::vector<double>>& rows) {
  if (ends_with(path, ".npy")) {
    std::vector<double> flat;
    for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
    write_npy(path, flat.data(), {std::int64_t(rows.size()), std::int64_t(header.size())});
    return;
  }
  CURV_CHECK(ends_with(path, ".csv"), "expected --out ending in .npy or .csv, found '", path, "'");
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp);
    CURV_CHECK(f.good(), "cannot write '", tmp, "'");
    for (std::size_t i = 0; i < header.size(); ++i) f << (i ? "," : "") << header[i];
    f << "\n";
    f.precision(17);
    for (const auto& r : rows) {
      for (std::size_t i = 0; i < r.size(); ++i) f << (i ? "," : "") << r[i];
      f << "\n";
    }
    CURV_CHECK(f.good(), "failed writing '", tmp, "'");
  }
  std::rename(tmp.c_str(), path.c_str());
}

nlohmann::json solution_json(const linalg::Eigensolution& e, double seconds) {
  nlohmann::json j = {{"eigenvalues", e.values},
                      {"residuals", e.residuals},
                      {"products", e.iterations},
                      {"converged", e.converged},
                      {"seconds", seconds}};
  if (e.breakdown) j["breakdown"] = true;
  if (!e.message.empty()) j["message"] = e.message;
  return j;
}

template <class T>
int run(Opts o) {
  o.in.validate();
  CURV_CHECK(o.in.added_damping() == 0,
             "spectrum: expected no --damping (the eigenvalues are M's; M + λI's are λ higher), "
             "found ",
             o.in.damping, "; it applies here only with --operator kfac --kfac-damping factored");
  CURV_CHECK(o.top == -1 || o.top >= 1, "expected --top K >= 1 eigenvalues, found ", o.top);
  CURV_CHECK((o.top > 0) != o.density, "expected exactly one of --top K or --density");
  CURV_CHECK(
      o.method == "lanczos" || o.method == "arnoldi" || o.method == "power" || o.method == "all",
      "expected --method lanczos, arnoldi, power or all, found '", o.method, "'");
  CURV_CHECK(o.which == "magnitude" || o.which == "largest" || o.which == "smallest",
             "expected --which magnitude, largest or smallest, found '", o.which, "'");
  CURV_CHECK(o.tolerance > 0 && o.tolerance < 1, "expected --tolerance in (0, 1), found ",
             o.tolerance);
  CURV_CHECK(o.iterations >= 1 && o.probes >= 1 && o.grid >= 2,
             "expected --iterations, --probes >= 1 and --grid >= 2");
  CURV_CHECK(o.out.empty() || ends_with(o.out, ".npy") || ends_with(o.out, ".csv"),
             "expected --out ending in .npy or .csv, found '", o.out, "'");
  check_writable(o.out, "--out");
  check_writable(o.vectors_out, "--vectors-out");
  CURV_CHECK(o.vectors_out.empty() || (o.top > 0 && ends_with(o.vectors_out, ".npy")),
             "--vectors-out: expected a .npy file with --top K, found '", o.vectors_out, "'");

  // Under mpirun every process runs the same iterations on the summed products; rank 0 writes.
  const bool root = distributed::Communicator::world().root();
  if (!root) o.out.clear(), o.vectors_out.clear(), o.sweep.plot.clear();
  Progress progress(root);
  progress.note("spectrum: building " + o.in.op + " on examples " + o.in.examples);
  CurvatureSetup<T> s = load_curvature<T>(o.in);
  ProgressOperator op(*s.op, progress);
  nlohmann::json info = s.describe();
  using clock = std::chrono::steady_clock;
  auto since = [](clock::time_point t) {
    return std::chrono::duration<double>(clock::now() - t).count();
  };

  if (o.top > 0) {
    linalg::KrylovOptions k;
    k.iterations = std::max(o.iterations, o.top), k.wanted = o.top, k.seed = o.in.seed;
    k.tolerance = o.tolerance;
    k.which = o.which == "magnitude" ? linalg::Which::largest_magnitude
              : o.which == "largest" ? linalg::Which::largest_algebraic
                                     : linalg::Which::smallest_algebraic;
    std::vector<double> reference;
    std::vector<std::vector<double>> vectors;  // the reported eigenvalues' unit eigenvectors
    if (o.method == "lanczos" || o.method == "all") {
      const auto t = clock::now();
      op.stage("lanczos products", long(k.iterations));
      const auto e = linalg::lanczos(op, k);
      require_converged("lanczos", e, o.top, o);
      info["lanczos"] = solution_json(e, since(t));
      reference = e.values, vectors = e.vectors;
    }
    if (o.method == "arnoldi" || o.method == "all") {
      const auto t = clock::now();
      op.stage("arnoldi products", long(k.iterations));
      const auto e = linalg::arnoldi(op, k);
      require_converged("arnoldi", e, o.top, o);
      info["arnoldi"] = solution_json(e, since(t));
      if (reference.empty()) reference = e.values, vectors = e.vectors;
    }
    if (o.method == "power" || o.method == "all") {
      CURV_CHECK(
          o.which == "magnitude",
          "power iteration finds the largest-magnitude eigenvalues only: use --which magnitude");
      linalg::PowerIterationOptions p;
      p.wanted = o.top, p.seed = o.in.seed,
      p.max_iterations = std::max<index_t>(o.iterations, 1000);
      const auto t = clock::now();
      op.stage("power iteration products", 0);
      const auto e = linalg::power_iteration(op, p);
      require_converged("power", e, o.top, o);
      info["power"] = solution_json(e, since(t));
      if (!reference.empty() && o.method == "all") {
        // Agreement between the two independent methods, eigenvalue by eigenvalue.
        double worst = 0;
        for (std::size_t i = 0; i < std::min(e.values.size(), reference.size()); ++i)
          worst = std::max(worst, std::abs(e.values[i] - reference[i]) / std::abs(reference[i]));
        info["lanczos_vs_power_relative_difference"] = worst;
      }
      if (reference.empty()) reference = e.values, vectors = e.vectors;
    }
    info["eigenvalues"] = reference;
    if (!o.vectors_out.empty()) {  // [K, P] float64, row k the eigenvector of eigenvalue k
      std::vector<double> flat;
      for (const auto& v : vectors) flat.insert(flat.end(), v.begin(), v.end());
      write_npy(o.vectors_out, flat.data(),
                {std::int64_t(vectors.size()), std::int64_t(op.size())});
      info["vectors_out"] = o.vectors_out;
    }
    if (!o.out.empty()) {
      std::vector<std::vector<double>> rows;
      for (std::size_t i = 0; i < reference.size(); ++i)
        rows.push_back({double(i + 1), reference[i]});
      write_table(o.out, {"rank", "eigenvalue"}, rows);
    }
  } else {
    linalg::SlqOptions q;
    q.probes = o.probes, q.steps = o.iterations, q.seed = o.in.seed;
    const auto t = clock::now();
    op.stage("SLQ products", long(o.probes * o.iterations));
    const auto quad = linalg::slq(op, q);
    double lo = INFINITY, hi = -INFINITY;
    for (const auto& nodes : quad.nodes)
      for (double x : nodes) lo = std::min(lo, x), hi = std::max(hi, x);
    // Default broadening: 1% of the spectrum's width (Ghorbani et al. use a small fixed σ).
    const double sigma = o.sigma > 0 ? o.sigma : std::max(1e-12, 0.01 * (hi - lo));
    std::vector<double> grid(static_cast<std::size_t>(o.grid));
    for (index_t i = 0; i < o.grid; ++i)
      grid[i] = lo - 3 * sigma + (hi - lo + 6 * sigma) * double(i) / double(o.grid - 1);
    const auto density = linalg::slq_density(quad, grid, sigma);
    const auto trace = linalg::slq_moment(quad, 1), second = linalg::slq_moment(quad, 2);
    info["density"] = {{"probes", o.probes},
                       {"steps", o.iterations},
                       {"sigma", sigma},
                       {"min_node", lo},
                       {"max_node", hi},
                       {"trace", trace.value},
                       {"trace_standard_error", trace.standard_error},
                       {"trace_of_square", second.value},
                       {"seconds", since(t)}};
    if (!o.out.empty()) {
      std::vector<std::vector<double>> rows;
      for (std::size_t i = 0; i < grid.size(); ++i) rows.push_back({grid[i], density[i]});
      write_table(o.out, {"eigenvalue", "density"}, rows);
    }
    if (!o.sweep.plot.empty()) {
      // On a log axis, as densities of curvature spectra are drawn (a bulk near zero many decades
      // above the outliers); the broadened tails' underflow is floored 12 decades down.
      double peak = 0;
      for (double d : density) peak = std::max(peak, d);
      Series s{std::to_string(o.probes) + " probes, " + std::to_string(o.iterations) +
                   " Lanczos steps each",
               grid,
               {}};
      for (double d : density) s.y.push_back(std::max(d, 1e-12 * peak));
      plot_lines(o.sweep.plot,
                 "spectral density of the " + o.in.op + " (SLQ), examples " + o.in.examples,
                 "eigenvalue", "density", {s}, true);
      info["plot"] = o.sweep.plot;
    }
  }
  if (o.trace_matvecs > 0) {
    const auto t = clock::now();
    op.stage("Hutch++ products", long(o.trace_matvecs));
    const auto e = linalg::hutchpp_trace(op, o.trace_matvecs, o.in.seed);
    info["hutchpp_trace"] = {{"value", e.value},
                             {"standard_error", e.standard_error},
                             {"matvecs", o.trace_matvecs},
                             {"seconds", since(t)}};
  }
  if (!o.out.empty()) info["out"] = o.out;
  info["memory"] = s.memory();
  progress.clear();
  if (root) std::printf("%s\n", info.dump().c_str());
  return 0;
}

}  // namespace

Runner add_spectrum(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "spectrum",
      "Top eigenvalues, spectral density and trace of a curvature matrix of a checkpoint");
  auto o = std::make_shared<Opts>();
  o->in.add_options(cmd);
  cmd->add_option("--top", o->top, "Eigenvalues wanted (largest magnitude unless --which)");
  cmd->add_flag("--density", o->density, "Spectral density by stochastic Lanczos quadrature");
  cmd->add_option("--method", o->method,
                  "--top: lanczos, arnoldi, power or all (all compares them)")
      ->capture_default_str();
  cmd->add_option("--which", o->which, "--top: magnitude, largest or smallest")
      ->capture_default_str();
  cmd->add_option("--iterations", o->iterations, "Krylov steps (per probe for --density)")
      ->capture_default_str();
  cmd->add_option("--tolerance", o->tolerance,
                  "--top with lanczos/arnoldi: a pair is converged when its residual is at most "
                  "this times the largest |eigenvalue|; fewer than K converged is an error")
      ->capture_default_str();
  cmd->add_option("--probes", o->probes, "--density: random probe vectors")->capture_default_str();
  cmd->add_option("--sigma", o->sigma,
                  "--density: Gaussian broadening (default 1% of the spectrum's width)");
  cmd->add_option("--grid", o->grid, "--density: points of the density written")
      ->capture_default_str();
  cmd->add_option("--trace", o->trace_matvecs,
                  "Also estimate the trace with Hutch++ using this many products");
  cmd->add_option("--out", o->out, "Eigenvalues or density as .npy or .csv");
  cmd->add_option("--vectors-out", o->vectors_out,
                  "--top: the eigenvectors as .npy [K, P] float64, flat parameter order");
  o->sweep.add(cmd);
  return [o, cmd] {
    o->in.resolve_data("spectrum");
    if (!o->sweep.sizes.empty()) {
      CURV_CHECK(!distributed::Communicator::world().distributed(),
                 "--batch-sweep: expected one process (its draws are not sharded), found ",
                 distributed::Communicator::world().size(), " MPI processes");
      CURV_CHECK(o->top == -1 && !o->density && o->out.empty() && o->vectors_out.empty() &&
                     o->trace_matvecs == 0,
                 "--batch-sweep finds the largest eigenvalue of each batch: expected none of "
                 "--top, --density, --out, --vectors-out, --trace with it");
      // The pool batches are drawn from: the whole training split unless --examples says.
      if (cmd->count("--examples") == 0) o->in.examples = "all";
      // Lanczos's top Ritz value converges long before the default's 1e-8 residual needs.
      const double tolerance = cmd->count("--tolerance") ? o->tolerance : 1e-4;
      const index_t iterations = cmd->count("--iterations") ? o->iterations : 30;
      return o->in.precision == "float32"
                 ? run_batch_sweep<float>(o->in, o->sweep, iterations, tolerance)
                 : run_batch_sweep<double>(o->in, o->sweep, iterations, tolerance);
    }
    for (const std::string& flag : SweepFlags::own_flags())
      CURV_CHECK(cmd->count(flag) == 0 || (flag == "--plot" && o->density), flag,
                 " belongs to --batch-sweep", flag == "--plot" ? " or --density" : "",
                 ": expected it, found none");
    CURV_CHECK(
        o->sweep.plot.empty() || (o->sweep.plot.size() > 4 && ends_with(o->sweep.plot, ".png")),
        "--plot: expected a .png file, found '", o->sweep.plot, "'");
    check_writable(o->sweep.plot, "--plot");
    return o->in.precision == "float32" ? run<float>(*o) : run<double>(*o);
  };
}

}  // namespace curv::cli
