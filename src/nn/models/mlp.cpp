// mlp: fc1 → act → fc2 → act → … → fcK (no activation after the last layer). Activation "none"
// gives a deep linear network, the setting where K-FAC's factorization is exact for the GGN.
// "bias": false drops every bias (WoodFisher's MNIST MLP, 784-40-20-10, has none).
// "norm": "layer" puts a LayerNorm (normK, affine) after each hidden layer's linear map, before
// its activation: the scale-invariant groups the linearized Laplace evidence treats apart.
// "loss": "mse" makes it a regression network (ℓ = ½‖y − f(x)‖²); cross_entropy by default.
#include "curv/ops/ops.hpp"
#include "registry.hpp"

namespace curv {
namespace {

template <class T>
class Mlp final : public Model<T> {
 public:
  Mlp(std::vector<index_t> widths, std::string activation, bool bias, std::string norm,
      std::string loss)
      : widths_(std::move(widths)),
        activation_(std::move(activation)),
        norm_(std::move(norm)),
        loss_(std::move(loss)),
        bias_(bias) {
    CURV_CHECK(widths_.size() >= 2, "mlp: expected at least two widths (in, out), found ",
               widths_.size());
    for (index_t w : widths_) CURV_CHECK(w > 0, "mlp: expected positive widths, found ", w);
    CURV_CHECK(activation_ == "relu" || activation_ == "tanh" || activation_ == "sigmoid" ||
                   activation_ == "gelu" || activation_ == "none",
               "mlp: expected activation relu, tanh, sigmoid, gelu or none, found '", activation_,
               "'");
    CURV_CHECK(norm_ == "none" || norm_ == "layer", "mlp: expected norm none or layer, found '",
               norm_, "'");
    CURV_CHECK(loss_ == "cross_entropy" || loss_ == "mse",
               "mlp: expected loss cross_entropy or mse, found '", loss_, "'");
    for (std::size_t l = 1; l < widths_.size(); ++l) {
      layers_.push_back(
          this->add_affine("fc" + std::to_string(l), Shape{widths_[l], widths_[l - 1]}, bias_));
      if (norm_ == "layer" && l + 1 < widths_.size())
        norms_.push_back(this->add_layer_norm("norm" + std::to_string(l), widths_[l]));
    }
  }

  std::string name() const override { return "mlp"; }
  std::string config() const override {
    detail::Config c{{"widths", widths_}, {"activation", activation_}};
    if (!bias_) c["bias"] = false;  // written only when set, so older configurations read back
    if (norm_ != "none") c["norm"] = norm_;
    if (loss_ != "cross_entropy") c["loss"] = loss_;
    return c.dump();
  }
  std::string loss() const override { return loss_; }
  Shape input_shape() const override { return Shape{widths_.front()}; }
  index_t outputs() const override { return widths_.back(); }

  Value forward(Tape<T>& t, Value x) const override {
    Value h = ops::flatten(t, x);  // (N, in)
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      h = ops::linear(t, h, this->weight(layers_[l]), this->bias(layers_[l]));  // (N, widths[l+1])
      if (l + 1 == layers_.size()) break;
      if (!norms_.empty())
        h = ops::layer_norm(t, h, this->weight(norms_[l]), this->bias(norms_[l]));
      if (activation_ != "none") h = act(t, h);
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
  std::string activation_, norm_, loss_;
  bool bias_;
  std::vector<index_t> layers_;  // weight index of each fc layer
  std::vector<index_t> norms_;   // weight index of each hidden layer's LayerNorm (norm "layer")
};

}  // namespace

namespace detail {
template <class T>
std::unique_ptr<Model<T>> make_mlp_model(const Config& cfg) {
  expect_keys(cfg, "mlp", {"widths", "activation", "bias", "norm", "loss"});
  return std::make_unique<Mlp<T>>(
      get<std::vector<index_t>>(cfg, "mlp", "widths", {784, 256, 256, 10}),
      get<std::string>(cfg, "mlp", "activation", "relu"), get<bool>(cfg, "mlp", "bias", true),
      get<std::string>(cfg, "mlp", "norm", "none"),
      get<std::string>(cfg, "mlp", "loss", "cross_entropy"));
}
template std::unique_ptr<Model<float>> make_mlp_model<float>(const Config&);
template std::unique_ptr<Model<double>> make_mlp_model<double>(const Config&);
}  // namespace detail
}  // namespace curv
