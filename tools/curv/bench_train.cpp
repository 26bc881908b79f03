// curv bench --train: one training step (forward, backward, optimizer) per model at the sizes
// PyTorch is compared at (bench/torch_reference.py runs the same architectures), and for the
// GEMM-bound models the time of the step's GEMMs alone, called directly through cblas: the floor
// a step cannot beat.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>

#include "bench_util.hpp"
#include "curv/kernels/gemm.hpp"
#include "curv/nn/objective.hpp"
#include "curv/optim/optimizer.hpp"

namespace curv::cli {
namespace {

// The GEMMs of a training step of an MLP-shaped model with the given widths (forward x·Wᵀ, and
// backward ȳᵀx and ȳ·W except into the data).
double gemm_floor(const std::vector<index_t>& widths, index_t batch, int rounds) {
  std::vector<Tensor<float>> acts, dacts, ws, grads;
  for (std::size_t l = 0; l < widths.size(); ++l)
    acts.emplace_back(Shape{batch, widths[l]}), dacts.emplace_back(Shape{batch, widths[l]});
  for (std::size_t l = 1; l < widths.size(); ++l)
    ws.emplace_back(Shape{widths[l], widths[l - 1]}),
        grads.emplace_back(Shape{widths[l], widths[l - 1]});
  return side_by_side({[&] {
                        for (std::size_t l = 1; l < widths.size(); ++l)
                          gemm(Trans::No, Trans::Yes, batch, widths[l], widths[l - 1], 1.f,
                               acts[l - 1].data(), ws[l - 1].data(), 0.f, acts[l].data());
                        for (std::size_t l = widths.size() - 1; l >= 1; --l) {
                          gemm(Trans::Yes, Trans::No, widths[l], widths[l - 1], batch, 1.f,
                               dacts[l].data(), acts[l - 1].data(), 0.f, grads[l - 1].data());
                          if (l > 1)
                            gemm(Trans::No, Trans::No, batch, widths[l - 1], widths[l], 1.f,
                                 dacts[l].data(), ws[l - 1].data(), 0.f, dacts[l - 1].data());
                        }
                      }},
                      rounds)[0];
}

struct StepBench {
  std::string model, config;
  index_t batch;
  bool adam;
  std::vector<index_t> widths;  // MLP-shaped models: their GEMM floor
};

}  // namespace

void bench_training(int rounds) {
  const std::vector<StepBench> runs = {
      {"mlp", "{}", 128, false, {784, 256, 256, 10}},
      {"lenet5", "{}", 128, false, {}},
      {"autoencoder", "{}", 128, false, {784, 1000, 500, 250, 30, 250, 500, 1000, 784}},
      {"transformer", "{}", 32, true, {}},
  };
  std::printf(
      "\nTraining steps (forward, backward, optimizer), float32, median of %d rounds; "
      "compare with bench/torch_reference.py\n",
      rounds);
  std::printf("  %-12s %6s %10s %9s %14s %12s %8s\n", "model", "batch", "step [ms]", "steps/s",
              "samples/s", "GEMMs [ms]", "ratio");
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
    const double t = side_by_side({[&] {
                                    obj.set_batch(x, tg);
                                    obj.gradient(model->params().grad());
                                    opt->step(model->params());
                                  }},
                                  rounds)[0];
    const double per = tokens ? double(rows) : double(r.batch);
    std::printf("  %-12s %6ld %10.3f %9.1f %12.1fk%s", r.model.c_str(), long(r.batch), t * 1e3,
                1 / t, per / t / 1e3, tokens ? "t" : " ");
    if (!r.widths.empty()) {
      const double floor = gemm_floor(r.widths, r.batch, rounds);
      std::printf(" %12.3f %8.3f\n", floor * 1e3, t / floor);
    } else {
      std::printf(" %12s %8s\n", "", "");
    }
  }
  std::printf(
      "  (k = thousand samples/s, kt = thousand tokens/s; ratio = step / its GEMMs alone)\n");
}

}  // namespace curv::cli
