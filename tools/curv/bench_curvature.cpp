// curv bench --curvature: what curvature costs beyond the products `curv bench` times.
//  1. K-FAC factor statistics gathered alongside a gradient pass (sharing its forward and
//     backward; the empirical-Fisher output factor), as extra time over the gradient, beside
//     their multiply-add floor: symmetric rank-k updates, R·n(n+1)/2 per factor of width n over
//     R rows. The Monte-Carlo Fisher's output factor needs one more backward pass (from sampled
//     labels), timed on its own.
//  2. Lanczos with the exact Hessian of LeNet-5 — one λ_max estimate (20 iterations on a batch
//     of 128) and the top 10 (100 iterations over 1000 examples) — against as many of the same
//     H·v products timed alone: the solver's own work should be negligible.
//  3. Streamed per-example gradients projected to k = 512 (bench_gradients.cpp).
#include <chrono>
#include <cstdio>

#include "bench_util.hpp"
#include "curv/curvature/kfac_statistics.hpp"
#include "curv/curvature/model_operators.hpp"
#include "curv/linalg/eigensolvers.hpp"
#include "curv/optim/second_order.hpp"

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

// A freshly initialized model, one random batch of `batch` examples with class labels, and
// the objective on it (not yet recorded).
struct Workload {
  std::unique_ptr<Model<float>> model;
  std::unique_ptr<Loss<float>> loss;
  Tensor<float> x;
  std::vector<std::int64_t> labels;
  Targets<float> tg;
  Objective<float> obj;
  Workload(const std::string& name, index_t batch)
      : model(make_model<float>(name)),
        loss(make_loss<float>("cross_entropy")),
        obj(*model, *loss) {
    Rng rng(42);
    model->init(rng);
    x = random_inputs(*model, batch, rng);
    labels.resize(static_cast<std::size_t>(batch));
    for (auto& l : labels) l = std::int64_t(rng.below(10));
    tg = {labels.data(), {}};
  }
};

// Multiply-adds of one batch, from the layer shapes a backward sweep reports: the gradient
// (forward F, W̄ F, x̄ F for every layer but the first), the K-FAC statistics (syrk:
// R·n(n+1)/2 per factor of width n), the preconditioning (G⁻¹ Ŵ A⁻¹: out²·din + out·din²) and
// one inversion of every factor (Cholesky inverse: n³).
struct KfacCosts {
  double gradient = 0, statistics = 0, preconditioning = 0, inversion = 0;
  double statistics_a = 0, preconditioning_a = 0,
         inversion_a = 0;  // the input factor's share (FOOF)
};

KfacCosts kfac_costs(Objective<float>& obj, const Tensor<float>& x, const Targets<float>& tg,
                     float* grad) {
  Shapes shapes;
  obj.tape().set_observer(&shapes);
  obj.set_batch(x, tg);
  obj.gradient(grad, true);
  obj.tape().set_observer(nullptr);
  KfacCosts c;
  for (std::size_t l = 0; l < shapes.layers.size(); ++l) {
    const auto& L = shapes.layers[l];
    const double fwd = L.R * L.in * L.out, din = L.in + 1;
    c.gradient += 2 * fwd + (l + 1 < shapes.layers.size() ? fwd : 0);  // the first layer has no x̄
    c.statistics += L.R * (din * (din + 1) / 2 + L.out * (L.out + 1) / 2);
    c.preconditioning += L.out * L.out * din + L.out * din * din;
    c.inversion += din * din * din + L.out * L.out * L.out;
    c.statistics_a += L.R * din * (din + 1) / 2;
    c.preconditioning_a += L.out * din * din;
    c.inversion_a += din * din * din;
  }
  return c;
}

void bench_statistics(const std::string& name, index_t batch, int rounds) {
  Workload w(name, batch);
  auto& [model, loss, x, labels, tg, obj] = w;
  std::vector<float> g(static_cast<std::size_t>(model->params().size()));

  const KfacCosts costs = kfac_costs(obj, x, tg, g.data());
  const double grad_macs = costs.gradient, stat_macs = costs.statistics;

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
  std::printf("\n%s, batch %ld, float32: K-FAC statistics (median of %d interleaved rounds)\n",
              name.c_str(), long(batch), rounds);
  std::printf("  %-44s %10s %9s %9s\n", "", "time [ms]", "ratio", "floor");
  std::printf("  %-44s %10.3f %9.3f %9s\n", "gradient (fwd + bwd)", t[0] * 1e3, 1.0, "1");
  std::printf("  %-44s %10.3f %9.3f %9.3f\n", "gradient + K-FAC factors (EF output factor)",
              t[1] * 1e3, t[1] / t[0], 1 + stat_macs / grad_macs);
  std::printf("  %-44s %10.3f %9.3f %9.3f%s\n", "  the factors' share: extra over the gradient",
              (t[1] - t[0]) * 1e3, (t[1] - t[0]) / t[0], stat_macs / grad_macs,
              name == "mlp" ? "   (target <= 1.0)" : "");
  std::printf("  %-44s %10.3f %9.3f\n", "MC-Fisher output factor: extra sampled sweep", t[2] * 1e3,
              t[2] / t[0]);
}

void bench_lanczos(index_t examples, index_t iterations, index_t wanted, int rounds) {
  auto model = make_model<float>("lenet5");
  Rng rng(3);
  model->init(rng);
  std::vector<Batch<float>> batches;
  for (index_t i = 0; i < examples; i += 125) {
    const index_t n = std::min<index_t>(125, examples - i);
    Batch<float> b;
    b.x = random_inputs(*model, n, rng);
    for (index_t j = 0; j < n; ++j) b.labels.push_back(std::int64_t(rng.below(10)));
    batches.push_back(std::move(b));
  }
  const auto recorded = batches.size();
  CurvatureData<float> data(*model, std::move(batches));
  ModelOperator<float> H(data, ModelCurvature::Hessian, ParamSubset::all(model->params().info()));
  std::vector<double> v(static_cast<std::size_t>(H.size()), 1.0), out(v.size());
  using Clock = std::chrono::steady_clock;
  auto seconds_since = [](Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
  };
  H.mv(v.data(), out.data());  // first product: forward recorded, adjoints cached, arenas grown
  linalg::KrylovOptions k;
  k.iterations = iterations, k.wanted = wanted;
  k.which = wanted == 1 ? linalg::Which::largest_algebraic : linalg::Which::largest_magnitude;
  // Side by side in every round: `iterations` products alone, then the solver; the ratio of each
  // round's pair, medians over rounds.
  std::vector<double> products, solver, ratio;
  double top = 0;
  for (int r = 0; r < rounds; ++r) {
    auto t0 = Clock::now();
    for (index_t i = 0; i < iterations; ++i) H.mv(v.data(), out.data());
    products.push_back(seconds_since(t0));
    t0 = Clock::now();
    top = linalg::lanczos(H, k).values.front();
    solver.push_back(seconds_since(t0));
    ratio.push_back(solver.back() / products.back());
  }
  std::printf(
      "\nLanczos, lenet5, exact Hessian over %ld examples (%zu recorded batches, forward cached), "
      "float32 sweeps, median of %d rounds\n",
      long(examples), recorded, rounds);
  std::printf(
      "  %ld H·v products: %.1f ms; %ld Lanczos iterations (%ld wanted): %.1f ms = %.3f× "
      "the products; top eigenvalue %.6g\n",
      long(iterations), median(products) * 1e3, long(iterations), long(wanted),
      median(solver) * 1e3, median(ratio), top);
}

// One K-FAC step (empirical-Fisher statistics from the gradient's own sweep every step,
// factored π-damping, explicit inverses every 10 steps, KL-clipped momentum: kfac-pytorch's
// recipe) amortized over 10 steps, beside 10 SGD-momentum steps, with its breakdown and its
// multiply-add floor: gradient + statistics (syrk) + preconditioning (G⁻¹ Ŵ A⁻¹, two GEMMs
// per layer) + a tenth of the inversions (Cholesky inverse: n³ per factor). A FOOF step with the
// same input factors (no G) runs in the same rounds. Ratios are medians of each round's ratio.
void bench_kfac_step(const std::string& name, index_t batch, int rounds) {
  Workload w(name, batch);
  auto& [model, loss, x, labels, tg, obj] = w;
  auto& params = model->params();

  const index_t every = 10;
  const KfacCosts costs = kfac_costs(obj, x, tg, params.grad());
  const double grad = costs.gradient, stats = costs.statistics, precond = costs.preconditioning,
               inversion = costs.inversion / double(every);
  const double foof_floor =
      (grad + costs.statistics_a + costs.preconditioning_a + costs.inversion_a / double(every)) /
      grad;

  // A tiny learning rate keeps the parameters where they started: trained to zero loss on one
  // repeated batch, the gradients would turn denormal and time the CPU's slow path instead.
  auto sgd = make_sgd<float>(1e-7, 0.9);
  SecondOrderConfig cfg;
  cfg.factors = FactorKind::EF, cfg.rescale = "kl", cfg.kfac_damping = KfacDamping::Factored;
  cfg.inverse_every = every, cfg.damping = 1e-3;
  auto kfac = make_kfac_optimizer<float>("kfac", 1e-7, cfg);
  // FOOF on the same statistics (A only, no G), with its own rule: plain momentum, no clip.
  SecondOrderConfig foof_cfg = cfg;
  foof_cfg.rescale = "none";
  auto foof = make_kfac_optimizer<float>("foof", 1e-7, foof_cfg);
  KfacStatistics<float> observer;
  // `every` steps of an optimizer: one inversion's worth for the K-FAC family, to amortize it.
  auto steps_of = [&](Optimizer<float>& opt) {
    return [&, o = &opt] {
      for (index_t k = 0; k < every; ++k) {
        obj.set_batch(x, tg);
        o->attach(obj);
        obj.gradient(params.grad(), o->observes_gradient());
        o->step(params);
      }
    };
  };
  const auto t = side_by_side_rounds(
      {steps_of(*sgd), steps_of(*kfac), steps_of(*foof),
       [&] {  // the gradient with the statistics riding on it, for the breakdown
         obj.tape().set_observer(&observer);
         obj.set_batch(x, tg);
         observer.begin_batch(0.05, double(batch), 0.95);
         obj.gradient(params.grad(), true);
         obj.tape().set_observer(nullptr);
       },
       [&] { obj.set_batch(x, tg), obj.gradient(params.grad()); }},
      rounds);
  const double steps = double((rounds + 2) * every);  // the profile counts warm-up rounds too
  double inv = 0, pre = 0, rescale = 0;
  for (const auto& [part, sec] : kfac->profile()) {
    if (part == "inversion") inv = sec / steps;
    if (part == "preconditioning") pre = sec / steps;
    if (part == "rescaling") rescale = sec / steps;
  }
  const double sgd_t = median(t[0]) / double(every), step = median(t[1]) / double(every);
  const double gradient = median(t[4]), st = median(t[3]) - gradient;
  const double ratio = median_ratio(t, 1, 0), floor = (grad + stats + precond + inversion) / grad;
  std::printf(
      "\n%s, batch %ld, float32: one K-FAC step (EF statistics every step, factored π-damping, "
      "inverses every %ld "
      "steps, KL-clipped momentum), amortized over %ld steps beside as many SGD steps; medians of "
      "%d interleaved "
      "rounds (ratios: of each round's ratio)\n",
      name.c_str(), long(batch), long(every), long(every), rounds);
  std::printf("  %-34s %10s %12s %9s\n", "", "time [ms]", "× SGD step", "floor");
  std::printf("  %-34s %10.3f %12.3f %9s\n", "SGD step (momentum)", sgd_t * 1e3, 1.0, "1");
  std::printf("  %-34s %10.3f %12.3f %9.3f   ratio/floor %.2f (target <= 1.2)\n", "K-FAC step",
              step * 1e3, ratio, floor, ratio / floor);
  std::printf("  %-34s %10.3f %12.3f %9.3f\n", "  gradient", gradient * 1e3, gradient / sgd_t, 1.0);
  std::printf("  %-34s %10.3f %12.3f %9.3f\n", "  statistics (on the gradient sweep)", st * 1e3,
              st / sgd_t, stats / grad);
  std::printf("  %-34s %10.3f %12.3f %9.3f\n", "  inversion (amortized)", inv * 1e3, inv / sgd_t,
              inversion / grad);
  std::printf("  %-34s %10.3f %12.3f %9.3f\n", "  preconditioning", pre * 1e3, pre / sgd_t,
              precond / grad);
  std::printf("  %-34s %10.3f %12.3f\n", "  KL clip and momentum update", rescale * 1e3,
              rescale / sgd_t);
  const double rest = step - gradient - st - inv - pre - rescale;
  std::printf("  %-34s %10.3f %12.3f\n", "  the rest (step minus the parts)", rest * 1e3,
              rest / sgd_t);
  const double foof_ratio = median_ratio(t, 2, 0);
  std::printf(
      "  %-34s %10.3f %12.3f %9.3f   ratio/floor %.2f; %.2f× the K-FAC step (floor %.2f×)\n",
      "FOOF step (A only, plain momentum)", median(t[2]) / double(every) * 1e3, foof_ratio,
      foof_floor, foof_ratio / foof_floor, median_ratio(t, 2, 1), foof_floor / floor);
}

}  // namespace

void bench_curvature(index_t batch, int rounds) {
  bench_statistics("mlp", batch, rounds);
  bench_statistics("lenet5", batch, rounds);
  bench_kfac_step("mlp", batch, std::max(5, rounds / 2));
  bench_kfac_step("lenet5", batch, std::max(5, rounds / 2));
  bench_lanczos(128, 20, 1, 7);  // one λ_max estimate, as a batch sweep or the rate learner takes
  bench_lanczos(1000, 100, 10, 3);
  bench_gradients(60000, 512, 3);
}

}  // namespace curv::cli
