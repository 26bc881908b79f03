// Classification and reconstruction tasks on the image datasets.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "curv/data/task.hpp"
#include "curv/nn/objective.hpp"
#include "tasks.hpp"

namespace curv {
namespace {

Shape batch_shape(const Shape& example, index_t n) {
  Shape s{n};
  for (int i = 0; i < example.rank(); ++i) s.push_back(example[i]);
  return s;
}

// CIFAR-10's standard augmentation in place on x:(n,C,H,W): a random crop of the image padded
// by 4 zero pixels, and a horizontal flip with probability ½.
template <class T>
void crop_and_flip(T* x, index_t n, const Shape& ex, Rng& rng) {
  const index_t C = ex[0], H = ex[1], W = ex[2], pad = 4;
  std::vector<T> img(static_cast<std::size_t>(C * H * W));
  for (index_t i = 0; i < n; ++i) {
    T* xi = x + i * C * H * W;
    std::copy(xi, xi + C * H * W, img.begin());
    const index_t dy = index_t(rng.below(2 * pad + 1)) - pad,
                  dx = index_t(rng.below(2 * pad + 1)) - pad;
    const bool flip = rng.uniform() < 0.5;
    for (index_t c = 0; c < C; ++c)
      for (index_t h = 0; h < H; ++h)
        for (index_t w = 0; w < W; ++w) {
          const index_t sh = h + dy, sw = (flip ? W - 1 - w : w) + dx;
          xi[(c * H + h) * W + w] = (sh >= 0 && sh < H && sw >= 0 && sw < W)
                                        ? img[std::size_t((c * H + sh) * W + sw)]
                                        : T(0);
        }
  }
}

template <class T>
class ImageTask final : public Task<T> {
 public:
  ImageTask(Dataset train, Dataset test, bool reconstruct, bool augment)
      : train_(std::move(train)),
        test_(std::move(test)),
        reconstruct_(reconstruct),
        augment_(augment) {}

  std::string name() const override { return train_.name; }
  std::string loss() const override { return reconstruct_ ? "bce" : "cross_entropy"; }
  Shape example_shape() const override { return train_.example; }
  index_t outputs() const override {
    return reconstruct_ ? train_.example.numel() : train_.classes;
  }
  index_t train_size() const override { return train_.size(); }
  std::size_t data_bytes() const override {
    return train_.pixels.size() + test_.pixels.size() +
           8 * (train_.labels.size() + test_.labels.size());
  }

  void train_batch(const index_t* idx, index_t n, Rng& rng, Tensor<T>& x,
                   BatchTargets<T>& y) const override {
    x.resize(batch_shape(train_.example, n));
    y.labels.resize(static_cast<std::size_t>(n));
    train_.gather(idx, n, x.data(), y.labels.data());
    if (augment_) crop_and_flip(x.data(), n, train_.example, rng);
    set_targets(x, n, y);
  }

  Metrics evaluate(const Model<T>& model, index_t batch) const override {
    auto loss_fn = make_loss<T>(loss());
    Objective<T> obj(model, *loss_fn);
    Tensor<T> x;
    BatchTargets<T> y;
    std::vector<index_t> idx(static_cast<std::size_t>(batch));
    double total = 0, error = 0;
    index_t correct = 0;
    for (index_t start = 0; start < test_.size(); start += batch) {
      const index_t n = std::min(batch, test_.size() - start);
      std::iota(idx.begin(), idx.begin() + n, start);
      x.resize(batch_shape(test_.example, n));
      y.labels.resize(static_cast<std::size_t>(n));
      test_.gather(idx.data(), n, x.data(), y.labels.data());
      set_targets(x, n, y);
      total += obj.set_batch(x, y.view()) * double(n);
      const View<const T> out = obj.output();
      const index_t C = out.row_size();
      for (index_t i = 0; i < n; ++i) {
        const T* row = out.data + i * C;
        if (!reconstruct_) {
          correct += std::max_element(row, row + C) - row == y.labels[std::size_t(i)];
          continue;
        }
        for (index_t j = 0; j < C; ++j) {  // Σ_pixels (σ(output) − x)²
          const double d = 1 / (1 + std::exp(-double(row[j]))) - double(x[i * C + j]);
          error += d * d;
        }
      }
    }
    const double N = double(test_.size());
    if (reconstruct_) return {{"test_loss", total / N}, {"test_error", error / N}};
    return {{"test_loss", total / N}, {"test_accuracy", double(correct) / N}};
  }

 private:
  void set_targets(const Tensor<T>& x, index_t n, BatchTargets<T>& y) const {
    if (!reconstruct_) return;
    y.values.resize(Shape{n, train_.example.numel()});
    std::copy(x.data(), x.data() + x.numel(), y.values.data());
  }
  Dataset train_, test_;
  bool reconstruct_, augment_;
};

}  // namespace

template <class T>
std::unique_ptr<Task<T>> make_image_task(Dataset train, Dataset test, bool reconstruct,
                                         bool augment) {
  CURV_CHECK(!augment || train.example.rank() == 3, train.name,
             ": expected images (C,H,W) to augment, found ", train.example.str());
  return std::make_unique<ImageTask<T>>(std::move(train), std::move(test), reconstruct, augment);
}
template std::unique_ptr<Task<float>> make_image_task<float>(Dataset, Dataset, bool, bool);
template std::unique_ptr<Task<double>> make_image_task<double>(Dataset, Dataset, bool, bool);

namespace detail {
template <class T>
std::unique_ptr<Task<T>> make_image_task(const std::string& dataset, const std::string& loss,
                                         const TaskOptions& opt) {
  CURV_CHECK(loss == "cross_entropy" || loss == "bce", dataset,
             ": expected loss cross_entropy or bce, found '", loss, "'");
  return curv::make_image_task<T>(load_dataset(dataset, "train", opt.limit),
                                  load_dataset(dataset, "test"), loss == "bce", opt.augment);
}
template std::unique_ptr<Task<float>> make_image_task<float>(const std::string&, const std::string&,
                                                             const TaskOptions&);
template std::unique_ptr<Task<double>> make_image_task<double>(const std::string&,
                                                               const std::string&,
                                                               const TaskOptions&);
}  // namespace detail
}  // namespace curv
