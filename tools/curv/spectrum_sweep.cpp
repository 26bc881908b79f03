#include "spectrum_sweep.hpp"

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "checks.hpp"
#include "curv/data/index_list.hpp"
#include "curv/nn/checkpoint.hpp"
#include "curv/report/plot.hpp"
#include "curv/spectra/batch_sweep.hpp"
#include "progress.hpp"

namespace curv::cli {

void SweepFlags::add(CLI::App* cmd) {
  cmd->add_option("--batch-sweep", sizes,
                  "Batch sizes, comma-separated, 'full' for all the examples: the largest "
                  "eigenvalue of each size's batch matrix, averaged over --batches draws");
  cmd->add_option("--batches", batches, "--batch-sweep: independent batches per size")
      ->capture_default_str();
  cmd->add_option("--plot", plot, "--batch-sweep: λ_max against 1/B − 1/N with both laws (PNG)");
  cmd->add_option("--preconditioner", preconditioner,
                  "--batch-sweep: none, or adam for Adam's preconditioned matrix D^-1/2 M D^-1/2 "
                  "with D = sqrt(v_B) + eps at each batch size (docs/methods/spectra.md)")
      ->capture_default_str();
  cmd->add_option("--momentum", momentum,
                  "--batch-sweep: the momentum β (sgd) or β1 (adam) of the stable-rate rule")
      ->capture_default_str();
  cmd->add_option("--adam-eps", adam_eps, "--batch-sweep --preconditioner adam: Adam's epsilon")
      ->capture_default_str();
}

std::vector<std::string> SweepFlags::own_flags() {
  return {"--plot", "--batches", "--preconditioner", "--momentum", "--adam-eps"};
}

namespace {

// "16,32,full" → sizes, with full = N.
std::vector<index_t> parse_sizes(const std::string& text, index_t N) {
  std::vector<index_t> sizes;
  std::size_t at = 0;
  while (at <= text.size()) {
    const std::size_t end = std::min(text.find(',', at), text.size());
    const std::string item = text.substr(at, end - at);
    index_t B = 0;
    if (item == "full") {
      B = N;
    } else {
      const auto r = std::from_chars(item.data(), item.data() + item.size(), B);
      CURV_CHECK(r.ec == std::errc() && r.ptr == item.data() + item.size() && B >= 1,
                 "--batch-sweep: expected positive batch sizes or 'full', found '", item, "'");
    }
    CURV_CHECK(B <= N, "--batch-sweep: batch size ", B, " is larger than the ", N,
               " examples (use 'full' for all of them)");
    sizes.push_back(B);
    at = end + 1;
  }
  return sizes;
}

nlohmann::json law_json(const spectra::LawFit& f, const char* slope_name) {
  return {{"lambda_full", f.lambda_full},
          {slope_name, f.slope},
          {"r2", f.r2},
          {"residuals", f.residuals}};
}

// The largest learning rates the mean λ of a size keeps stable on its batch's quadratic, one
// step θ ← θ − lr·P⁻¹g with P the identity (sgd) or Adam's D: plain gradient descent 2/λ;
// heavy-ball momentum β (v ← βv + g, θ ← θ − lr·v) 2(1 + β)/λ; Adam's EMA momentum
// (m ← β₁m + (1 − β₁)g) is heavy ball with rate lr·(1 − β₁), so 2(1 + β₁)/((1 − β₁)λ).
nlohmann::json stable_rates(double lambda, double beta, bool adam) {
  if (!(lambda > 0)) return nullptr;  // no positive curvature: no bound
  nlohmann::json r = {{"plain", 2 / lambda}};
  r[adam ? "adam" : "heavy_ball"] =
      adam ? 2 * (1 + beta) / ((1 - beta) * lambda) : 2 * (1 + beta) / lambda;
  return r;
}

// Least-squares slope of log(2/λ̄) against log B over the sizes below N: 1 is linear scaling,
// ½ square-root scaling.
double rate_exponent(const std::vector<spectra::SweepPoint>& sweep, index_t N) {
  std::vector<double> x, y;
  for (const auto& p : sweep)
    if (p.batch < N && p.mean > 0)
      x.push_back(std::log(double(p.batch))), y.push_back(-std::log(p.mean));
  const auto line = spectra::least_squares_line(x, y);
  return line ? line->second : std::nan("");
}

}  // namespace

template <class T>
int run_batch_sweep(const CurvatureInput& in, const SweepFlags& flags, index_t iterations,
                    double tolerance) {
  in.validate();
  CURV_CHECK(in.added_damping() == 0, "--batch-sweep: expected no --damping (the eigenvalues are ",
             "the batch matrices' own), found ", in.damping);
  CURV_CHECK(flags.batches >= 1, "--batches: expected at least 1 batch per size, found ",
             flags.batches);
  CURV_CHECK(!flags.sizes.empty(), "--batch-sweep: expected batch sizes, found none");
  CURV_CHECK(flags.preconditioner == "none" || flags.preconditioner == "adam",
             "--preconditioner: expected none or adam, found '", flags.preconditioner, "'");
  CURV_CHECK(flags.momentum >= 0 && flags.momentum < 1,
             "--momentum: expected a value in [0, 1), found ", flags.momentum);
  CURV_CHECK(flags.adam_eps > 0, "--adam-eps: expected a value > 0, found ", flags.adam_eps);
  const bool adam = flags.preconditioner == "adam";
  CURV_CHECK(!adam || in.subset == "all", "--preconditioner adam: expected --subset all (Adam ",
             "scales every parameter), found '", in.subset, "'");
  CURV_CHECK(flags.plot.empty() || (flags.plot.size() > 4 && ends_with(flags.plot, ".png")),
             "--plot: expected a .png file, found '", flags.plot, "'");
  check_writable(flags.plot, "--plot");
  const auto t0 = std::chrono::steady_clock::now();
  const auto model = load_checkpoint<T>(in.checkpoint, in.model, in.config);
  const auto task = make_task<T>(in.data, model->loss(), in.task);
  task->check_model(*model);
  const IndexList pool = parse_index_list(in.examples, *task);
  const index_t N = pool.size();
  spectra::SweepOptions o;
  o.batch_sizes = parse_sizes(flags.sizes, N);
  o.batches = flags.batches, o.op = in.spec(), o.iterations = iterations;
  o.tolerance = tolerance, o.seed = in.seed, o.chunk = in.batch;
  o.adam_preconditioned = adam, o.adam_eps = flags.adam_eps;
  Progress progress;
  progress.note(std::string("spectrum: λ_max of the ") + (adam ? "Adam-preconditioned " : "") +
                in.op + " on batches of " + flags.sizes + " examples (pool " + pool.spec +
                ", N = " + std::to_string(N) + ")");
  o.on_draw = [&](index_t done, index_t total) { progress.count(done, total, "batch draws"); };
  const auto sweep = spectra::batch_sweep(*model, task->split(pool.split), pool.indices, o);
  progress.clear();
  std::printf("%8s %6s %14s %12s %14s %14s %12s\n", "batch", "draws", "lambda_max", "std.err",
              "min", "max", "unconverged");
  nlohmann::json rows = nlohmann::json::array();
  index_t unconverged = 0;
  for (const auto& p : sweep) {
    double lo = p.lambda_max[0], hi = p.lambda_max[0];
    for (double v : p.lambda_max) lo = std::min(lo, v), hi = std::max(hi, v);
    std::printf("%8lld %6zu %14.6g %12.4g %14.6g %14.6g %12lld\n", static_cast<long long>(p.batch),
                p.lambda_max.size(), p.mean, p.standard_error, lo, hi,
                static_cast<long long>(p.unconverged));
    rows.push_back({{"batch", p.batch},
                    {"lambda_max_mean", p.mean},
                    {"lambda_max_se", p.standard_error},
                    {"draws", p.lambda_max.size()},
                    {"values", p.lambda_max},
                    {"unconverged", p.unconverged},
                    {"products", p.products},
                    {"max_stable_lr", stable_rates(p.mean, flags.momentum, adam)}});
    unconverged += p.unconverged;
  }
  nlohmann::json info = {{"model", model->name()},
                         {"checkpoint", in.checkpoint},
                         {"data", in.data},
                         {"precision", in.precision},
                         {"seed", in.seed},
                         {"operator", in.op},
                         {"preconditioner", flags.preconditioner},
                         {"momentum", flags.momentum},
                         {"examples", pool.spec},
                         {"count", N},
                         {"batches", o.batches},
                         {"iterations", iterations},
                         {"tolerance", tolerance},
                         {"sweep", rows},
                         {"unconverged", unconverged}};
  if (adam) info["adam_eps"] = flags.adam_eps;
  const double exponent = rate_exponent(sweep, N);
  if (std::isfinite(exponent)) info["lr_exponent"] = exponent;
  for (const auto& p : sweep)
    if (p.batch == N) info["lambda_full_measured"] = p.mean;
  bool sizes_differ = false;
  for (const auto& p : sweep) sizes_differ = sizes_differ || p.batch != sweep[0].batch;
  if (sizes_differ) {
    const auto linear = spectra::fit_linear_law(sweep, N);
    info["fit"] = law_json(linear, "c");
    bool positive = true;
    for (const auto& p : sweep) positive = positive && p.mean > 0;
    spectra::LawFit spiked;
    if (positive) {
      spiked = spectra::fit_spiked_law(sweep, N);
      info["spiked_fit"] = law_json(spiked, "v");
    }
    if (!flags.plot.empty()) {
      const auto x = spectra::batch_noise(sweep, N);
      Series means{"mean over draws", x, {}, true}, lin{"linear: lambda_full + c x", {}, {}},
          spike{"spiked: lambda + v x / lambda, or 2 sqrt(v x)", {}, {}};
      for (const auto& p : sweep) means.y.push_back(p.mean);
      const double xmax = *std::max_element(x.begin(), x.end());
      for (int i = 0; i <= 200; ++i) {
        const double xi = xmax * double(i) / 200;
        lin.x.push_back(xi), lin.y.push_back(linear.lambda_full + linear.slope * xi);
        if (positive)
          spike.x.push_back(xi),
              spike.y.push_back(spectra::spiked_law(spiked.lambda_full, spiked.slope, xi));
      }
      std::vector<Series> series{means, lin};
      if (positive) series.push_back(spike);
      plot_lines(flags.plot, "largest eigenvalue of the batch " + in.op + ", " + model->name(),
                 "1/B - 1/N", "lambda_max", series, false, true);
      info["plot"] = flags.plot;
    }
  }
  info["seconds"] = seconds_since(t0);
  std::printf("%s\n", info.dump().c_str());
  return 0;
}

template int run_batch_sweep<float>(const CurvatureInput&, const SweepFlags&, index_t, double);
template int run_batch_sweep<double>(const CurvatureInput&, const SweepFlags&, index_t, double);

}  // namespace curv::cli
