// autoencoder: Hinton & Salakhutdinov's deep autoencoder as benchmarked by Martens (2010) and
// Martens & Grosse (2015):
//   784 → enc1 1000 → enc2 500 → enc3 250 → enc4 30 (linear code)
//       → dec1 250 → dec2 500 → dec3 1000 → dec4 784 (logits of a sigmoid BCE on the input)
// Hidden units are logistic ("sigmoid") or tanh. Initialization: PyTorch's default, or Martens'
// sparse one ("sparse": each unit gets 15 non-zero N(0,1) incoming weights, biases zero).
#include <numeric>

#include "curv/ops/ops.hpp"
#include "registry.hpp"

namespace curv {
namespace {

constexpr index_t kWidths[] = {784, 1000, 500, 250, 30, 250, 500, 1000, 784};

template <class T>
class Autoencoder final : public Model<T> {
 public:
  Autoencoder(std::string activation, std::string init)
      : activation_(std::move(activation)), init_(std::move(init)) {
    CURV_CHECK(activation_ == "sigmoid" || activation_ == "tanh",
               "autoencoder: expected activation sigmoid or tanh, found '", activation_, "'");
    CURV_CHECK(init_ == "default" || init_ == "sparse",
               "autoencoder: expected init default or sparse, found '", init_, "'");
    for (int l = 0; l < 8; ++l) {
      const std::string name =
          l < 4 ? "enc" + std::to_string(l + 1) : "dec" + std::to_string(l - 3);
      layers_.push_back(this->add_affine(name, Shape{kWidths[l + 1], kWidths[l]}));
    }
  }

  std::string name() const override { return "autoencoder"; }
  std::string config() const override {
    return detail::Config{{"activation", activation_}, {"init", init_}}.dump();
  }
  Shape input_shape() const override { return Shape{1, 28, 28}; }
  index_t outputs() const override { return 784; }
  std::string loss() const override { return "bce"; }

  Value forward(Tape<T>& t, Value x) const override {
    Value h = ops::flatten(t, x);  // (N,784)
    for (int l = 0; l < 8; ++l) {
      h = ops::linear(t, h, this->weight(layers_[std::size_t(l)]),
                      this->bias(layers_[std::size_t(l)]));
      if (l != 3 && l != 7)
        h = activation_ == "sigmoid" ? ops::sigmoid(t, h)
                                     : ops::tanh(t, h);  // code and output linear
    }
    return h;  // (N,784) logits
  }

  void init(Rng& rng) override {
    Model<T>::init(rng);
    if (init_ != "sparse") return;
    for (index_t w : layers_) {
      View<T> W = this->params_.value(w);
      const index_t out = W.shape[0], in = W.shape[1];
      std::vector<index_t> cols(static_cast<std::size_t>(in));
      for (index_t o = 0; o < out; ++o) {
        std::fill(W.data + o * in, W.data + (o + 1) * in, T(0));
        std::iota(cols.begin(), cols.end(), 0);
        for (index_t k = 0; k < std::min<index_t>(15, in); ++k) {  // 15 distinct inputs
          std::swap(cols[std::size_t(k)],
                    cols[std::size_t(k + index_t(rng.below(std::uint64_t(in - k))))]);
          W[o * in + cols[std::size_t(k)]] = T(rng.normal());
        }
      }
      View<T> b = this->params_.value(w + 1);
      std::fill(b.begin(), b.end(), T(0));
    }
  }

 private:
  std::string activation_, init_;
  std::vector<index_t> layers_;
};

}  // namespace

namespace detail {
template <class T>
std::unique_ptr<Model<T>> make_autoencoder_model(const Config& cfg) {
  expect_keys(cfg, "autoencoder", {"activation", "init"});
  return std::make_unique<Autoencoder<T>>(
      get<std::string>(cfg, "autoencoder", "activation", "sigmoid"),
      get<std::string>(cfg, "autoencoder", "init", "default"));
}
template std::unique_ptr<Model<float>> make_autoencoder_model<float>(const Config&);
template std::unique_ptr<Model<double>> make_autoencoder_model<double>(const Config&);
}  // namespace detail
}  // namespace curv
