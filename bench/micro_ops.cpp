// Micro-benchmarks of single ops, pass by pass, at the shapes of the MLP and LeNet-5 at batch
// 128 (Google Benchmark). Run: meson test -C build --benchmark, or build/bench/micro_ops.
#include <benchmark/benchmark.h>

#include <functional>

#include "curv/core/rng.hpp"
#include "curv/kernels/gemm.hpp"
#include "curv/kernels/im2col.hpp"
#include "curv/nn/params.hpp"
#include "curv/ops/ops.hpp"

using namespace curv;

namespace {

// One op recorded on a tape with an input that needs an adjoint, ready for each pass.
struct OpBench {
  ParamStore<float> ps;
  Tensor<float> x;
  Tape<float> tape;
  Value in, out;
  std::vector<float> theta_dot, grad;
  std::function<Value(Tape<float>&, Value)> build;

  OpBench(Shape xs, std::vector<std::pair<std::string, Shape>> params,
          std::function<Value(Tape<float>&, Value, const ParamStore<float>&)> f)
      : x(xs) {
    for (auto& [n, s] : params) ps.add(n, s);
    Rng rng(1);
    for (index_t i = 0; i < ps.size(); ++i) ps.data()[i] = float(rng.normal() * 0.1);
    for (index_t i = 0; i < x.numel(); ++i) x[i] = float(rng.normal());
    theta_dot.assign(static_cast<std::size_t>(ps.size()), 0.01f);
    grad.assign(static_cast<std::size_t>(ps.size()), 0.f);
    build = [this, f](Tape<float>& t, Value v) { return f(t, v, ps); };
    record();
    tape.seed(out, Bank::Grad);
    View<float> dy = tape.adjoint(out, Bank::Grad);
    for (float& v : dy) v = 0.5f;
    tape.input_tangent(in);
  }
  void record() {
    tape.clear();
    in = tape.input(x, true);
    out = build(tape, in);
  }
};

OpBench linear_784_256() {
  return OpBench(Shape{128, 784}, {{"w", Shape{256, 784}}, {"b", Shape{256}}},
                 [](Tape<float>& t, Value v, const ParamStore<float>& p) {
                   return ops::linear(t, v, p.ref(0), p.ref(1));
                 });
}
OpBench conv_lenet2() {
  return OpBench(Shape{128, 6, 14, 14}, {{"w", Shape{16, 6, 5, 5}}, {"b", Shape{16}}},
                 [](Tape<float>& t, Value v, const ParamStore<float>& p) {
                   return ops::conv2d(t, v, p.ref(0), p.ref(1), 1, 0);
                 });
}
OpBench relu_lenet1() {
  return OpBench(Shape{128, 6, 28, 28}, {},
                 [](Tape<float>& t, Value v, const ParamStore<float>&) { return ops::relu(t, v); });
}
OpBench pool_lenet1() {
  return OpBench(Shape{128, 6, 28, 28}, {}, [](Tape<float>& t, Value v, const ParamStore<float>&) {
    return ops::max_pool2d(t, v, 2, 2);
  });
}

template <OpBench (*Make)()>
void forward(benchmark::State& s) {
  OpBench b = Make();
  for (auto _ : s) b.record();
}
template <OpBench (*Make)()>
void vjp(benchmark::State& s) {
  OpBench b = Make();
  for (auto _ : s) b.tape.reverse(Bank::Grad, ParamGrad<float>::sum(b.grad.data()));
}
template <OpBench (*Make)()>
void jvp(benchmark::State& s) {
  OpBench b = Make();
  for (auto _ : s) b.tape.tangents(b.theta_dot.data());
}
template <OpBench (*Make)()>
void vjp_rop(benchmark::State& s) {
  OpBench b = Make();
  b.tape.tangents(b.theta_dot.data());
  b.tape.seed_rop(b.out);
  for (auto _ : s) b.tape.reverse_rop(b.theta_dot.data(), b.grad.data());
}

#define CURV_OP_BENCH(make)                         \
  BENCHMARK(forward<make>)->Name(#make "/forward"); \
  BENCHMARK(vjp<make>)->Name(#make "/vjp");         \
  BENCHMARK(jvp<make>)->Name(#make "/jvp");         \
  BENCHMARK(vjp_rop<make>)->Name(#make "/vjp_rop");

CURV_OP_BENCH(linear_784_256)
CURV_OP_BENCH(conv_lenet2)
CURV_OP_BENCH(relu_lenet1)
CURV_OP_BENCH(pool_lenet1)

// KFC statistics of LeNet-5's convolutions at batch 128: the patch rows observers get (im2row),
// and the symmetric rank-k update of the input factor over them.
ConvGeometry lenet_conv(int which) {
  return which == 1 ? ConvGeometry::make(128, 1, 28, 28, 5, 5, 1, 2)
                    : ConvGeometry::make(128, 6, 14, 14, 5, 5, 1, 0);
}
Tensor<float> random_images(const ConvGeometry& g) {
  Tensor<float> x(Shape{g.n, g.c, g.h, g.w});
  Rng rng(3);
  for (index_t i = 0; i < x.numel(); ++i) x[i] = float(rng.normal());
  return x;
}
void patch_rows(benchmark::State& s) {
  const ConvGeometry g = lenet_conv(int(s.range(0)));
  const Tensor<float> x = random_images(g);
  std::vector<float> rows(static_cast<std::size_t>(g.rows() * g.cols()));
  for (auto _ : s) im2row(g, x.data(), rows.data());
  s.SetBytesProcessed(int64_t(s.iterations()) * int64_t(rows.size() * sizeof(float)));
}
void patch_syrk(benchmark::State& s) {
  const ConvGeometry g = lenet_conv(int(s.range(0)));
  const Tensor<float> x = random_images(g);
  const index_t K = g.cols();
  std::vector<float> rows(static_cast<std::size_t>(g.rows() * K)),
      A(static_cast<std::size_t>(K * K));
  im2row(g, x.data(), rows.data());
  for (auto _ : s) syrk_lower(K, g.rows(), 1.f, rows.data(), 0.95f, A.data(), K);
  s.counters["GMAC/s"] =
      benchmark::Counter(double(g.rows()) * double(K * (K + 1) / 2) * double(s.iterations()) / 1e9,
                         benchmark::Counter::kIsRate);
}
BENCHMARK(patch_rows)->Name("lenet_conv/patch_rows")->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);
BENCHMARK(patch_syrk)
    ->Name("lenet_conv/input_factor_syrk")
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
