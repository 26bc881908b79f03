// Classification and reconstruction tasks on the image datasets.
#include <algorithm>
#include <cmath>
#include <numbers>
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

}  // namespace

template <class T>
void rotate_images(T* x, index_t n, const Shape& ex, double degrees) {
  CURV_CHECK(ex.rank() == 3, "rotation: expected images (C,H,W), found ", ex.str());
  const index_t C = ex[0], H = ex[1], W = ex[2];
  const double t = degrees * std::numbers::pi / 180, c = std::cos(t), s = std::sin(t);
  const double ch = double(H - 1) / 2, cw = double(W - 1) / 2;
  std::vector<T> img(static_cast<std::size_t>(H * W));
  for (index_t i = 0; i < n * C; ++i) {
    T* plane = x + i * H * W;
    std::copy(plane, plane + H * W, img.begin());
    for (index_t h = 0; h < H; ++h)
      for (index_t w = 0; w < W; ++w) {
        // Counter-clockwise on screen, where rows grow downwards: the source of (h, w) is the
        // point turned clockwise by θ, (dw, dh) ↦ (c·dw − s·dh, s·dw + c·dh).
        const double dw = double(w) - cw, dh = double(h) - ch;
        const double sw = c * dw - s * dh + cw, sh = s * dw + c * dh + ch;
        const double fh = std::floor(sh), fw = std::floor(sw);
        const double ah = sh - fh, aw = sw - fw;
        double v = 0;
        for (int dy = 0; dy < 2; ++dy)
          for (int dx = 0; dx < 2; ++dx) {
            const auto y = index_t(fh) + dy, z = index_t(fw) + dx;
            const double weight = (dy ? ah : 1 - ah) * (dx ? aw : 1 - aw);
            if (y >= 0 && y < H && z >= 0 && z < W && weight != 0)
              v += weight * double(img[std::size_t(y * W + z)]);
          }
        plane[h * W + w] = T(v);
      }
  }
}
template void rotate_images(float*, index_t, const Shape&, double);
template void rotate_images(double*, index_t, const Shape&, double);

namespace {

// Per-channel mean and deviation of a data set's pixels/255 (channels: the first axis of (C,H,W)
// images, else one): what standardized inputs are measured against — the training split's, as
// torchvision's Normalize((0.1307,), (0.3081,)) is MNIST's.
struct Standardization {
  std::vector<double> mean, inv_std;  // empty: inputs as they are
};

Standardization measure(const Dataset& d) {
  const index_t C = d.example.rank() == 3 ? d.example[0] : 1;
  const index_t per = d.example.numel() / C;
  std::vector<double> sum(static_cast<std::size_t>(C), 0.0), sq(sum);
  for (index_t i = 0; i < d.size(); ++i)
    for (index_t c = 0; c < C; ++c)
      for (index_t j = 0; j < per; ++j) {
        const double v = d.pixels[std::size_t((i * C + c) * per + j)] / 255.0;
        sum[std::size_t(c)] += v, sq[std::size_t(c)] += v * v;
      }
  Standardization s;
  const double n = double(d.size()) * double(per);
  for (index_t c = 0; c < C; ++c) {
    const double mean = sum[std::size_t(c)] / n;
    const double var = sq[std::size_t(c)] / n - mean * mean;
    CURV_CHECK(var > 0, d.name, ": expected pixels that vary to standardize, found channel ", c,
               " constant");
    s.mean.push_back(mean), s.inv_std.push_back(1 / std::sqrt(var));
  }
  return s;
}

// One split of an image data set: pixels/255 as inputs (standardized per channel, if asked), the
// class labels, and for reconstruction the raw inputs again as real targets. Training draws
// augment (when asked) before standardizing, as torchvision's crop pads with black.
template <class T>
class ImageSplit final : public Split<T> {
 public:
  ImageSplit(Dataset data, bool reconstruct, bool augment, Standardization st = {},
             double rotation = 0)
      : data_(std::move(data)),
        reconstruct_(reconstruct),
        augment_(augment),
        st_(std::move(st)),
        rotation_(rotation) {}

  std::string name() const override { return data_.name; }
  index_t size() const override { return data_.size(); }
  Shape example_shape() const override { return data_.example; }
  std::int64_t class_of(index_t i) const override { return data_.labels[std::size_t(i)]; }
  std::size_t bytes() const override {
    return data_.pixels.size() + sizeof(std::int64_t) * data_.labels.size();
  }
  std::uint64_t fingerprint() const override {
    if (!fingerprint_) {
      const std::uint64_t h = fnv1a(data_.pixels.data(), data_.pixels.size());
      fingerprint_ = fnv1a(data_.labels.data(), data_.labels.size() * sizeof(std::int64_t), h);
      if (!st_.mean.empty())  // standardized inputs are other data
        fingerprint_ = fnv1a(st_.mean.data(), st_.mean.size() * sizeof(double), fingerprint_);
      if (rotation_ != 0)  // and so are rotated ones
        fingerprint_ = fnv1a(&rotation_, sizeof rotation_, fingerprint_);
    }
    return fingerprint_;
  }

  void fill(std::span<const index_t> idx, Rng* rng, Batch<T>& b) const override {
    const index_t n = index_t(idx.size());
    b.x.resize(batch_shape(data_.example, n));
    b.labels.resize(idx.size());
    data_.gather(idx.data(), n, b.x.data(), b.labels.data());
    if (augment_ && rng) crop_and_flip(b.x.data(), n, data_.example, *rng);
    if (rotation_ != 0) rotate_images(b.x.data(), n, data_.example, rotation_);
    if (reconstruct_) {
      b.values.resize(Shape{n, data_.example.numel()});
      std::copy(b.x.data(), b.x.data() + b.x.numel(), b.values.data());
    }
    if (!st_.mean.empty()) {
      const auto C = index_t(st_.mean.size());
      const index_t per = data_.example.numel() / C;
      T* x = b.x.data();
      for (index_t i = 0; i < n; ++i)
        for (index_t c = 0; c < C; ++c)
          for (index_t j = 0; j < per; ++j, ++x)
            *x = T((double(*x) - st_.mean[std::size_t(c)]) * st_.inv_std[std::size_t(c)]);
    }
    b.indices.assign(idx.begin(), idx.end());
  }

 private:
  Dataset data_;
  bool reconstruct_, augment_;
  Standardization st_;
  double rotation_;                        // degrees, counter-clockwise
  mutable std::uint64_t fingerprint_ = 0;  // computed on first use
};

template <class T>
class ImageTask final : public Task<T> {
 public:
  ImageTask(Dataset train, Dataset test, bool reconstruct, bool augment, bool standardize,
            double test_rotation)
      : name_(train.name.substr(0, train.name.find('/'))),
        example_(train.example),
        classes_(train.classes),
        reconstruct_(reconstruct) {
    const Standardization st = standardize ? measure(train) : Standardization{};
    this->set_split("train",
                    std::make_shared<ImageSplit<T>>(std::move(train), reconstruct, augment, st));
    this->set_split("test", std::make_shared<ImageSplit<T>>(std::move(test), reconstruct, false, st,
                                                            test_rotation));
  }

  std::string name() const override { return name_; }
  std::string loss() const override { return reconstruct_ ? "bce" : "cross_entropy"; }
  Shape example_shape() const override { return example_; }
  index_t outputs() const override { return reconstruct_ ? example_.numel() : classes_; }

  Metrics evaluate(const Model<T>& model, const IndexList& list, index_t batch) const override {
    if (!reconstruct_)
      return loss_and_accuracy(model, this->split(list.split), list, batch, loss());
    // Σ_pixels (σ(output) − x)² per image, summed in one running total.
    auto squared_error = [](const Batch<T>& b, View<const T> out, Metrics& sums) {
      double& error = sums["error"];
      for (index_t j = 0; j < out.numel(); ++j) {
        const double d = 1 / (1 + std::exp(-double(out.data[j]))) - double(b.x[j]);
        error += d * d;
      }
    };
    return detail::score_batches<T>(model, this->split(list.split), list, batch, loss(),
                                    squared_error);
  }

 private:
  std::string name_;
  Shape example_;
  index_t classes_;
  bool reconstruct_;
};

}  // namespace

template <class T>
std::unique_ptr<Task<T>> make_image_task(Dataset train, Dataset test, bool reconstruct,
                                         bool augment, bool standardize, double test_rotation) {
  CURV_CHECK(!augment || train.example.rank() == 3, train.name,
             ": expected images (C,H,W) to augment, found ", train.example.str());
  CURV_CHECK(test_rotation == 0 || test.example.rank() == 3, test.name,
             ": expected images (C,H,W) to rotate, found ", test.example.str());
  CURV_CHECK(std::isfinite(test_rotation), "--rotate-test: expected a finite angle in degrees, ",
             "found ", test_rotation);
  return std::make_unique<ImageTask<T>>(std::move(train), std::move(test), reconstruct, augment,
                                        standardize, test_rotation);
}
template std::unique_ptr<Task<float>> make_image_task<float>(Dataset, Dataset, bool, bool, bool,
                                                             double);
template std::unique_ptr<Task<double>> make_image_task<double>(Dataset, Dataset, bool, bool, bool,
                                                               double);

namespace detail {
template <class T>
std::unique_ptr<Task<T>> make_image_task(const std::string& dataset, const std::string& loss,
                                         const TaskOptions& opt) {
  CURV_CHECK(loss == "cross_entropy" || loss == "bce", dataset,
             ": expected loss cross_entropy or bce, found '", loss, "'");
  Dataset train = load_dataset(dataset, "train");
  CURV_CHECK((opt.label_noise == 0 && opt.test_label_noise == 0) || loss == "cross_entropy",
             "--label-noise: expected classification (loss cross_entropy), found '", loss, "'");
  CURV_CHECK(opt.classes.empty() || loss == "cross_entropy",
             "--classes: expected classification (loss cross_entropy), found '", loss, "'");
  if (!opt.classes.empty()) keep_classes(train, opt.classes);
  std::vector<index_t> relabeled, relabeled_test;
  if (opt.label_noise > 0) relabeled = relabel(train, opt.label_noise, opt.label_noise_seed);
  Dataset test = load_dataset(dataset, "test");
  if (!opt.classes.empty()) keep_classes(test, opt.classes);
  if (opt.test_label_noise > 0)
    relabeled_test =
        relabel(test, opt.test_label_noise, opt.test_label_noise_seed, "--test-label-noise");
  auto task = curv::make_image_task<T>(std::move(train), std::move(test), loss == "bce",
                                       opt.augment, opt.standardize, opt.test_rotation);
  task->set_relabeled("train", std::move(relabeled));
  task->set_relabeled("test", std::move(relabeled_test));
  return task;
}
template std::unique_ptr<Task<float>> make_image_task<float>(const std::string&, const std::string&,
                                                             const TaskOptions&);
template std::unique_ptr<Task<double>> make_image_task<double>(const std::string&,
                                                               const std::string&,
                                                               const TaskOptions&);
}  // namespace detail
}  // namespace curv
