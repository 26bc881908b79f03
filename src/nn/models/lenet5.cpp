// lenet5: the classic LeNet-5 with ReLU and max-pooling.
//   (N,C,28|32,…) conv1 6@5×5 → relu → pool 2 → conv2 16@5×5 → relu → pool 2 → (N,400)
//   → fc1 120 → relu → fc2 84 → relu → fc3 10
// One-channel 28×28 inputs use padding 2 on conv1 so they flow like the classic 32×32 ones;
// the three-channel CIFAR variant takes 32×32 inputs with no padding. Both reach 16×5×5.
#include "curv/ops/ops.hpp"
#include "registry.hpp"

namespace curv {
namespace {

template <class T>
class LeNet5 final : public Model<T> {
 public:
  explicit LeNet5(index_t channels) : channels_(channels) {
    CURV_CHECK(channels == 1 || channels == 3, "lenet5: expected 1 or 3 input channels, found ",
               channels);
    conv1_ = this->add_affine("conv1", Shape{6, channels, 5, 5});
    conv2_ = this->add_affine("conv2", Shape{16, 6, 5, 5});
    fc1_ = this->add_affine("fc1", Shape{120, 400});
    fc2_ = this->add_affine("fc2", Shape{84, 120});
    fc3_ = this->add_affine("fc3", Shape{10, 84});
  }

  std::string name() const override { return "lenet5"; }
  std::string config() const override { return detail::Config{{"channels", channels_}}.dump(); }
  Shape input_shape() const override {
    return channels_ == 1 ? Shape{1, 28, 28} : Shape{3, 32, 32};
  }
  index_t outputs() const override { return 10; }

  Value forward(Tape<T>& t, Value x) const override {
    const index_t pad = channels_ == 1 ? 2 : 0;
    Value h = ops::conv2d(t, x, this->weight(conv1_), this->bias(conv1_), 1, pad);  // (N,6,28,28)
    h = ops::max_pool2d(t, ops::relu(t, h), 2, 2);                                  // (N,6,14,14)
    h = ops::conv2d(t, h, this->weight(conv2_), this->bias(conv2_), 1, 0);          // (N,16,10,10)
    h = ops::max_pool2d(t, ops::relu(t, h), 2, 2);                                  // (N,16,5,5)
    h = ops::flatten(t, h);                                                         // (N,400)
    h = ops::relu(t, ops::linear(t, h, this->weight(fc1_), this->bias(fc1_)));      // (N,120)
    h = ops::relu(t, ops::linear(t, h, this->weight(fc2_), this->bias(fc2_)));      // (N,84)
    return ops::linear(t, h, this->weight(fc3_), this->bias(fc3_));                 // (N,10)
  }

 private:
  index_t channels_;
  index_t conv1_, conv2_, fc1_, fc2_, fc3_;
};

}  // namespace

namespace detail {
template <class T>
std::unique_ptr<Model<T>> make_lenet5_model(const Config& cfg) {
  expect_keys(cfg, "lenet5", {"channels"});
  return std::make_unique<LeNet5<T>>(get<index_t>(cfg, "lenet5", "channels", 1));
}
template std::unique_ptr<Model<float>> make_lenet5_model<float>(const Config&);
template std::unique_ptr<Model<double>> make_lenet5_model<double>(const Config&);
}  // namespace detail

}  // namespace curv
