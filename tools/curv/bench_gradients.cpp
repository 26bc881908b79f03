// curv bench --gradients (and the end of --curvature): streamed per-example gradients of
// LeNet-5 on Fashion-MNIST, projected to k dimensions in float32, against their floor — the
// per-example gradients alone, plus the N×P×k projection GEMM at the sgemm rate measured here on
// the same shapes, plus generating the random matrix — and the count sketch against that floor.
#include <chrono>
#include <cstdio>

#include "bench_util.hpp"
#include "curv/curvature/gradients.hpp"
#include "curv/data/task.hpp"
#include "curv/kernels/gemm.hpp"

namespace curv::cli {

void bench_gradients(index_t examples, index_t k, int rounds) {
  auto model = make_model<float>("lenet5");
  Rng rng(1);
  model->init(rng);
  auto task = make_task<float>("fashion-mnist", model->loss(), {});
  const Split<float>& split = task->split("train");
  CURV_CHECK(examples >= 1 && examples <= split.size(), "bench: expected 1..", split.size(),
             " examples for the gradient benchmark, found ", examples);
  std::vector<index_t> idx(static_cast<std::size_t>(examples));
  for (index_t i = 0; i < examples; ++i) idx[std::size_t(i)] = i;
  const index_t P = model->params().size(), batch = 256;

  auto stream = [&](index_t project, ProjectionKind kind) {
    return [&, project, kind] {
      GradientOptions o;
      o.batch = batch, o.project = project, o.projection = kind, o.seed = 7;
      GradientStream<float> s(*model, split, idx, o);
      s.run([](const GradientBlock<float>&) {});
    };
  };
  // The projection GEMM of one batch, (batch, P)·(P, k), repeated `reps` times: the sgemm rate on
  // exactly the shapes the stream multiplies.
  const int reps = 10;
  std::vector<float> G(std::size_t(batch * P)), R(std::size_t(P * k)), out(std::size_t(batch * k));
  for (auto& x : G) x = float(rng.normal());
  for (auto& x : R) x = float(rng.normal());
  auto gemm_job = [&] {
    for (int r = 0; r < reps; ++r)
      gemm(Trans::No, Trans::No, batch, k, P, 1.0f, G.data(), R.data(), 0.0f, out.data());
  };
  auto generate = [&] { RandomProjection<float> g(ProjectionKind::Gaussian, P, k, 7); };

  std::printf(
      "\nPer-example gradients: lenet5, %ld Fashion-MNIST examples, batch %ld, float32, "
      "projected to k = %ld (medians of %d interleaved rounds)\n",
      long(examples), long(batch), long(k), rounds);
  const auto t =
      side_by_side({stream(0, ProjectionKind::Gaussian), gemm_job, generate,
                    stream(k, ProjectionKind::Gaussian), stream(k, ProjectionKind::Sparse)},
                   rounds);
  const double rate = 2.0 * double(batch) * double(P) * double(k) * reps / t[1];
  const double gemm_floor = 2.0 * double(examples) * double(P) * double(k) / rate;
  const double floor = t[0] + gemm_floor + t[2];
  std::printf("  per-example gradients alone      %8.2f s\n", t[0]);
  std::printf("  projection GEMM at %6.1f GFLOP/s %8.2f s  (N·P·k = %ld·%ld·%ld)\n", rate * 1e-9,
              gemm_floor, long(examples), long(P), long(k));
  std::printf("  generating R (gaussian, P×k)     %8.2f s\n", t[2]);
  std::printf("  floor (sum of the three)         %8.2f s\n", floor);
  std::printf("  gaussian projection, streamed    %8.2f s   %.2f× the floor (target <= 1.3)\n",
              t[3], t[3] / floor);
  std::printf("  sparse count sketch, streamed    %8.2f s   %.2f× the dense floor (target < 1)\n",
              t[4], t[4] / floor);
}

}  // namespace curv::cli
