// A data set from .npy files: inputs [N, example…] (float32 or float64) and, optionally, targets —
// int64 class labels [N] for cross_entropy, float targets [N, C] for bce and mse. All examples
// form the train split; without targets they can be predicted and differentiated, not scored.
#include <algorithm>
#include <filesystem>

#include "array_split.hpp"
#include "curv/io/npy.hpp"
#include "tasks.hpp"

namespace curv {
namespace {

std::string shape_str(const std::vector<std::int64_t>& shape) {
  std::string s;
  for (auto d : shape) s += (s.empty() ? "" : ",") + std::to_string(d);
  return "[" + s + "]";
}

template <class T>
class NpyTask final : public Task<T> {
 public:
  NpyTask(const std::string& inputs, const std::string& labels, const std::string& loss)
      : name_(inputs), loss_(loss) {
    CURV_CHECK(loss == "cross_entropy" || loss == "bce" || loss == "mse", inputs,
               ": expected a model trained with cross_entropy, bce or mse, found ", loss);
    const NpyArray X = read_npy(inputs);
    CURV_CHECK(X.dtype == "<f4" || X.dtype == "<f8", inputs,
               ": expected float32 or float64 inputs, found dtype ", X.dtype);
    CURV_CHECK(X.shape.size() >= 2 && X.shape[0] >= 1, inputs,
               ": expected inputs [N, example…] with N >= 1, found shape ", shape_str(X.shape));
    const index_t N = X.shape[0];
    Shape example;
    for (std::size_t k = 1; k < X.shape.size(); ++k) example.push_back(X.shape[k]);
    const std::vector<double> xd = X.to_double();
    std::vector<T> x(xd.begin(), xd.end());
    std::vector<std::int64_t> y;
    std::vector<T> v;
    if (!labels.empty()) {
      const NpyArray Y = read_npy(labels);
      CURV_CHECK(!Y.shape.empty() && Y.shape[0] == N, labels, ": expected ", N,
                 " targets, one per input of ", inputs, ", found shape ", shape_str(Y.shape));
      if (loss == "cross_entropy") {
        CURV_CHECK(Y.shape.size() == 1, labels, ": expected class labels [", N, "], found shape ",
                   shape_str(Y.shape));
        CURV_CHECK(Y.dtype == "<i8" || Y.dtype == "<i4", labels,
                   ": expected int64 class labels, found dtype ", Y.dtype);
        y = Y.to_int64();
        for (auto l : y) CURV_CHECK(l >= 0, labels, ": expected labels >= 0, found ", l);
      } else {
        CURV_CHECK(Y.shape.size() == 2, labels, ": expected float targets [", N, ", C] for ", loss,
                   ", found shape ", shape_str(Y.shape));
        columns_ = Y.shape[1];
        const std::vector<double> vd = Y.to_double();
        v.assign(vd.begin(), vd.end());
      }
    }
    example_ = example;
    split_ = std::make_shared<detail::ArraySplit<T>>(inputs + "/train", example, std::move(x),
                                                     std::move(y), std::move(v), columns_);
    this->set_split("train", split_);
  }

  std::string name() const override { return name_; }
  std::string loss() const override { return loss_; }
  Shape example_shape() const override { return example_; }
  index_t outputs() const override { return columns_; }

  void check_model(const Model<T>& model) const override {
    if (model.input_shape() != example_) {
      std::vector<std::int64_t> want{-1}, found{-1};
      for (int k = 0; k < model.input_shape().rank(); ++k) want.push_back(model.input_shape()[k]);
      for (int k = 0; k < example_.rank(); ++k) found.push_back(example_[k]);
      fail(name_, ": expected inputs ", shape_str(want).replace(1, 2, "N"), " for ", model.name(),
           ", found ", shape_str(found).replace(1, 2, "N"));
    }
    Task<T>::check_model(model);
    CURV_CHECK(split_->max_label() < model.outputs(), name_, ": expected class labels below ",
               model.outputs(), " (the outputs of ", model.name(), "), found ",
               split_->max_label());
  }

  Metrics evaluate(const Model<T>& model, const IndexList& list, index_t batch) const override {
    return loss_and_accuracy(model, this->split(list.split), list, batch, loss_);
  }

 private:
  std::string name_, loss_;
  Shape example_;
  index_t columns_ = 0;
  std::shared_ptr<detail::ArraySplit<T>> split_;
};

}  // namespace

namespace detail {
template <class T>
std::unique_ptr<Task<T>> make_npy_task(const std::string& inputs, const std::string& loss,
                                       const TaskOptions& opt) {
  return std::make_unique<NpyTask<T>>(inputs, opt.labels, loss);
}
template std::unique_ptr<Task<float>> make_npy_task<float>(const std::string&, const std::string&,
                                                           const TaskOptions&);
template std::unique_ptr<Task<double>> make_npy_task<double>(const std::string&, const std::string&,
                                                             const TaskOptions&);
}  // namespace detail
}  // namespace curv
