// Character language modelling on a text: tokens are Unicode characters (the vocabulary is the
// sorted set of characters in the whole text), the last 10% of the text is held out. A training
// example i is the window starting at i·T plus a random shift below T (so every epoch sees new
// window boundaries); inputs are T characters and targets the T characters that follow each.
// Validation uses every non-overlapping window of the held-out part. Losses are in nats/char.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "curv/nn/objective.hpp"
#include "tasks.hpp"

namespace curv {
namespace {

template <class T>
class CharLmTask final : public Task<T> {
 public:
  CharLmTask(const std::u32string& text, index_t context) : T_(context) {
    CURV_CHECK(context > 0 && index_t(text.size()) > 20 * (context + 1),
               "moby-dick: expected a text much longer than ", "the context ", context, ", found ",
               text.size(), " characters");
    vocab_.assign(text.begin(), text.end());
    std::sort(vocab_.begin(), vocab_.end());
    vocab_.erase(std::unique(vocab_.begin(), vocab_.end()), vocab_.end());
    ids_.reserve(text.size());
    for (char32_t c : text)
      ids_.push_back(std::lower_bound(vocab_.begin(), vocab_.end(), c) - vocab_.begin());
    split_ = index_t(ids_.size()) * 9 / 10;
    bigram_ = bigram_loss();
  }

  std::string name() const override { return "moby-dick"; }
  std::string loss() const override { return "cross_entropy"; }
  Shape example_shape() const override { return Shape{T_}; }
  index_t outputs() const override { return index_t(vocab_.size()); }
  index_t train_size() const override { return (split_ - 1) / T_ - 1; }
  std::size_t data_bytes() const override {
    return ids_.size() * sizeof(std::int64_t) + vocab_.size() * 4;
  }

  void train_batch(const index_t* idx, index_t n, Rng& rng, Tensor<T>& x,
                   BatchTargets<T>& y) const override {
    x.resize(Shape{n, T_});
    y.labels.resize(static_cast<std::size_t>(n * T_));
    for (index_t i = 0; i < n; ++i) {
      const index_t start = idx[i] * T_ + index_t(rng.below(std::uint64_t(T_)));  // < split − T − 1
      window(start, x.data() + i * T_, y.labels.data() + i * T_);
    }
  }

  Metrics evaluate(const Model<T>& model, index_t batch) const override {
    auto loss_fn = make_loss<T>("cross_entropy");
    Objective<T> obj(model, *loss_fn);
    const index_t windows = (index_t(ids_.size()) - split_ - 1) / T_;
    batch = std::min<index_t>(batch, 64);  // a window is T_ positions: keep the recording small
    Tensor<T> x;
    std::vector<std::int64_t> labels;
    double total = 0;
    for (index_t w0 = 0; w0 < windows; w0 += batch) {
      const index_t n = std::min(batch, windows - w0);
      x.resize(Shape{n, T_});
      labels.resize(static_cast<std::size_t>(n * T_));
      for (index_t i = 0; i < n; ++i)
        window(split_ + (w0 + i) * T_, x.data() + i * T_, labels.data() + i * T_);
      total += obj.set_batch(x, Targets<T>{labels.data(), {}}) * double(n);
    }
    return {{"val_loss", total / double(windows)}, {"bigram_val_loss", bigram_}};
  }

 private:
  void window(index_t start, T* x, std::int64_t* y) const {
    for (index_t t = 0; t < T_; ++t) {
      x[t] = T(ids_[std::size_t(start + t)]);
      y[t] = ids_[std::size_t(start + t + 1)];
    }
  }
  // Held-out loss of a character bigram model fitted on the training part (add-one smoothing).
  double bigram_loss() const {
    const std::size_t V = vocab_.size();
    std::vector<double> counts(V * V, 1.0), rows(V, double(V));
    for (index_t i = 0; i + 1 < split_; ++i) {
      counts[std::size_t(ids_[std::size_t(i)]) * V + std::size_t(ids_[std::size_t(i + 1)])] += 1;
      rows[std::size_t(ids_[std::size_t(i)])] += 1;
    }
    double nll = 0;
    for (std::size_t i = std::size_t(split_); i + 1 < ids_.size(); ++i)
      nll -= std::log(counts[std::size_t(ids_[i]) * V + std::size_t(ids_[i + 1])] /
                      rows[std::size_t(ids_[i])]);
    return nll / double(ids_.size() - std::size_t(split_) - 1);
  }

  index_t T_;
  std::u32string vocab_;
  std::vector<std::int64_t> ids_;
  index_t split_;
  double bigram_;
};

}  // namespace

namespace detail {
template <class T>
std::unique_ptr<Task<T>> make_char_lm_task(const std::string& path, const TaskOptions& opt) {
  return std::make_unique<CharLmTask<T>>(load_text(path), opt.context);
}
template std::unique_ptr<Task<float>> make_char_lm_task<float>(const std::string&,
                                                               const TaskOptions&);
template std::unique_ptr<Task<double>> make_char_lm_task<double>(const std::string&,
                                                                 const TaskOptions&);
}  // namespace detail

template <class T>
void Task<T>::check_model(const Model<T>& model) const {
  CURV_CHECK(model.input_shape().numel() == example_shape().numel(), "train: model ", model.name(),
             " expects inputs ", model.input_shape().str(), ", found ", name(), " examples of ",
             example_shape().str());
  CURV_CHECK(model.loss() == loss(), "train: model ", model.name(), " is trained with ",
             model.loss(), ", found a ", name(), " task for ", loss());
  CURV_CHECK(model.outputs() == outputs(), "train: model ", model.name(), " has ", model.outputs(),
             " outputs, found ", name(), " needing ", outputs());
}
template class Task<float>;
template class Task<double>;

std::vector<std::string> task_dataset_names() {
  return {"mnist", "fashion-mnist", "cifar10", "moby-dick", "t2t-synthetic"};
}

template <class T>
std::unique_ptr<Task<T>> make_task(const std::string& dataset, const std::string& loss,
                                   const TaskOptions& opt) {
  if (dataset == "moby-dick")
    return detail::make_char_lm_task<T>(data_dir() + "/text/moby-dick.txt", opt);
  if (dataset == "t2t-synthetic") return detail::make_t2t_task<T>(opt);
  if (dataset == "mnist" || dataset == "fashion-mnist" || dataset == "cifar10")
    return detail::make_image_task<T>(dataset, loss, opt);
  fail("dataset: expected one of mnist, fashion-mnist, cifar10, moby-dick, t2t-synthetic, found '",
       dataset, "'");
}
template std::unique_ptr<Task<float>> make_task<float>(const std::string&, const std::string&,
                                                       const TaskOptions&);
template std::unique_ptr<Task<double>> make_task<double>(const std::string&, const std::string&,
                                                         const TaskOptions&);

}  // namespace curv
