// mlp: fc1 → act → fc2 → act → … → fcK (no activation after the last layer).
#include "curv/nn/model.hpp"
#include "curv/ops/ops.hpp"

namespace curv {
namespace {

template <class T>
class Mlp final : public Model<T> {
 public:
  Mlp(const std::vector<index_t>& widths, const std::string& activation)
      : widths_(widths), activation_(activation) {
    CURV_CHECK(widths.size() >= 2, "mlp: expected at least two widths (in, out), found ", widths.size());
    CURV_CHECK(activation == "relu" || activation == "tanh" || activation == "sigmoid" || activation == "gelu",
               "mlp: expected activation relu, tanh, sigmoid or gelu, found '", activation, "'");
    for (std::size_t l = 1; l < widths.size(); ++l)
      layers_.push_back(this->add_affine("fc" + std::to_string(l), Shape{widths[l], widths[l - 1]}));
  }

  std::string name() const override { return "mlp"; }
  Shape input_shape() const override { return Shape{widths_.front()}; }
  index_t outputs() const override { return widths_.back(); }

  Value forward(Tape<T>& t, Value x) const override {
    Value h = ops::flatten(t, x);  // (N, in)
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      h = ops::linear(t, h, this->weight(layers_[l]), this->bias(layers_[l]));  // (N, widths[l+1])
      if (l + 1 < layers_.size()) h = act(t, h);
    }
    return h;
  }

 private:
  Value act(Tape<T>& t, Value h) const {
    if (activation_ == "relu") return ops::relu(t, h);
    if (activation_ == "tanh") return ops::tanh(t, h);
    if (activation_ == "sigmoid") return ops::sigmoid(t, h);
    return ops::gelu(t, h);
  }
  std::vector<index_t> widths_;
  std::string activation_;
  std::vector<index_t> layers_;  // weight index of each fc layer
};

}  // namespace

template <class T>
std::unique_ptr<Model<T>> make_mlp(const std::vector<index_t>& widths, const std::string& activation) {
  return std::make_unique<Mlp<T>>(widths, activation);
}

template std::unique_ptr<Model<float>> make_mlp<float>(const std::vector<index_t>&, const std::string&);
template std::unique_ptr<Model<double>> make_mlp<double>(const std::vector<index_t>&, const std::string&);

}  // namespace curv
