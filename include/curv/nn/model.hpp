// Model: a parameter store plus a forward function that records itself on a tape.
// Models are explicit: forward() calls op builders layer by layer, so the graph a model records
// is the code a reader sees.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "curv/autodiff/tape.hpp"
#include "curv/core/rng.hpp"
#include "curv/nn/params.hpp"

namespace curv {

template <class T>
class Model {
 public:
  virtual ~Model() = default;
  virtual std::string name() const = 0;
  // Shape of one example, e.g. {1,28,28}; inputs are (N, input_shape...).
  virtual Shape input_shape() const = 0;
  virtual index_t outputs() const = 0;
  // Records the forward pass of x:(N, input_shape...) and returns the output (N, outputs()).
  virtual Value forward(Tape<T>& t, Value x) const = 0;
  // PyTorch's default initialization: U(−1/√fan_in, 1/√fan_in) for weights and biases.
  virtual void init(Rng& rng);

  ParamStore<T>& params() { return params_; }
  const ParamStore<T>& params() const { return params_; }

 protected:
  // A weight and bias pair named NAME.weight, NAME.bias; returns the weight's index.
  index_t add_affine(const std::string& name, Shape weight_shape, bool bias = true);
  // (weight, bias) refs of the affine layer whose weight has index w (bias may be absent).
  ParamRef<T> weight(index_t w) const { return params_.ref(w); }
  ParamRef<T> bias(index_t w) const;

  ParamStore<T> params_;
};

// One multi-layer perceptron, widths {in, h1, …, out}, activation "relu", "tanh", "sigmoid" or
// "gelu" between layers, layers named fc1..fcK.
template <class T>
std::unique_ptr<Model<T>> make_mlp(const std::vector<index_t>& widths, const std::string& activation = "relu");

// LeNet-5: conv 6@5×5 (pad 2 for 1×28×28 inputs, pad 0 for 3×32×32), ReLU, max-pool 2,
// conv 16@5×5, ReLU, max-pool 2, fc 120, ReLU, fc 84, ReLU, fc 10.
template <class T>
std::unique_ptr<Model<T>> make_lenet5(index_t channels = 1);

// A model by name: "mlp" (784-256-256-10 ReLU), "lenet5", "lenet5-cifar"; throws curv::Error
// listing the known names otherwise.
template <class T>
std::unique_ptr<Model<T>> make_model(const std::string& name);

}  // namespace curv
