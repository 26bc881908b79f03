// curv bench --curvature: what curvature costs beyond the products `curv bench` times.
//  1. K-FAC factor statistics gathered alongside a gradient pass (sharing its forward and
//     backward; the empirical-Fisher output factor), as extra time over the gradient, beside
//     their multiply-add floor: symmetric rank-k updates, R·n(n+1)/2 per factor of width n over
//     R rows. The Monte-Carlo Fisher's output factor needs one more backward pass (from sampled
//     labels), timed on its own.
//  2. Lanczos: 100 iterations with the exact Hessian of LeNet-5 over 1000 examples, against 100
//     of the same H·v products timed alone — the solver's own work should be negligible.
#include <chrono>
#include <cstdio>

#include "bench_util.hpp"
#include "curv/curvature/kfac_statistics.hpp"
#include "curv/curvature/model_operators.hpp"
#include "curv/linalg/eigensolvers.hpp"

namespace curv::cli {
namespace {

// Rows and widths of every parameterized layer, from a backward sweep.
struct Shapes final : LayerObserver<float> {
  struct Layer {
    double R, in, out;
  };
  std::vector<Layer> layers;  // in backward order: the first layer comes last
  void on_backward(const LayerEvent<float>& e) override {
    layers.push_back({double(e.a.rows()), double(e.a.row_size()), double(e.g.row_size())});
  }
};

Tensor<float> random_inputs(const Model<float>& m, index_t n, Rng& rng) {
  Shape s{n};
  for (int i = 0; i < m.input_shape().rank(); ++i) s.push_back(m.input_shape()[i]);
  Tensor<float> x(s);
  for (index_t i = 0; i < x.numel(); ++i) x[i] = float(rng.uniform());
  return x;
}

void bench_statistics(const std::string& name, index_t batch, int rounds) {
  auto model = make_model<float>(name);
  Rng rng(42);
  model->init(rng);
  auto loss = make_loss<float>("cross_entropy");
  const Tensor<float> x = random_inputs(*model, batch, rng);
  std::vector<std::int64_t> labels(static_cast<std::size_t>(batch));
  for (auto& l : labels) l = std::int64_t(rng.below(10));
  const Targets<float> tg{labels.data(), {}};
  Objective<float> obj(*model, *loss);
  std::vector<float> g(static_cast<std::size_t>(model->params().size()));

  Shapes shapes;
  obj.tape().set_observer(&shapes);
  obj.set_batch(x, tg);
  obj.gradient(g.data(), true);
  double grad_macs = 0, stat_macs = 0;
  for (std::size_t l = 0; l < shapes.layers.size(); ++l) {
    const auto& L = shapes.layers[l];
    const double fwd = L.R * L.in * L.out;
    grad_macs += 2 * fwd + (l + 1 < shapes.layers.size() ? fwd : 0);  // the first layer has no x̄
    const double din = L.in + 1;
    stat_macs += L.R * (din * (din + 1) / 2 + L.out * (L.out + 1) / 2);
  }

  KfacStatistics<float> stats;
  Objective<float> sampled(*model, *loss);
  Tensor<float> S(Shape{batch, model->outputs(), 1});
  Rng label_rng(7);
  sampled.tape().set_observer(&stats);
  sampled.set_batch(x, tg);
  const std::vector<double> t = side_by_side(
      {[&] { obj.tape().set_observer(nullptr), obj.set_batch(x, tg), obj.gradient(g.data()); },
       [&] {
         obj.tape().set_observer(&stats);
         obj.set_batch(x, tg);
         stats.begin_batch(1.0, double(batch));  // empirical Fisher from the gradient's own sweep
         obj.gradient(g.data(), true);
       },
       [&] {
         // The MC Fisher's extra sweep on an already recorded batch: one sampled label each.
         loss->sampled_sqrt(label_rng, 1, S.data());
         stats.begin_batch(1.0);
         sampled.pullback(S.data(), ParamGrad<float>::none(), true);
       }},
      rounds);
  std::printf("\n%s, batch %ld, float32: K-FAC statistics (median of %d interleaved rounds)\n", name.c_str(),
              long(batch), rounds);
  std::printf("  %-44s %10s %9s %9s\n", "", "time [ms]", "ratio", "floor");
  std::printf("  %-44s %10.3f %9.3f %9s\n", "gradient (fwd + bwd)", t[0] * 1e3, 1.0, "1");
  std::printf("  %-44s %10.3f %9.3f %9.3f\n", "gradient + K-FAC factors (EF output factor)", t[1] * 1e3, t[1] / t[0],
              1 + stat_macs / grad_macs);
  std::printf("  %-44s %10.3f %9.3f %9.3f%s\n", "  the factors' share: extra over the gradient", (t[1] - t[0]) * 1e3,
              (t[1] - t[0]) / t[0], stat_macs / grad_macs, name == "mlp" ? "   (target <= 1.0)" : "");
  std::printf("  %-44s %10.3f %9.3f\n", "MC-Fisher output factor: extra sampled sweep", t[2] * 1e3, t[2] / t[0]);
}

void bench_lanczos(index_t examples, index_t iterations) {
  auto model = make_model<float>("lenet5");
  Rng rng(3);
  model->init(rng);
  std::vector<CurvatureBatch<float>> batches;
  for (index_t i = 0; i < examples; i += 125) {
    CurvatureBatch<float> b;
    b.x = random_inputs(*model, 125, rng);
    for (index_t j = 0; j < 125; ++j) b.y.labels.push_back(std::int64_t(rng.below(10)));
    batches.push_back(std::move(b));
  }
  CurvatureData<float> data(*model, std::move(batches));
  ModelOperator<float> H(data, ModelCurvature::Hessian, ParamSubset::all(model->params().info()));
  std::vector<double> v(static_cast<std::size_t>(H.size()), 1.0), out(v.size());
  using Clock = std::chrono::steady_clock;
  auto time_products = [&](index_t n) {
    const auto t0 = Clock::now();
    for (index_t i = 0; i < n; ++i) H.mv(v.data(), out.data());
    return std::chrono::duration<double>(Clock::now() - t0).count() / double(n);
  };
  H.mv(v.data(), out.data());  // first product: adjoints cached, arenas grown
  const double before = time_products(10);
  linalg::KrylovOptions k;
  k.iterations = iterations, k.wanted = 10;
  const auto t0 = Clock::now();
  const auto e = linalg::lanczos(H, k);
  const double lanczos = std::chrono::duration<double>(Clock::now() - t0).count();
  const double after = time_products(10);
  const double per = 0.5 * (before + after);
  std::printf("\nLanczos, lenet5, exact Hessian over %ld examples (8 recorded batches), float32 sweeps\n", long(examples));
  std::printf("  one H·v over all examples: %.1f ms (mean of 10 before, 10 after)\n", per * 1e3);
  std::printf("  %ld Lanczos iterations: %.2f s, %ld products = %.3f× the time of %ld H·v's; top eigenvalue %.6g\n",
              long(iterations), lanczos, long(e.iterations), lanczos / (double(iterations) * per), long(iterations),
              e.values.empty() ? 0.0 : e.values.front());
}

}  // namespace

void bench_curvature(index_t batch, int rounds) {
  bench_statistics("mlp", batch, rounds);
  bench_statistics("lenet5", batch, rounds);
  bench_lanczos(1000, 100);
}

}  // namespace curv::cli
