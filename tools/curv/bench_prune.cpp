// curv bench --prune: OBS on LeNet-5 from m per-example gradients over the prunable weights — F⁻¹'s
// diagonal, every score and one WoodFisher update — against the floor of static M-FAC: the
// per-example gradients alone plus the m²·P multiply-adds of the Gram form at the sgemm rate
// measured here on the same shapes. Timed side by side: static M-FAC in float64 and in float32
// (prune/fisher_inverse.hpp), and one WoodFisher recomputation step with blocks of 128. Then how
// far the float32 scores are from the float64 ones, and whether they pick the same weights.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "bench_util.hpp"
#include "curv/core/memory.hpp"
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
  const double damping = 1e-4;
  std::vector<double> w(static_cast<std::size_t>(d));
  for (auto& x : w) x = 0.1 * rng.normal();
  const std::vector<std::uint8_t> all(static_cast<std::size_t>(d), 1);

  // The per-example gradients (m, d) stored as float32 or float64, as curv prune collects them.
  auto gradients = [&]<class S>(S) {
    std::vector<S> G;
    reserve_large(G, std::size_t(m * d));
    GradientStream<float> s(*model, split, idx, g);
    s.run([&](const GradientBlock<float>& b) {
      G.insert(G.end(), b.data, b.data + b.rows * b.columns);
    });
    return G;
  };
  auto gradients32 = [&] { return gradients(0.0f); };
  auto gradients64 = [&] { return gradients(0.0); };
  std::vector<double> scores64, scores32;
  auto obs = [&](const FisherInverse& F, std::vector<double>& scores) {
    scores = obs_scores(w, F);
    woodfisher_update(w, lowest_scores(scores, 1, all), F);
  };
  auto floor_gradients = [&] {
    GradientStream<float> s(*model, split, idx, g);
    s.run([](const GradientBlock<float>&) {});
  };
  std::vector<float> A(static_cast<std::size_t>(m * d)), C(static_cast<std::size_t>(m * m));
  for (auto& x : A) x = float(rng.normal());
  auto gemm_job = [&] {
    gemm(Trans::No, Trans::Yes, m, m, d, 1.0f, A.data(), A.data(), 0.0f, C.data());
  };
  auto mfac64 = [&] { obs(*mfac_fisher_inverse(gradients64(), m, d, damping), scores64); };
  auto mfac32 = [&] { obs(*mfac_fisher_inverse(gradients32(), m, d, damping), scores32); };
  std::vector<double> scores_wf;
  auto woodfisher = [&] {
    obs(*block_fisher_inverse(gradients64(), m, d, damping, 128), scores_wf);
  };
  std::printf(
      "\nOBS on lenet5: m = %ld Fashion-MNIST examples, %ld prunable weights, λ = %g (medians of "
      "%d interleaved rounds)\n",
      long(m), long(d), damping, rounds);
  const auto t = side_by_side({floor_gradients, gemm_job, mfac64, mfac32, woodfisher}, rounds);
  const double floor = t[0] + t[1];
  std::printf("  per-example gradients alone          %7.3f s\n", t[0]);
  std::printf("  m²·P multiply-adds at %5.1f GFLOP/s   %7.3f s  (sgemm, the same shapes)\n",
              2.0 * double(m) * double(m) * double(d) / t[1] * 1e-9, t[1]);
  std::printf("  floor                                %7.3f s\n", floor);
  std::printf("  static M-FAC, float64                %7.3f s   %.2f× the floor\n", t[2],
              t[2] / floor);
  std::printf("  static M-FAC, float32                %7.3f s   %.2f× the floor (target <= 1.3)\n",
              t[3], t[3] / floor);
  std::printf("  WoodFisher B = 128, one step         %7.3f s   %.2f× the floor\n", t[4],
              t[4] / floor);
  // float32 against float64: the scores' largest relative difference, and the weights each
  // would remove at 50 % and 90 % sparsity.
  double worst = 0;
  for (index_t q = 0; q < d; ++q)
    worst = std::max(worst, std::abs(scores32[std::size_t(q)] - scores64[std::size_t(q)]) /
                                std::abs(scores64[std::size_t(q)]));
  std::printf("  float32 scores: largest relative difference from float64 %.1e\n", worst);
  for (double s : {0.5, 0.9}) {
    const auto k = index_t(s * double(d));
    const auto a = lowest_scores(scores64, k, all), b = lowest_scores(scores32, k, all);
    std::vector<index_t> both;
    std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(both));
    std::printf("  at %.0f %% sparsity float32 picks %.4f %% of float64's weights\n", 100 * s,
                100.0 * double(both.size()) / double(k));
  }
}

}  // namespace curv::cli
