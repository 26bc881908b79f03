// The synthetic regression task "sine" (laplace-torch's regression example, Laplace Redux
// fig. 1): y = sin(x) + ε, ε ~ N(0, 0.3²), one input and one output, ℓ = ½ (y − f(x))².
//   train   150 examples, x ~ U(0, 8)
//   test    1,000 examples from the same distribution
//   wide    1,000 examples with x evenly spaced over [−5, 13] — beyond the training range on
//           both sides, where a calibrated predictive widens — with the same noise
// The draws are part of the data set's definition (fixed seeds), so every run sees the same
// examples and a checkpoint's fingerprint names them.
#include <cmath>

#include "array_split.hpp"
#include "curv/core/rng.hpp"
#include "tasks.hpp"

namespace curv {
namespace {

constexpr double kNoise = 0.3;

template <class T>
std::shared_ptr<const Split<T>> draw(const std::string& name, index_t n, std::uint64_t seed,
                                     bool grid) {
  Rng rng(seed);
  std::vector<T> x(static_cast<std::size_t>(n)), y(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) {
    const double xi = grid ? -5 + 18 * double(i) / double(n - 1) : 8 * rng.uniform();
    x[std::size_t(i)] = T(xi);
    y[std::size_t(i)] = T(std::sin(xi) + kNoise * rng.normal());
  }
  return std::make_shared<detail::ArraySplit<T>>("sine/" + name, Shape{1}, std::move(x),
                                                 std::vector<std::int64_t>{}, std::move(y), 1);
}

template <class T>
class SineTask final : public Task<T> {
 public:
  SineTask() {
    this->set_split("train", draw<T>("train", 150, 1, false));
    this->set_split("test", draw<T>("test", 1000, 2, false));
    this->set_split("wide", draw<T>("wide", 1000, 3, true));
  }
  std::string name() const override { return "sine"; }
  std::string loss() const override { return "mse"; }
  Shape example_shape() const override { return Shape{1}; }
  index_t outputs() const override { return 1; }
  Metrics evaluate(const Model<T>& model, const IndexList& list, index_t batch) const override {
    return loss_and_accuracy(model, this->split(list.split), list, batch, "mse");
  }
};

}  // namespace

namespace detail {
template <class T>
std::unique_ptr<Task<T>> make_sine_task() {
  return std::make_unique<SineTask<T>>();
}
template std::unique_ptr<Task<float>> make_sine_task<float>();
template std::unique_ptr<Task<double>> make_sine_task<double>();
}  // namespace detail
}  // namespace curv
