// Sweeps over whole models: invariance to how a batch is split, float32 against float64,
// observers, reproducible training and its NaN guard.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "curv/check/check.hpp"
#include "curv/nn/objective.hpp"

using namespace curv;

namespace {

template <class T>
struct Batch {
  Tensor<T> x;
  std::vector<std::int64_t> y;
  Batch(const Model<T>& m, index_t n, std::uint64_t seed) : y(static_cast<std::size_t>(n)) {
    Shape s{n};
    for (int i = 0; i < m.input_shape().rank(); ++i) s.push_back(m.input_shape()[i]);
    x = Tensor<T>(s);
    Rng rng(seed);
    for (index_t i = 0; i < x.numel(); ++i) x[i] = T(rng.uniform());
    for (auto& l : y) l = std::int64_t(rng.below(std::uint64_t(m.outputs())));
  }
  View<const T> rows(index_t a, index_t b) const { return x.view().slice(a, b); }
  Targets<T> targets(index_t a) const { return {y.data() + a, {}}; }
};

std::vector<double> as_double(const std::vector<float>& v) { return {v.begin(), v.end()}; }

// A layer list and the built-in model it describes: the same tensors (names, shapes, order),
// the same input and output sizes, and the same initialization from the same seed.
void same_parameters(Model<float>& built_in, Model<float>& listed) {
  REQUIRE(listed.params().count() == built_in.params().count());
  for (index_t i = 0; i < built_in.params().count(); ++i) {
    CHECK(listed.params().info(i).name == built_in.params().info(i).name);
    CHECK(listed.params().info(i).shape == built_in.params().info(i).shape);
  }
  CHECK(listed.input_shape() == built_in.input_shape());
  CHECK(listed.outputs() == built_in.outputs());
  Rng a(3), b(3);
  built_in.init(a), listed.init(b);
  const index_t P = built_in.params().size();
  CHECK(std::equal(built_in.params().data(), built_in.params().data() + P,
                   listed.params().data()));
}

}  // namespace

TEST_CASE("gradient, H·v and G·v of a batch are the size-weighted means over its parts") {
  for (const char* name : {"mlp", "lenet5"}) {
    CAPTURE(name);
    auto model = make_model<double>(name);
    Rng rng(5);
    model->init(rng);
    auto loss = make_loss<double>("cross_entropy");
    Objective<double> obj(*model, *loss);
    const index_t N = 10, cut = 3, P = model->params().size();
    Batch<double> b(*model, N, 11);
    std::vector<double> v(static_cast<std::size_t>(P));
    for (double& e : v) e = rng.normal();
    auto products = [&](index_t lo, index_t hi) {
      obj.set_batch(b.rows(lo, hi), b.targets(lo));
      std::vector<double> out(static_cast<std::size_t>(3 * P));
      obj.gradient(out.data());
      obj.hvp(v.data(), out.data() + P);
      obj.ggn_vp(v.data(), out.data() + 2 * P);
      return out;
    };
    const auto whole = products(0, N), a = products(0, cut), c = products(cut, N);
    std::vector<double> mix(whole.size());
    for (std::size_t i = 0; i < mix.size(); ++i)
      mix[i] = (double(cut) * a[i] + double(N - cut) * c[i]) / double(N);
    CHECK(check::relative_error(whole, mix) < 1e-12);
  }
}

TEST_CASE("float32 products agree with float64 ones") {
  for (const char* name : {"mlp", "lenet5"}) {
    CAPTURE(name);
    auto m32 = make_model<float>(name);
    auto m64 = make_model<double>(name);
    Rng rng(9);
    m64->init(rng);
    const index_t P = m64->params().size();
    for (index_t i = 0; i < P; ++i) m32->params().data()[i] = float(m64->params().data()[i]);
    Batch<double> b64(*m64, 16, 4);
    Batch<float> b32(*m32, 16, 4);
    auto l32 = make_loss<float>("cross_entropy");
    auto l64 = make_loss<double>("cross_entropy");
    Objective<float> o32(*m32, *l32);
    Objective<double> o64(*m64, *l64);
    o32.set_batch(b32.x, b32.targets(0));
    o64.set_batch(b64.x, b64.targets(0));
    std::vector<double> v(static_cast<std::size_t>(P)), out64(v.size());
    std::vector<float> vf(v.size()), out32(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) vf[i] = float(v[i] = rng.normal());
    o32.hvp(vf.data(), out32.data());
    o64.hvp(v.data(), out64.data());
    CHECK(check::relative_error(as_double(out32), out64) < 1e-4);
    o32.ggn_vp(vf.data(), out32.data());
    o64.ggn_vp(v.data(), out64.data());
    CHECK(check::relative_error(as_double(out32), out64) < 1e-4);
  }
}

namespace {
// Rebuilds each layer's weight gradient Σᵣ gᵣ aᵣᵀ from what observers are shown.
struct GradientFromEvents final : LayerObserver<double> {
  const ParamStore<double>* params;
  std::vector<double> grad;
  std::size_t forward_events = 0;
  void on_forward(const LayerEvent<double>& e) override {
    ++forward_events;
    CHECK(e.g.empty());
  }
  void on_backward(const LayerEvent<double>& e) override {
    const index_t R = e.a.rows(), I = e.a.row_size(), O = e.g.row_size();
    CHECK(e.g.rows() == R);
    for (index_t o = 0; o < O; ++o)
      for (index_t i = 0; i < I; ++i) {
        double s = 0;
        for (index_t r = 0; r < R; ++r) s += e.g[r * O + o] * e.a[r * I + i];
        grad[static_cast<std::size_t>(e.weight_offset + o * I + i)] += s;
      }
  }
};
}  // namespace

TEST_CASE(
    "observers see each layer's input rows and output gradients (linear and conv, KFC rows)") {
  auto model = make_model<double>("lenet5");
  Rng rng(1);
  model->init(rng);
  auto loss = make_loss<double>("cross_entropy");
  Objective<double> obj(*model, *loss);
  Batch<double> b(*model, 4, 2);
  GradientFromEvents obs;
  obs.params = &model->params();
  obs.grad.assign(static_cast<std::size_t>(model->params().size()), 0.0);
  obj.tape().set_observer(&obs);
  obj.set_batch(b.x, b.targets(0));
  std::vector<double> g(obs.grad.size()), plain(g.size());
  obj.gradient(plain.data());  // no events: conv2d computes its own patches
  obj.gradient(g.data(), true);
  CHECK(obs.forward_events == 5);
  // Conv2d's vjp reads the patch rows built for observers from then on: same gradients.
  CHECK(check::relative_error(g, plain) < 1e-13);
  const index_t N = 4, P = model->params().size();
  std::vector<double> per(static_cast<std::size_t>(N * P)), per_plain(per.size());
  obj.per_example_gradients(per.data());
  Objective<double> unobserved(*model, *loss);
  unobserved.set_batch(b.x, b.targets(0));
  unobserved.per_example_gradients(per_plain.data());
  CHECK(check::relative_error(per, per_plain) < 1e-13);
  for (const ParamInfo& p : model->params().info()) {
    if (!p.name.ends_with(".weight")) continue;
    CAPTURE(p.name);
    std::vector<double> want(g.begin() + p.offset, g.begin() + p.offset + p.shape.numel());
    std::vector<double> got(obs.grad.begin() + p.offset,
                            obs.grad.begin() + p.offset + p.shape.numel());
    CHECK(check::relative_error(got, want) < 1e-12);
  }
}

TEST_CASE("a layer list describing LeNet-5 is the built-in lenet5, bit for bit") {
  // docs/models/lenet5.json: the same parameters in the same order, the same initialization,
  // the same ops, so the same forward pass, gradient and curvature products to the last bit.
  const char* file = R"({"input": [1, 28, 28], "layers": [
    {"type": "conv2d", "name": "conv1", "out": 6, "kernel": 5, "padding": 2}, {"type": "relu"},
    {"type": "max_pool2d", "kernel": 2},
    {"type": "conv2d", "name": "conv2", "out": 16, "kernel": 5}, {"type": "relu"},
    {"type": "max_pool2d", "kernel": 2}, {"type": "flatten"},
    {"type": "linear", "name": "fc1", "out": 120}, {"type": "relu"},
    {"type": "linear", "name": "fc2", "out": 84}, {"type": "relu"},
    {"type": "linear", "name": "fc3", "out": 10}]})";
  auto built_in = make_model<float>("lenet5");
  auto listed = make_model<float>("sequential", file);
  same_parameters(*built_in, *listed);
  const index_t P = built_in->params().size();
  auto loss = make_loss<float>("cross_entropy");
  Batch<float> batch(*built_in, 6, 4);
  std::vector<float> v(static_cast<std::size_t>(P));
  Rng rng(8);
  for (float& e : v) e = float(rng.normal());
  auto products = [&](Model<float>& m) {
    Objective<float> obj(m, *loss);
    obj.set_batch(batch.rows(0, 6), batch.targets(0));
    std::vector<float> out(static_cast<std::size_t>(3 * P));
    obj.gradient(out.data());
    obj.hvp(v.data(), out.data() + P);
    obj.ggn_vp(v.data(), out.data() + 2 * P);
    return out;
  };
  CHECK(products(*built_in) == products(*listed));
  // Its configuration is the list itself, so a checkpoint rebuilds it.
  CHECK(make_model<float>("sequential", listed->config())->config() == listed->config());
}

// The built-in transformer's layers as a list (docs/models/transformer.json at a small size).
std::string transformer_list(index_t V, index_t d, index_t T, index_t layers, index_t heads) {
  auto str = [](index_t v) { return std::to_string(v); };
  std::string s = R"({"input": [)" + str(T) + R"(], "layers": [
    {"type": "embedding", "name": "tok", "vocab": )" +
                  str(V) + R"(, "dim": )" + str(d) +
                  R"(, "std": 0.02},
    {"type": "positional", "name": "pos", "context": )" +
                  str(T) + R"(, "std": 0.02})";
  for (index_t l = 0; l < layers; ++l) {
    const std::string b = "blocks." + str(l) + ".";
    s += R"(, {"type": "residual", "layers": [{"type": "layer_norm", "name": ")" + b + R"(ln1"},
      {"type": "linear", "name": ")" +
         b + R"(qkv", "out": )" + str(3 * d) + R"(, "std": 0.02},
      {"type": "self_attention", "heads": )" +
         str(heads) + R"(},
      {"type": "linear", "name": ")" +
         b + R"(proj", "out": )" + str(d) + R"(, "std": 0.02}]},
      {"type": "residual", "layers": [{"type": "layer_norm", "name": ")" +
         b + R"(ln2"},
      {"type": "linear", "name": ")" +
         b + R"(fc1", "out": )" + str(4 * d) + R"(, "std": 0.02},
      {"type": "gelu"},
      {"type": "linear", "name": ")" +
         b + R"(fc2", "out": )" + str(d) + R"(, "std": 0.02}]})";
  }
  return s + R"(, {"type": "layer_norm", "name": "ln"},
    {"type": "linear", "name": "head", "out": )" +
         str(V) + R"(, "std": 0.02}]})";
}

TEST_CASE("a layer list describing the transformer is the built-in transformer, bit for bit") {
  const index_t V = 11, d = 8, T = 5, N = 3;
  auto built_in = make_model<float>(
      "transformer", R"({"vocab": 11, "d": 8, "context": 5, "layers": 2, "heads": 2})");
  auto listed = make_model<float>("sequential", transformer_list(V, d, T, 2, 2));
  same_parameters(*built_in, *listed);
  const index_t P = built_in->params().size();
  // Token ids (N, T) and one label per position.
  Tensor<float> ids(Shape{N, T});
  std::vector<std::int64_t> next(static_cast<std::size_t>(N * T));
  Rng rng(8);
  for (index_t i = 0; i < ids.numel(); ++i) ids[i] = float(rng.below(std::uint64_t(V)));
  for (auto& y : next) y = std::int64_t(rng.below(std::uint64_t(V)));
  std::vector<float> v(static_cast<std::size_t>(P));
  for (float& e : v) e = float(rng.normal());
  auto loss = make_loss<float>("cross_entropy");
  auto products = [&](Model<float>& m) {
    Objective<float> obj(m, *loss);
    obj.set_batch(ids.view(), Targets<float>{next.data(), {}});
    std::vector<float> out(static_cast<std::size_t>(3 * P));
    obj.gradient(out.data());
    obj.hvp(v.data(), out.data() + P);
    obj.ggn_vp(v.data(), out.data() + 2 * P);
    const View<const float> o = obj.output();
    CHECK(o.shape == Shape{N * T, V});
    out.insert(out.end(), o.begin(), o.end());
    return out;
  };
  CHECK(products(*built_in) == products(*listed));
}

TEST_CASE("a layer list names the layer that does not fit") {
  auto error = [](const std::string& config) {
    try {
      make_model<float>("sequential", config);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(
      error(R"({"input": [1, 28, 28], "layers": [{"type": "linear", "name": "fc", "out": 10}]})") ==
      "sequential: layers[0] (linear): expected a vector per example (flatten first) or a "
      "sequence, found shape [1,28,28]");
  CHECK(error(R"({"input": [4], "layers": [{"type": "swish"}]})") ==
        "sequential: layers[0]: expected a type among linear, conv2d, max_pool2d, avg_pool2d, "
        "relu, tanh, sigmoid, gelu, flatten, dropout, layer_norm, residual, embedding, "
        "positional, self_attention, found 'swish'");
  CHECK(error(R"({"input": [6], "layers": [{"type": "embedding", "name": "e", "vocab": 5,
        "dim": 4}, {"type": "self_attention", "heads": 1}]})") ==
        "sequential: layers[1] (self_attention): expected packed [q | k | v] of 3·d columns "
        "with d divisible by heads 1, found 4 columns");
  CHECK(error(R"({"input": [6], "layers": [{"type": "embedding", "name": "e", "vocab": 5,
        "dim": 4}, {"type": "positional", "name": "p", "context": 5}]})") ==
        "sequential: layers[1] (positional): expected context >= 6 (the input's positions), "
        "found 5");
  CHECK(error(R"({"input": [4], "layers": [{"type": "dropout", "p": 1}]})") ==
        "sequential: layers[0] (dropout): expected p in [0, 1), found 1");
  CHECK(error(R"({"input": [1, 4, 4], "layers": [{"type": "positional", "name": "p",
        "context": 5}]})") ==
        "sequential: layers[0] (positional): expected a sequence (T, d) per example (after an "
        "embedding), found shape [1,4,4]");
  CHECK(error(R"({"input": [4], "layers": [{"type": "residual", "layers": [
        {"type": "linear", "name": "r", "out": 3}]}]})") ==
        "sequential: layers[0] (residual): expected its layers to keep the shape [4], found [3]");
  CHECK(error(R"({"input": [4], "layers": [{"type": "linear", "out": 3}]})") ==
        "sequential: layers[0] (linear): expected a 'name'");
  CHECK(error(R"({"input": [1, 4, 4], "layers": [{"type": "conv2d", "name": "c", "out": 2,
        "kernel": 5}]})") ==
        "sequential: layers[0]: expected a kernel of at most 4 (the padded input), found 5");
  CHECK(error(R"({"layers": []})") ==
        "sequential: expected keys 'input' (the example's shape) and 'layers', found "
        "{\"layers\":[]}");
}
