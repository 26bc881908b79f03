// Model: a parameter store plus a forward function that records itself on a tape.
// Models are explicit: forward() calls op builders layer by layer, so the graph a model records
// is the code a reader sees. Every model has a name and a configuration (a JSON object with all
// of its settings), which together rebuild it: that is what checkpoints store.
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
  // Every setting, as a JSON object text (e.g. {"widths":[784,256,256,10],"activation":"relu"}).
  virtual std::string config() const = 0;
  // Shape of one example, e.g. {1,28,28}; inputs are (N, input_shape...). Token models take
  // integer token ids held as T.
  virtual Shape input_shape() const = 0;
  // Outputs per example (per position for sequence models).
  virtual index_t outputs() const = 0;
  // Records the forward pass of x:(N, input_shape...) and returns the output: (N, outputs()),
  // or (N·T, outputs()) for sequence models, one row per position.
  virtual Value forward(Tape<T>& t, Value x) const = 0;
  // The loss the model is trained with: "cross_entropy" on class labels, or "bce" to
  // reconstruct its input (the autoencoder).
  virtual std::string loss() const { return "cross_entropy"; }
  // Fresh parameters: each one by the rule it was added with (PyTorch's defaults unless the
  // model documents otherwise).
  virtual void init(Rng& rng);

  ParamStore<T>& params() { return params_; }
  const ParamStore<T>& params() const { return params_; }

  // Training-time randomness (dropout masks): a stream while the training loop records a step,
  // none otherwise, so evaluation and every curvature product see the deterministic model.
  // Ops draw from it as they are recorded; every pass of that recording reuses their draws.
  void set_training_rng(Rng* rng) { training_rng_ = rng; }
  Rng* training_rng() const { return training_rng_; }

 protected:
  struct InitRule {
    enum class Kind { Uniform, Normal, Constant };
    Kind kind;
    double value;  // the uniform bound, the normal's standard deviation, or the constant
  };
  index_t add_param(const std::string& name, Shape shape, InitRule rule);
  // A weight and bias pair named NAME.weight, NAME.bias, both U(±1/√fan_in) as PyTorch's Linear
  // and Conv2d; returns the weight's index.
  index_t add_affine(const std::string& name, Shape weight_shape, bool bias = true);
  // NAME.weight (out,in) drawn by `rule`, NAME.bias zero (transformer layers); the weight's index.
  index_t add_linear(const std::string& name, index_t out, index_t in, InitRule rule);
  // NAME.weight ones and NAME.bias zeros, both (d): a LayerNorm's affine map.
  index_t add_layer_norm(const std::string& name, index_t d);
  // (weight, bias) refs of the affine layer whose weight has index w (bias may be absent).
  ParamRef<T> weight(index_t w) const { return params_.ref(w); }
  ParamRef<T> bias(index_t w) const;

  ParamStore<T> params_;
  std::vector<InitRule> rules_;  // one per parameter

 private:
  Rng* training_rng_ = nullptr;
};

// A model by name and configuration (JSON object text; missing keys take their defaults):
//   mlp           {"widths":[784,256,256,10], "activation":"relu"}      layers fc1..fcK
//                 ("bias": false: no biases; "norm": "layer": LayerNorms; "loss": "mse":
//                 a regression network)
//   lenet5        {"channels":1}  (3 for CIFAR-10's 32×32; "lenet5-cifar" is that preset)
//   autoencoder   {"activation":"sigmoid"|"tanh", "init":"default"|"sparse"}
//   cifar-cnn     DeepOBS's 3c3d                                          conv1..3, fc1..3
//   transformer   {"vocab":83, "d":128, "context":64, "layers":2, "heads":4}
//   t2t           {"vocab":42, "d":128, "heads":4, "encoder_layers":2, "decoder_layers":2,
//                  "source":24, "target":14}
// Throws curv::Error naming the known models, or the offending key, otherwise.
template <class T>
std::unique_ptr<Model<T>> make_model(const std::string& name, const std::string& config = "{}");

template <class T>
std::unique_ptr<Model<T>> make_mlp(const std::vector<index_t>& widths,
                                   const std::string& activation = "relu");

std::vector<std::string> model_names();

}  // namespace curv
