// sequential: a model described by data — `curv train --model-file net.json` — instead of code.
// Its configuration is the file: the input shape and a list of layers, applied in order,
//   {"input": [1, 28, 28],
//    "layers": [{"type": "conv2d", "name": "conv1", "out": 6, "kernel": 5, "padding": 2},
//               {"type": "relu"}, {"type": "max_pool2d", "kernel": 2}, …,
//               {"type": "flatten"}, {"type": "linear", "name": "fc1", "out": 120}, …]}
// Layer types (keys beyond "type"; defaults in brackets):
//   linear      name, out, bias [true], std         a vector (N, in) or a sequence (N, T, in)
//   conv2d      name, out, kernel, stride [1], padding [0], bias [true]      (N, C, H, W) input
//   max_pool2d  kernel, stride [kernel], padding [0]    avg_pool2d  kernel, stride [kernel]
//   relu, tanh, sigmoid, gelu, flatten
//   dropout     p                                   while training only (Model::training_rng)
//   layer_norm  name                                over the last dimension
//   residual    layers: a list as above, whose output must have its input's shape; x + f(x)
//   embedding   name, vocab, dim, std [1]           token ids (N, T) → (N, T, dim); input [T]
//   positional  name, context, std [0.02]           learned positions added, T ≤ context
//   self_attention  heads, causal [true]            packed [q | k | v] (N, T, 3d) → (N, T, d)
// Parameters are named NAME.weight / NAME.bias in layer order and initialized as the built-in
// models' (PyTorch's rules; a linear layer with "std" draws N(0, std²) weights and zero biases,
// as GPT-2 and the built-in transformer do), so a file describing LeNet-5 or the transformer
// gives the built-in model's parameters, forward pass and training run bit for bit
// (tests/test_objective.cpp, tests/cli_workflow.sh). A list ending in a vector per example
// gives (N, out); one ending in a sequence gives one row per position, (N·T, out), as the
// built-in language models. Every op is one of the library's, with its four passes, so every
// curvature method applies.
#include <functional>

#include "curv/ops/ops.hpp"
#include "registry.hpp"

namespace curv {
namespace {

Shape to_shape(const std::vector<index_t>& dims) {
  Shape s;
  for (index_t d : dims) s.push_back(d);
  return s;
}

struct Layer {
  std::string type;
  index_t param = -1;  // the weight's index (linear, conv2d, layer_norm, embedding, positional)
  index_t kernel = 0, stride = 1, padding = 0;
  index_t heads = 0;        // self_attention
  bool causal = true;       // self_attention
  double p = 0;             // dropout
  std::vector<Layer> body;  // residual
};

template <class T>
class Sequential final : public Model<T> {
  using InitRule = typename Model<T>::InitRule;

 public:
  explicit Sequential(const detail::Config& cfg) : config_(cfg) {
    detail::expect_keys(cfg, "sequential", {"input", "layers"});
    CURV_CHECK(cfg.contains("input") && cfg.contains("layers"),
               "sequential: expected keys 'input' (the example's shape) and 'layers', found ",
               cfg.dump());
    const auto input = detail::get<std::vector<index_t>>(cfg, "sequential", "input", {});
    CURV_CHECK(!input.empty(), "sequential: expected a non-empty input shape, found none");
    for (index_t d : input)
      CURV_CHECK(d > 0, "sequential: expected positive input sizes, found ", d);
    CURV_CHECK(input.size() <= std::size_t(Shape::kMaxRank), "sequential: expected an input of ",
               "at most ", Shape::kMaxRank, " dimensions, found ", input.size());
    input_ = to_shape(input);
    std::vector<index_t> shape = input;
    layers_ = build(cfg.at("layers"), shape, "layers");
    CURV_CHECK(shape.size() == 1 || (shape.size() == 2 && tokens_),
               "sequential: expected the last layer to give a vector per "
               "example (end with flatten or linear), found shape ",
               to_shape(shape).str());
    outputs_ = shape.back();
  }

  std::string name() const override { return "sequential"; }
  std::string config() const override { return config_.dump(); }
  Shape input_shape() const override { return input_; }
  index_t outputs() const override { return outputs_; }

  Value forward(Tape<T>& t, Value x) const override {
    const Value out = apply(t, layers_, x);
    if (!tokens_) return out;
    const Shape s = t.shape(out);  // (N, T, out) → (N·T, out): one row per position
    return ops::reshape(t, out, Shape{s[0] * s[1], s[2]});
  }

 private:
  // Layers of `list`, tracking the example's shape through them (`shape` updated in place).
  std::vector<Layer> build(const nlohmann::json& list, std::vector<index_t>& shape,
                           const std::string& where) {
    CURV_CHECK(list.is_array(), "sequential: expected '", where, "' to be a list, found ",
               list.dump());
    std::vector<Layer> out;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const nlohmann::json& j = list[i];
      const std::string at = where + "[" + std::to_string(i) + "]";
      CURV_CHECK(j.is_object() && j.contains("type") && j.at("type").is_string(),
                 "sequential: expected ", at, " to be an object with a 'type', found ", j.dump());
      Layer L;
      L.type = j.at("type").get<std::string>();
      const char* what = L.type.c_str();
      auto integer = [&](const char* key, index_t fallback) {
        const auto v = detail::get<index_t>(j, what, key, fallback);
        CURV_CHECK(v >= 0, "sequential: ", at, " (", L.type, "): expected ", key, " >= 0, found ",
                   v);
        return v;
      };
      auto name = [&] {
        const auto n = detail::get<std::string>(j, what, "name", "");
        CURV_CHECK(!n.empty(), "sequential: ", at, " (", L.type, "): expected a 'name'");
        return n;
      };
      auto deviation = [&](double fallback) {
        const auto v = detail::get<double>(j, what, "std", fallback);
        CURV_CHECK(v > 0, "sequential: ", at, " (", L.type, "): expected std > 0, found ", v);
        return v;
      };
      auto sequence = [&](const char* of) {
        CURV_CHECK(shape.size() == 2 && tokens_, "sequential: ", at, " (", L.type,
                   "): expected a sequence (T, ", of,
                   ") per example (after an embedding), found "
                   "shape ",
                   to_shape(shape).str());
      };
      if (L.type == "linear") {
        detail::expect_keys(j, what, {"type", "name", "out", "bias", "std"});
        CURV_CHECK(shape.size() == 1 || (shape.size() == 2 && tokens_), "sequential: ", at,
                   " (linear): expected a vector per example (flatten first) or a sequence, "
                   "found shape ",
                   to_shape(shape).str());
        const index_t o = integer("out", 0);
        CURV_CHECK(o > 0, "sequential: ", at, " (linear): expected out >= 1");
        const bool bias = detail::get<bool>(j, what, "bias", true);
        if (j.contains("std")) {  // GPT-2's rule: N(0, std²) weights, zero biases
          const InitRule normal{InitRule::Kind::Normal, deviation(1)};
          L.param = bias ? this->add_linear(name(), o, shape.back(), normal)
                         : this->add_param(name() + ".weight", Shape{o, shape.back()}, normal);
        } else {
          L.param = this->add_affine(name(), Shape{o, shape.back()}, bias);
        }
        shape.back() = o;
      } else if (L.type == "conv2d") {
        detail::expect_keys(j, what,
                            {"type", "name", "out", "kernel", "stride", "padding", "bias"});
        CURV_CHECK(shape.size() == 3, "sequential: ", at,
                   " (conv2d): expected (C, H, W) "
                   "examples, found shape ",
                   to_shape(shape).str());
        const index_t o = integer("out", 0);
        L.kernel = integer("kernel", 0), L.stride = integer("stride", 1);
        L.padding = integer("padding", 0);
        CURV_CHECK(o > 0 && L.kernel > 0 && L.stride > 0, "sequential: ", at,
                   " (conv2d): expected out, kernel and stride >= 1");
        L.param = this->add_affine(name(), Shape{o, shape[0], L.kernel, L.kernel},
                                   detail::get<bool>(j, what, "bias", true));
        shape = {o, spatial(shape[1], L, at), spatial(shape[2], L, at)};
      } else if (L.type == "max_pool2d" || L.type == "avg_pool2d") {
        detail::expect_keys(
            j, what,
            L.type == "max_pool2d"
                ? std::initializer_list<const char*>{"type", "kernel", "stride", "padding"}
                : std::initializer_list<const char*>{"type", "kernel", "stride"});
        CURV_CHECK(shape.size() == 3, "sequential: ", at, " (", L.type,
                   "): expected (C, H, W) examples, found shape ", to_shape(shape).str());
        L.kernel = integer("kernel", 0);
        CURV_CHECK(L.kernel > 0, "sequential: ", at, " (", L.type, "): expected kernel >= 1");
        L.stride = integer("stride", L.kernel), L.padding = integer("padding", 0);
        CURV_CHECK(L.stride > 0, "sequential: ", at, " (", L.type, "): expected stride >= 1");
        shape = {shape[0], spatial(shape[1], L, at), spatial(shape[2], L, at)};
      } else if (L.type == "relu" || L.type == "tanh" || L.type == "sigmoid" || L.type == "gelu") {
        detail::expect_keys(j, what, {"type"});
      } else if (L.type == "dropout") {
        detail::expect_keys(j, what, {"type", "p"});
        L.p = detail::get<double>(j, what, "p", 0.5);
        CURV_CHECK(L.p >= 0 && L.p < 1, "sequential: ", at, " (dropout): expected p in [0, 1), ",
                   "found ", L.p);
      } else if (L.type == "embedding") {
        detail::expect_keys(j, what, {"type", "name", "vocab", "dim", "std"});
        CURV_CHECK(i == 0 && where == "layers" && shape.size() == 1, "sequential: ", at,
                   " (embedding): expected to be the first layer, on token ids of shape [T]");
        const index_t V = integer("vocab", 0), d = integer("dim", 0);
        CURV_CHECK(V > 0 && d > 0, "sequential: ", at, " (embedding): expected vocab, dim >= 1");
        L.param = this->add_param(name() + ".weight", Shape{V, d},
                                  {InitRule::Kind::Normal, deviation(1)});
        tokens_ = true;
        shape = {shape[0], d};
      } else if (L.type == "positional") {
        detail::expect_keys(j, what, {"type", "name", "context", "std"});
        sequence("d");
        const index_t context = integer("context", 0);
        CURV_CHECK(context >= shape[0], "sequential: ", at,
                   " (positional): expected context >= ", shape[0],
                   " (the input's positions), found ", context);
        L.param = this->add_param(name() + ".weight", Shape{context, shape[1]},
                                  {InitRule::Kind::Normal, deviation(0.02)});
      } else if (L.type == "self_attention") {
        detail::expect_keys(j, what, {"type", "heads", "causal"});
        sequence("3d");
        L.heads = integer("heads", 0), L.causal = detail::get<bool>(j, what, "causal", true);
        CURV_CHECK(L.heads > 0 && shape[1] % (3 * L.heads) == 0, "sequential: ", at,
                   " (self_attention): expected packed [q | k | v] of 3·d columns with d "
                   "divisible by heads ",
                   L.heads, ", found ", shape[1], " columns");
        shape[1] /= 3;
      } else if (L.type == "flatten") {
        detail::expect_keys(j, what, {"type"});
        index_t n = 1;
        for (index_t d : shape) n *= d;
        shape = {n};
      } else if (L.type == "layer_norm") {
        detail::expect_keys(j, what, {"type", "name"});
        L.param = this->add_layer_norm(name(), shape.back());
      } else if (L.type == "residual") {
        detail::expect_keys(j, what, {"type", "layers"});
        CURV_CHECK(j.contains("layers"), "sequential: ", at, " (residual): expected 'layers'");
        std::vector<index_t> inner = shape;
        L.body = build(j.at("layers"), inner, at + ".layers");
        CURV_CHECK(inner == shape, "sequential: ", at, " (residual): expected its layers to keep ",
                   "the shape ", to_shape(shape).str(), ", found ", to_shape(inner).str());
      } else {
        fail("sequential: ", at,
             ": expected a type among linear, conv2d, max_pool2d, avg_pool2d, "
             "relu, tanh, sigmoid, gelu, flatten, dropout, layer_norm, residual, embedding, "
             "positional, self_attention, found '",
             L.type, "'");
      }
      out.push_back(std::move(L));
    }
    return out;
  }

  static index_t spatial(index_t n, const Layer& L, const std::string& at) {
    const index_t span = n + 2 * L.padding - L.kernel;
    CURV_CHECK(span >= 0, "sequential: ", at, ": expected a kernel of at most ", n + 2 * L.padding,
               " (the padded input), found ", L.kernel);
    return span / L.stride + 1;
  }

  Value apply(Tape<T>& t, const std::vector<Layer>& layers, Value h) const {
    for (const Layer& L : layers) {
      if (L.type == "linear")
        h = ops::linear(t, h, this->weight(L.param), this->bias(L.param));
      else if (L.type == "conv2d")
        h = ops::conv2d(t, h, this->weight(L.param), this->bias(L.param), L.stride, L.padding);
      else if (L.type == "max_pool2d")
        h = ops::max_pool2d(t, h, L.kernel, L.stride, L.padding);
      else if (L.type == "avg_pool2d")
        h = ops::avg_pool2d(t, h, L.kernel, L.stride);
      else if (L.type == "relu")
        h = ops::relu(t, h);
      else if (L.type == "tanh")
        h = ops::tanh(t, h);
      else if (L.type == "sigmoid")
        h = ops::sigmoid(t, h);
      else if (L.type == "gelu")
        h = ops::gelu(t, h);
      else if (L.type == "flatten")
        h = ops::flatten(t, h);
      else if (L.type == "dropout") {
        if (Rng* rng = this->training_rng(); rng && L.p > 0) h = ops::dropout(t, h, L.p, *rng);
      } else if (L.type == "layer_norm")
        h = ops::layer_norm(t, h, this->weight(L.param), this->bias(L.param));
      else if (L.type == "embedding")
        h = ops::embedding(t, h, this->weight(L.param));  // (N,T) ids → (N,T,d)
      else if (L.type == "positional")
        h = ops::positional(t, h, this->weight(L.param));
      else if (L.type == "self_attention")
        h = ops::self_attention(t, h, L.heads, L.causal);  // (N,T,3d) → (N,T,d)
      else
        h = ops::add(t, h, apply(t, L.body, h));  // residual
    }
    return h;
  }

  detail::Config config_;
  Shape input_;
  index_t outputs_ = 0;
  bool tokens_ = false;  // token ids in, one output row per position
  std::vector<Layer> layers_;
};

}  // namespace

namespace detail {
template <class T>
std::unique_ptr<Model<T>> make_sequential_model(const Config& cfg) {
  return std::make_unique<Sequential<T>>(cfg);
}
template std::unique_ptr<Model<float>> make_sequential_model<float>(const Config&);
template std::unique_ptr<Model<double>> make_sequential_model<double>(const Config&);
}  // namespace detail

}  // namespace curv
