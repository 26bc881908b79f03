// curv bench --train: one training step (forward, backward, optimizer) per model at the sizes
// PyTorch is compared at (bench/torch_reference.py runs the same architectures), beside its
// floor: the step's own GEMMs (recorded from one step, replayed alone through cblas) and the
// optimizer's sweep over the parameters at the machine's measured stream bandwidth.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>

#include "bench_util.hpp"
#include "curv/kernels/gemm.hpp"
#include "curv/kernels/parallel.hpp"
#include "curv/nn/objective.hpp"
#include "curv/optim/optimizer.hpp"

namespace curv::cli {
namespace {

// Memory bandwidth, bytes/s, of a streaming sweep y = x + s·z over `bytes` in three buffers (the
// optimizer's working set: DRAM's bandwidth when it exceeds the caches, theirs when it fits),
// split over the threads as the optimizer's sweep is; the median of `rounds`.
double stream_bandwidth(double bytes, int rounds) {
  const auto n = std::max(index_t(1) << 14, index_t(bytes / (3 * sizeof(float))));
  std::vector<float> x(std::size_t(n), 1.0f), y(std::size_t(n), 0.0f), z(std::size_t(n), 2.0f);
  const double t = side_by_side({[&] {
                                  parallel_for(n, index_t(1) << 14, [&](index_t b, index_t e) {
                                    for (index_t i = b; i < e; ++i) y[i] = x[i] + 0.5f * z[i];
                                  });
                                }},
                                rounds)[0];
  return 3.0 * sizeof(float) * double(n) / t;
}

struct StepBench {
  std::string model, config;
  index_t batch;
  bool adam;
};

}  // namespace

void bench_training(int rounds) {
  const std::vector<StepBench> runs = {
      {"mlp", "{}", 128, false},
      {"lenet5", "{}", 128, false},
      {"autoencoder", "{}", 128, false},
      {"transformer", "{}", 32, true},
  };
  std::printf(
      "\nTraining steps (forward, backward, optimizer), float32, median of %d rounds; "
      "compare with bench/torch_reference.py\n",
      rounds);
  std::printf(
      "  floor = the step's own GEMMs replayed alone through cblas + the optimizer's sweep at the "
      "stream bandwidth measured on a working set of its size (GB/s)\n");
  std::printf("  %-12s %6s %10s %9s %14s %10s %10s %6s %10s %8s\n", "model", "batch", "step [ms]",
              "steps/s", "samples/s", "GEMMs [ms]", "sweep [ms]", "GB/s", "floor [ms]", "ratio");
  for (const StepBench& r : runs) {
    auto model = make_model<float>(r.model, r.config);
    Rng rng(1);
    model->init(rng);
    auto loss = make_loss<float>(model->loss());
    Objective<float> obj(*model, *loss);
    Shape xs{r.batch};
    for (int i = 0; i < model->input_shape().rank(); ++i) xs.push_back(model->input_shape()[i]);
    Tensor<float> x(xs);
    const bool tokens = r.model == "transformer";
    for (index_t i = 0; i < x.numel(); ++i)
      x[i] = tokens ? float(rng.below(std::uint64_t(model->outputs()))) : float(rng.uniform());
    Tape<float> probe;
    const index_t rows = probe.shape(model->forward(probe, probe.input(x))).rows();
    std::vector<std::int64_t> labels(static_cast<std::size_t>(rows));
    for (auto& l : labels) l = std::int64_t(rng.below(std::uint64_t(model->outputs())));
    const Targets<float> tg{labels.data(),
                            View<const float>(x.data(), Shape{r.batch, xs.numel() / r.batch})};
    auto opt =
        r.adam ? make_adam<float>(1e-3, 0.9, 0.999, 1e-8, 0.01, true) : make_sgd<float>(0.01, 0.9);
    auto step = [&] {
      obj.set_batch(x, tg);
      obj.gradient(model->params().grad());
      opt->step(model->params());
    };
    step();  // buffers allocated, so the recorded step is a steady one
    GemmReplay gemms(record_gemms(step));
    // Rounds alternate the step and its GEMMs, and the ratio is the median of each round's own,
    // so a slow stretch of this shared machine moves both sides alike.
    const auto times = side_by_side_rounds({step, [&] { gemms(); }}, rounds);
    const double t = median(times[0]), g = median(times[1]);
    // The optimizer reads and writes each parameter and its moments and reads its gradient:
    // momentum SGD 5 floats per parameter (θ, v read and written, g read), Adam 7 (θ, m, v, g).
    const double bytes = double(r.adam ? 7 : 5) * sizeof(float) * double(model->params().size());
    const double bandwidth = stream_bandwidth(bytes, rounds), sweep = bytes / bandwidth;
    std::vector<double> ratios;
    for (std::size_t k = 0; k < times[0].size(); ++k)
      ratios.push_back(times[0][k] / (times[1][k] + sweep));
    const double per = tokens ? double(rows) : double(r.batch);
    std::printf("  %-12s %6ld %10.3f %9.1f %12.1fk%s %10.3f %10.3f %6.1f %10.3f %8.3f\n",
                r.model.c_str(), long(r.batch), t * 1e3, 1 / t, per / t / 1e3, tokens ? "t" : " ",
                g * 1e3, sweep * 1e3, bandwidth / 1e9, (g + sweep) * 1e3, median(ratios));
  }
  std::printf(
      "  (k = thousand samples/s, kt = thousand tokens/s; ratio = step / floor, the median of "
      "the rounds' own)\n");
}

}  // namespace curv::cli
