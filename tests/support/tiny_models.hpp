// Tiny float64 models for tests that compare curvature with its dense definition: small enough
// (< 200 parameters) to materialize every matrix, and shaped to exercise each kind of layer
// K-FAC distinguishes: plain linear layers, a convolution with several output positions (KFC)
// and a linear layer applied to every token of a sequence ("expand"). Each remembers the value
// its first layer produced, so tests can read that layer's output adjoints straight off the tape.
#pragma once

#include <string>

#include "curv/curvature/data.hpp"
#include "curv/data/batch_source.hpp"
#include "curv/ops/ops.hpp"

namespace curv::testing {

// fc1 → act → fc2 → act → fc3 with widths (in, h1, h2, out); act "none" = deep linear network.
class TinyMlp final : public Model<double> {
 public:
  TinyMlp(std::vector<index_t> widths, std::string act, std::string loss)
      : widths_(std::move(widths)), act_(std::move(act)), loss_(std::move(loss)) {
    for (std::size_t l = 1; l < widths_.size(); ++l)
      layers_.push_back(add_affine("fc" + std::to_string(l), Shape{widths_[l], widths_[l - 1]}));
  }
  std::string name() const override { return "tiny-mlp"; }
  std::string config() const override { return "{}"; }
  Shape input_shape() const override { return Shape{widths_.front()}; }
  index_t outputs() const override { return widths_.back(); }
  std::string loss() const override { return loss_; }
  Value forward(Tape<double>& t, Value x) const override {
    Value h = x;
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      h = ops::linear(t, h, weight(layers_[l]), bias(layers_[l]));
      if (l == 0) first_ = h;
      if (l + 1 < layers_.size() && act_ == "tanh") h = ops::tanh(t, h);
    }
    return h;
  }
  mutable Value first_;

 private:
  std::vector<index_t> widths_;
  std::string act_, loss_;
  std::vector<index_t> layers_;
};

// conv (3×3, stride 1, no padding) → tanh → flatten → fc (3). The default, "tiny-conv", maps
// (1,5,5) through 2 channels at 9 positions (18 features); "tiny-conv-wide" maps (2,4,4) through
// 4 channels at 4 positions (16), a conv layer whose patches and adjoints are fewer numbers than
// its Jacobian rows (4·(3·4 + 19) ≤ 3·4·19), so factored Jacobians take it in factored form
// (curvature/gradients.hpp).
class TinyConv final : public Model<double> {
 public:
  explicit TinyConv(bool wide = false)
      : name_(wide ? "tiny-conv-wide" : "tiny-conv"),
        input_(wide ? Shape{2, 4, 4} : Shape{1, 5, 5}) {
    const index_t channels = wide ? 4 : 2, side = input_[1] - 2;
    conv_ = add_affine("conv", Shape{channels, input_[0], 3, 3});
    fc_ = add_affine("fc", Shape{3, channels * side * side});
  }
  std::string name() const override { return name_; }
  std::string config() const override { return "{}"; }
  Shape input_shape() const override { return input_; }
  index_t outputs() const override { return 3; }
  Value forward(Tape<double>& t, Value x) const override {
    first_ = ops::conv2d(t, x, weight(conv_), bias(conv_), 1, 0);  // (N,channels,side,side)
    Value h = ops::flatten(t, ops::tanh(t, first_));
    return ops::linear(t, h, weight(fc_), bias(fc_));
  }
  mutable Value first_;

 private:
  std::string name_;
  Shape input_;
  index_t conv_, fc_;
};

// tokens (N,3,2) → fc1 on every token (N,3,4) → tanh → reshape (N,12) → fc2 (3).
class TinySequence final : public Model<double> {
 public:
  TinySequence() {
    fc1_ = add_affine("fc1", Shape{4, 2});
    fc2_ = add_affine("fc2", Shape{3, 12});
  }
  std::string name() const override { return "tiny-sequence"; }
  std::string config() const override { return "{}"; }
  Shape input_shape() const override { return Shape{3, 2}; }
  index_t outputs() const override { return 3; }
  Value forward(Tape<double>& t, Value x) const override {
    first_ = ops::linear(t, x, weight(fc1_), bias(fc1_));
    const index_t N = t.shape(x)[0];
    Value h = ops::reshape(t, ops::tanh(t, first_), Shape{N, 12});
    return ops::linear(t, h, weight(fc2_), bias(fc2_));
  }
  mutable Value first_;

 private:
  index_t fc1_, fc2_;
};

// Random inputs in [-1, 1) and targets (class labels, or values for mse/bce) for `sizes` batches.
inline std::vector<Batch<double>> random_batches(const Model<double>& m, std::vector<index_t> sizes,
                                                 std::uint64_t seed) {
  Rng rng(seed);
  std::vector<Batch<double>> out;
  for (index_t n : sizes) {
    Batch<double> b;
    Shape s{n};
    for (int i = 0; i < m.input_shape().rank(); ++i) s.push_back(m.input_shape()[i]);
    b.x = Tensor<double>(s);
    for (index_t i = 0; i < b.x.numel(); ++i) b.x[i] = 2 * rng.uniform() - 1;
    if (m.loss() == "cross_entropy") {
      for (index_t i = 0; i < n; ++i)
        b.labels.push_back(std::int64_t(rng.below(std::uint64_t(m.outputs()))));
    } else {
      b.values = Tensor<double>(Shape{n, m.outputs()});
      for (index_t i = 0; i < b.values.numel(); ++i) b.values[i] = rng.uniform();
    }
    out.push_back(std::move(b));
  }
  return out;
}

// All batches' examples as one batch (the dense references are computed on it).
inline Batch<double> concatenate(const std::vector<Batch<double>>& parts) {
  std::vector<const Batch<double>*> p;
  for (const Batch<double>& b : parts) p.push_back(&b);
  Batch<double> all;
  join_batches<double>(p, all);
  return all;
}

}  // namespace curv::testing
