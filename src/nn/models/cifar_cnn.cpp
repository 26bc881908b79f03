// cifar-cnn: DeepOBS's 3c3d for CIFAR-10 (3×32×32):
//   conv1 64@5×5 → relu → max-pool 3/2 pad 1 → conv2 96@3×3 → relu → max-pool 3/2 pad 1
//   → conv3 128@3×3 pad 1 → relu → max-pool 3/2 pad 1 → (N,1152) → fc1 512 → relu → fc2 256
//   → relu → fc3 10
// The pools use PyTorch's MaxPool2d(3, 2, padding=1), which gives DeepOBS's "same"-padded
// spatial sizes 28 → 14, 12 → 6, 6 → 3. PyTorch default initialization.
#include "curv/ops/ops.hpp"
#include "registry.hpp"

namespace curv {
namespace {

template <class T>
class CifarCnn final : public Model<T> {
 public:
  CifarCnn() {
    c1_ = this->add_affine("conv1", Shape{64, 3, 5, 5});
    c2_ = this->add_affine("conv2", Shape{96, 64, 3, 3});
    c3_ = this->add_affine("conv3", Shape{128, 96, 3, 3});
    f1_ = this->add_affine("fc1", Shape{512, 1152});
    f2_ = this->add_affine("fc2", Shape{256, 512});
    f3_ = this->add_affine("fc3", Shape{10, 256});
  }
  std::string name() const override { return "cifar-cnn"; }
  std::string config() const override { return "{}"; }
  Shape input_shape() const override { return Shape{3, 32, 32}; }
  index_t outputs() const override { return 10; }

  Value forward(Tape<T>& t, Value x) const override {
    Value h =
        ops::relu(t, ops::conv2d(t, x, this->weight(c1_), this->bias(c1_), 1, 0));  // (N,64,28,28)
    h = ops::max_pool2d(t, h, 3, 2, 1);                                             // (N,64,14,14)
    h = ops::relu(t, ops::conv2d(t, h, this->weight(c2_), this->bias(c2_), 1, 0));  // (N,96,12,12)
    h = ops::max_pool2d(t, h, 3, 2, 1);                                             // (N,96,6,6)
    h = ops::relu(t, ops::conv2d(t, h, this->weight(c3_), this->bias(c3_), 1, 1));  // (N,128,6,6)
    h = ops::flatten(t, ops::max_pool2d(t, h, 3, 2, 1));                            // (N,1152)
    h = ops::relu(t, ops::linear(t, h, this->weight(f1_), this->bias(f1_)));        // (N,512)
    h = ops::relu(t, ops::linear(t, h, this->weight(f2_), this->bias(f2_)));        // (N,256)
    return ops::linear(t, h, this->weight(f3_), this->bias(f3_));                   // (N,10)
  }

 private:
  index_t c1_, c2_, c3_, f1_, f2_, f3_;
};

}  // namespace

namespace detail {
template <class T>
std::unique_ptr<Model<T>> make_cifar_cnn_model(const Config& cfg) {
  expect_keys(cfg, "cifar-cnn", {});
  return std::make_unique<CifarCnn<T>>();
}
template std::unique_ptr<Model<float>> make_cifar_cnn_model<float>(const Config&);
template std::unique_ptr<Model<double>> make_cifar_cnn_model<double>(const Config&);
}  // namespace detail
}  // namespace curv
