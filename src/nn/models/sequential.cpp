// sequential: a model described by data — `curv train --model-file net.json` — instead of code.
// Its configuration is the file: the input shape and a list of layers, applied in order,
//   {"input": [1, 28, 28],
//    "layers": [{"type": "conv2d", "name": "conv1", "out": 6, "kernel": 5, "padding": 2},
//               {"type": "relu"}, {"type": "max_pool2d", "kernel": 2}, …,
//               {"type": "flatten"}, {"type": "linear", "name": "fc1", "out": 120}, …]}
// Layer types (keys beyond "type"; defaults in brackets):
//   linear      name, out, bias [true]                  rank-1 input (N, in) → (N, out)
//   conv2d      name, out, kernel, stride [1], padding [0], bias [true]      (N, C, H, W) input
//   max_pool2d  kernel, stride [kernel], padding [0]    avg_pool2d  kernel, stride [kernel]
//   relu, tanh, sigmoid, gelu, flatten
//   layer_norm  name                                    over the last dimension
//   residual    layers: a list as above, whose output must have its input's shape; x + f(x)
// Parameters are named NAME.weight / NAME.bias in layer order and initialized as the built-in
// models' (PyTorch's rules), so a file describing LeNet-5 gives the built-in lenet5's parameters,
// forward pass and training run bit for bit (tests/test_models.cpp, tests/cli_model_file.sh).
// Every op is one of the library's, with its four passes, so every curvature method applies.
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
  index_t param = -1;  // the weight's index (linear, conv2d, layer_norm)
  index_t kernel = 0, stride = 1, padding = 0;
  std::vector<Layer> body;  // residual
};

template <class T>
class Sequential final : public Model<T> {
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
    CURV_CHECK(shape.size() == 1,
               "sequential: expected the last layer to give a vector per "
               "example (end with flatten or linear), found shape ",
               to_shape(shape).str());
    outputs_ = shape.front();
  }

  std::string name() const override { return "sequential"; }
  std::string config() const override { return config_.dump(); }
  Shape input_shape() const override { return input_; }
  index_t outputs() const override { return outputs_; }

  Value forward(Tape<T>& t, Value x) const override { return apply(t, layers_, x); }

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
      if (L.type == "linear") {
        detail::expect_keys(j, what, {"type", "name", "out", "bias"});
        CURV_CHECK(shape.size() == 1, "sequential: ", at,
                   " (linear): expected a vector per "
                   "example (flatten first), found shape ",
                   to_shape(shape).str());
        const index_t o = integer("out", 0);
        CURV_CHECK(o > 0, "sequential: ", at, " (linear): expected out >= 1");
        L.param =
            this->add_affine(name(), Shape{o, shape[0]}, detail::get<bool>(j, what, "bias", true));
        shape = {o};
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
             "relu, tanh, sigmoid, gelu, flatten, layer_norm, residual, found '",
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
      else if (L.type == "layer_norm")
        h = ops::layer_norm(t, h, this->weight(L.param), this->bias(L.param));
      else
        h = ops::add(t, h, apply(t, L.body, h));  // residual
    }
    return h;
  }

  detail::Config config_;
  Shape input_;
  index_t outputs_ = 0;
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
