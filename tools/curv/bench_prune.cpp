// curv bench --prune: static M-FAC OBS on LeNet-5 — m per-example gradients over the prunable
// weights, F⁻¹'s diagonal, every score and one WoodFisher update — against its floor: the
// per-example gradients alone plus the m²·P multiply-adds of the Gram form at the sgemm rate
// measured here on the same shapes.
#include <cstdio>

#include "bench_util.hpp"
#include "curv/curvature/gradients.hpp"
#include "curv/data/task.hpp"
#include "curv/kernels/gemm.hpp"
#include "curv/prune/obs.hpp"

namespace curv::cli {

void bench_prune(index_t m, int rounds) {
  auto model = make_model<float>("lenet5");
  Rng rng(1);
  model->init(rng);
  auto task = make_task<float>("fashion-mnist", model->loss(), {});
  const Split<float>& split = task->split("train");
  std::vector<index_t> idx(static_cast<std::size_t>(m));
  for (index_t i = 0; i < m; ++i) idx[std::size_t(i)] = i;
  std::string names;
  for (const ParamInfo& p : model->params().info())
    if (p.shape.rank() >= 2) names += (names.empty() ? "" : ",") + p.name;
  GradientOptions g;
  g.subset = names, g.batch = 256;
  const index_t d = ParamSubset::parse(names, model->params().info()).size();

  // The floor's part: the per-example gradients, computed and dropped.
  auto gradients = [&] {
    GradientStream<float> s(*model, split, idx, g);
    s.run([](const GradientBlock<float>&) {});
  };
  // The method: the same gradients kept as the float64 (m, d) matrix F is built from.
  std::vector<double> G;
  auto obs = [&] {
    GradientStream<float> s(*model, split, idx, g);
    G.clear();
    G.reserve(std::size_t(m * d));
    s.run([&](const GradientBlock<float>& b) {
      G.insert(G.end(), b.data, b.data + b.rows * b.columns);
    });
    std::vector<double> w(static_cast<std::size_t>(d));
    for (index_t i = 0; i < d; ++i) w[std::size_t(i)] = double(rng.normal());
    auto F = mfac_fisher_inverse(std::move(G), m, d, 1e-4);
    const std::vector<double> scores = obs_scores(w, *F);
    const std::vector<std::uint8_t> all(static_cast<std::size_t>(d), 1);
    woodfisher_update(w, lowest_scores(scores, 1, all), *F);
  };
  // The Gram form's multiply-adds, m²·d, as one sgemm (m, d)·(d, m).
  std::vector<float> A(static_cast<std::size_t>(m * d)), C(static_cast<std::size_t>(m * m));
  for (auto& x : A) x = float(rng.normal());
  auto gemm_job = [&] {
    gemm(Trans::No, Trans::Yes, m, m, d, 1.0f, A.data(), A.data(), 0.0f, C.data());
  };
  std::printf(
      "\nStatic M-FAC OBS: lenet5, m = %ld Fashion-MNIST examples, %ld prunable weights (medians "
      "of "
      "%d interleaved rounds)\n",
      long(m), long(d), rounds);
  const auto t = side_by_side({gradients, gemm_job, obs}, rounds);
  const double floor = t[0] + t[1];
  std::printf("  per-example gradients alone        %7.3f s\n", t[0]);
  std::printf("  m²·P multiply-adds at %5.1f GFLOP/s %7.3f s  (sgemm, the same shapes)\n",
              2.0 * double(m) * double(m) * double(d) / t[1] * 1e-9, t[1]);
  std::printf("  floor                              %7.3f s\n", floor);
  std::printf("  scores and one update (float64)    %7.3f s   %.2f× the floor (target <= 1.3)\n",
              t[2], t[2] / floor);
}

}  // namespace curv::cli
