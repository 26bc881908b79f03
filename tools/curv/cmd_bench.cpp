// curv bench: what a gradient, an exact H·v and a Gauss-Newton G·v cost on real models, as
// ratios to one gradient measured side by side, each beside its multiply-add floor; and the
// framework's overhead on a linear layer against the same cblas_sgemm calls made directly.
//
// Floors count the GEMM multiply-adds of the parameterized layers (F = the forward's, D = the
// part whose input needs an adjoint, i.e. every layer but the first, which reads the data):
//   gradient        forward F, W̄ F, x̄ D                     = 2F + D
//   H·v             forward F, jvp F + D, x̄ D, vjp_rop F + 3D = 3F + 5D
//   G·v             forward F, jvp F + D, vjp F + D           = 3F + 2D
//   cached (forward and adjoints kept, as in CG/Lanczos):  H·v 2F + 4D,  G·v 2F + 2D
#include <cblas.h>
#include <tbb/global_control.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <vector>

#include "bench_util.hpp"
#include "commands.hpp"
#include "curv/kernels/gemm.hpp"
#include "curv/kernels/im2col.hpp"
#include "curv/kernels/parallel.hpp"
#include "curv/loss/loss.hpp"
#include "curv/nn/objective.hpp"
#include "curv/ops/ops.hpp"

namespace curv::cli {
namespace {

// Per-example multiply-adds of each parameterized layer, in forward order.
struct LayerCounter final : LayerObserver<float> {
  const ParamStore<float>* params = nullptr;
  index_t examples = 1;
  std::vector<double> macs;
  void on_forward(const LayerEvent<float>& e) override {
    for (const ParamInfo& p : params->info())
      if (p.offset == e.weight_offset)
        macs.push_back(double(e.a.rows()) * double(e.a.row_size()) * double(p.shape[0]) /
                       double(examples));
  }
};

struct Floors {
  double F = 0, D = 0;
  double grad() const { return 2 * F + D; }
  double hvp() const { return (3 * F + 5 * D) / grad(); }
  double ggn() const { return (3 * F + 2 * D) / grad(); }
  double hvp_cached() const { return (2 * F + 4 * D) / grad(); }
  double ggn_cached() const { return (2 * F + 2 * D) / grad(); }
};

void bench_model(const std::string& name, index_t batch, int rounds) {
  auto model = make_model<float>(name);
  Rng rng(42);
  model->init(rng);
  auto loss = make_loss<float>("cross_entropy");
  Shape xs{batch};
  for (int i = 0; i < model->input_shape().rank(); ++i) xs.push_back(model->input_shape()[i]);
  Tensor<float> x(xs);
  for (index_t i = 0; i < x.numel(); ++i) x[i] = float(rng.uniform());
  std::vector<std::int64_t> labels(static_cast<std::size_t>(batch));
  for (auto& l : labels) l = std::int64_t(rng.below(10));
  const Targets<float> tg{labels.data(), {}};
  Objective<float> obj(*model, *loss);
  const index_t P = model->params().size();
  std::vector<float> g(static_cast<std::size_t>(P)), v(g.size()), out(g.size());
  for (float& e : v) e = float(rng.normal());

  LayerCounter counter;
  counter.params = &model->params();
  counter.examples = batch;
  obj.tape().set_observer(&counter);
  obj.set_batch(x, tg);
  obj.tape().set_observer(nullptr);
  Floors f;
  for (std::size_t l = 0; l < counter.macs.size(); ++l) {
    f.F += counter.macs[l];
    if (l > 0) f.D += counter.macs[l];
  }

  Objective<float> cached(*model, *loss);  // one batch recorded once, products repeated
  cached.set_batch(x, tg);
  cached.hvp(v.data(), out.data());
  const std::vector<double> t = side_by_side(
      {[&] { obj.set_batch(x, tg), obj.gradient(g.data()); },
       [&] { obj.set_batch(x, tg), obj.hvp(v.data(), out.data()); },
       [&] { obj.set_batch(x, tg), obj.ggn_vp(v.data(), out.data()); },
       [&] { cached.hvp(v.data(), out.data()); }, [&] { cached.ggn_vp(v.data(), out.data()); }},
      rounds);
  std::printf("\n%s, batch %ld, float32, %ld parameters, median of %d interleaved rounds\n",
              name.c_str(), long(batch), long(P), rounds);
  std::printf(
      "  multiply-adds per example: F = %.0f (forward), D = %.0f (layers after the first)\n", f.F,
      f.D);
  std::printf("  %-26s %10s %9s %9s %12s\n", "product", "time [ms]", "ratio", "floor",
              "ratio/floor");
  auto row = [&](const char* what, double time, double floor) {
    const double ratio = time / t[0];
    std::printf("  %-26s %10.3f %9.3f %9.3f %12.3f\n", what, time * 1e3, ratio, floor,
                ratio / floor);
  };
  std::printf("  %-26s %10.3f %9.3f %9s %12s   (%.1f k samples/s)\n", "gradient (fwd + bwd)",
              t[0] * 1e3, 1.0, "1", "", double(batch) / t[0] / 1e3);
  row("H·v (own forward)", t[1], f.hvp());
  row("G·v (own forward)", t[2], f.ggn());
  row("H·v (cached forward)", t[3], f.hvp_cached());
  row("G·v (cached forward)", t[4], f.ggn_cached());
}

// Forward and backward of one op through the tape, its input needing an adjoint (as for any
// layer after the first), with the output gradient dy.
template <class Build>
void op_forward_backward(Tape<float>& tape, const Tensor<float>& x, const Tensor<float>& dy,
                         std::vector<float>& grad, Build&& build) {
  tape.clear();
  const Value yv = build(tape, tape.input(x, true));
  View<float> s = tape.seed(yv, Bank::Grad);
  std::copy(dy.data(), dy.data() + dy.numel(), s.data);
  tape.reverse(Bank::Grad, ParamGrad<float>::sum(grad.data()));
}

// One linear layer: forward and backward through the tape against the three cblas_sgemm calls
// they make.
void bench_linear(index_t batch, index_t in, index_t out, int rounds) {
  Rng rng(3);
  ParamStore<float> ps;
  const index_t w = ps.add("fc.weight", Shape{out, in}), b = ps.add("fc.bias", Shape{out});
  for (index_t i = 0; i < ps.size(); ++i) ps.data()[i] = float(rng.normal() * 0.05);
  Tensor<float> x(Shape{batch, in}), dy(Shape{batch, out}), y(Shape{batch, out}),
      dx(Shape{batch, in}), dw(Shape{out, in});
  for (index_t i = 0; i < x.numel(); ++i) x[i] = float(rng.normal());
  for (index_t i = 0; i < dy.numel(); ++i) dy[i] = float(rng.normal());
  Tape<float> tape;
  std::vector<float> grad(static_cast<std::size_t>(ps.size()));
  const std::vector<double> t = side_by_side(
      {[&] {
         op_forward_backward(tape, x, dy, grad, [&](Tape<float>& t, Value v) {
           return ops::linear(t, v, ps.ref(w), ps.ref(b));
         });
       },
       [&] {
         cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(batch), int(out), int(in), 1.f,
                     x.data(), int(in), ps.data(), int(in), 0.f, y.data(), int(out));
         cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(batch), int(in), int(out), 1.f,
                     dy.data(), int(out), ps.data(), int(in), 0.f, dx.data(), int(in));
         cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, int(out), int(in), int(batch), 1.f,
                     dy.data(), int(out), x.data(), int(in), 0.f, dw.data(), int(in));
       }},
      rounds);
  std::printf(
      "  linear %4ld -> %-4ld batch %ld: curv fwd+bwd %.3f ms, 3 x cblas_sgemm %.3f ms, ratio "
      "%.3f\n",
      long(in), long(out), long(batch), t[0] * 1e3, t[1] * 1e3, t[0] / t[1]);
}

// One conv layer (input needing an adjoint) through the tape, against the GEMMs alone on patch
// matrices built beforehand, chunk by chunk exactly as the op runs them: the difference is the
// im2col / col2im / layout work the op adds around its GEMMs.
void bench_conv(index_t batch, index_t c, index_t hw, index_t o, index_t k, index_t pad,
                int rounds) {
  Rng rng(4);
  const ConvGeometry g = ConvGeometry::make(batch, c, hw, hw, k, k, 1, pad);
  ParamStore<float> ps;
  const index_t w = ps.add("conv.weight", Shape{o, c, k, k}), b = ps.add("conv.bias", Shape{o});
  for (index_t i = 0; i < ps.size(); ++i) ps.data()[i] = float(rng.normal() * 0.1);
  Tensor<float> x(Shape{batch, c, hw, hw}), dy(Shape{batch, o, g.oh, g.ow});
  for (index_t i = 0; i < x.numel(); ++i) x[i] = float(rng.uniform());
  for (index_t i = 0; i < dy.numel(); ++i) dy[i] = float(rng.normal());
  const index_t K = g.cols(), P = g.positions(), B = g.images_per_chunk(),
                chunks = (batch + B - 1) / B;
  // Patches and output gradients of every chunk, laid out as the op's GEMMs read them.
  Tensor<float> A(Shape{chunks, K * B * P}), dY(Shape{chunks, o * B * P}),
      Y(Shape{chunks, o * B * P}), dA(Shape{chunks, K * B * P}), part(Shape{chunks, o * K});
  for (index_t ch = 0; ch < chunks; ++ch)
    im2col(g, x.data(), ch * B, std::min(batch, (ch + 1) * B), A.data() + ch * K * B * P);
  for (index_t i = 0; i < dY.numel(); ++i) dY[i] = float(rng.normal());
  Tape<float> tape;
  std::vector<float> grad(static_cast<std::size_t>(ps.size()));
  const std::vector<double> t = side_by_side(
      {[&] {
         op_forward_backward(tape, x, dy, grad, [&](Tape<float>& t, Value v) {
           return ops::conv2d(t, v, ps.ref(w), ps.ref(b), 1, pad);
         });
       },
       [&] {
         BlasSerial serial;
         parallel_for(chunks, 1, [&](index_t c0, index_t c1) {
           for (index_t ch = c0; ch < c1; ++ch) {
             const index_t BP = (std::min(batch, (ch + 1) * B) - ch * B) * P;
             const float* a = A.data() + ch * K * B * P;
             const float* dy_c = dY.data() + ch * o * B * P;
             gemm(Trans::No, Trans::No, o, BP, K, 1.f, ps.data(), a, 0.f,
                  Y.data() + ch * o * B * P);
             gemm(Trans::No, Trans::Yes, o, K, BP, 1.f, dy_c, a, 0.f, part.data() + ch * o * K);
             gemm(Trans::Yes, Trans::No, K, BP, o, 1.f, ps.data(), dy_c, 0.f,
                  dA.data() + ch * K * B * P);
           }
         });
       }},
      rounds);
  std::printf(
      "  conv %ld->%ld %ldx%ld on %ldx%ld batch %ld: curv fwd+bwd %.3f ms, its GEMMs alone %.3f "
      "ms, "
      "im2col/col2im/layout overhead %.0f%%\n",
      long(c), long(o), long(k), long(k), long(hw), long(hw), long(batch), t[0] * 1e3, t[1] * 1e3,
      100 * (t[0] - t[1]) / t[0]);
}

}  // namespace

std::vector<std::vector<double>> side_by_side_rounds(const std::vector<std::function<void()>>& jobs,
                                                     int rounds) {
  using Clock = std::chrono::steady_clock;
  for (const auto& j : jobs) j(), j();  // warm-up: arena growth, caches, BLAS buffers
  std::vector<std::vector<double>> t(jobs.size());
  for (int r = 0; r < rounds; ++r)
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      const auto t0 = Clock::now();
      jobs[i]();
      t[i].push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    }
  return t;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n == 0 ? 0.0 : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::vector<double> side_by_side(const std::vector<std::function<void()>>& jobs, int rounds) {
  std::vector<double> m;
  for (auto& v : side_by_side_rounds(jobs, rounds)) m.push_back(median(std::move(v)));
  return m;
}

double median_ratio(const std::vector<std::vector<double>>& times, std::size_t a, std::size_t b) {
  std::vector<double> r;
  for (std::size_t i = 0; i < times[a].size(); ++i) r.push_back(times[a][i] / times[b][i]);
  return median(std::move(r));
}

Runner add_bench(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("bench", "Time gradient, H·v and G·v against their multiply-add floors");
  struct Opts {
    std::vector<std::string> models{"mlp", "lenet5"};
    index_t batch = 128;
    int rounds = 40;
    int threads = 0;
    bool train = false;
    bool curvature = false;
    bool gradients = false, prune = false, laplace = false;
    index_t examples = 60000, project = 512, grads = 1024;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--model", o->models, "Models to time")->capture_default_str();
  cmd->add_option("--batch", o->batch, "Batch size")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--rounds", o->rounds, "Interleaved timing rounds (medians are reported)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--threads", o->threads, "Threads for TBB and BLAS (0: all cores)")
      ->capture_default_str();
  cmd->add_flag("--train", o->train,
                "Time training steps of mlp, lenet5, autoencoder and transformer instead");
  cmd->add_flag("--curvature", o->curvature,
                "Time K-FAC statistics, Lanczos and projected gradients instead");
  cmd->add_flag("--gradients", o->gradients,
                "Time streamed per-example gradients projected to --project dimensions only");
  cmd->add_flag("--prune", o->prune, "Time static M-FAC OBS on LeNet-5 (m = --grads) only");
  cmd->add_option("--grads", o->grads, "--prune: m")->capture_default_str();
  cmd->add_flag("--laplace", o->laplace,
                "Time Laplace's fit and GLM predictives on LeNet-5 against their floors only");
  cmd->add_option("--examples", o->examples, "--gradients: Fashion-MNIST examples")
      ->capture_default_str();
  cmd->add_option("--project", o->project, "--gradients: k")->capture_default_str();
  return [o] {
    std::unique_ptr<tbb::global_control> limit;
    if (o->threads > 0) {
      limit = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                    o->threads);
      set_blas_threads(o->threads);
    }
    std::printf("threads: TBB %zu, BLAS %d\n",
                tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism),
                blas_threads());
    if (o->train) {
      bench_training(o->rounds);
      return 0;
    }
    if (o->curvature) {
      bench_curvature(o->batch, o->rounds);
      return 0;
    }
    if (o->laplace) {
      bench_laplace(std::min(o->rounds, 5), 10000);
      return 0;
    }
    if (o->prune) {
      bench_prune(o->grads, std::min(o->rounds, 7));
      return 0;
    }
    if (o->gradients) {
      bench_gradients(o->examples, o->project, std::min(o->rounds, 5));
      return 0;
    }
    for (const std::string& m : o->models) bench_model(m, o->batch, o->rounds);
    std::printf("\nLinear layers: framework overhead over the GEMMs it calls (target <= 1.1)\n");
    bench_linear(o->batch, 784, 256, o->rounds);
    bench_linear(o->batch, 256, 256, o->rounds);
    bench_linear(o->batch, 256, 10, o->rounds);
    std::printf("\nConv layers (LeNet-5's): time around the GEMMs\n");
    bench_conv(o->batch, 1, 28, 6, 5, 2, o->rounds);
    bench_conv(o->batch, 6, 14, 16, 5, 0, o->rounds);
    return 0;
  };
}

}  // namespace curv::cli
