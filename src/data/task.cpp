// The Task base: splits by name, the validation carve, the model check, the shared evaluation
// loop, and make_task.
#include "curv/data/task.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "curv/data/batch_source.hpp"
#include "curv/nn/model.hpp"
#include "curv/nn/objective.hpp"
#include "tasks.hpp"

namespace curv {

template <class T>
const Split<T>& Task<T>::split(const std::string& name) const {
  for (const auto& [n, s] : splits_)
    if (n == name) return *s;
  std::string known;
  for (const auto& [n, s] : splits_) known += (known.empty() ? "" : ", ") + n;
  fail(this->name(), ": expected a split among ", known, ", found '", name, "'");
}

template <class T>
bool Task<T>::has_split(const std::string& name) const {
  for (const auto& [n, s] : splits_)
    if (n == name) return true;
  return false;
}

template <class T>
std::vector<std::string> Task<T>::split_names() const {
  std::vector<std::string> names;
  for (const auto& [n, s] : splits_) names.push_back(n);
  return names;
}

template <class T>
std::size_t Task<T>::data_bytes() const {
  std::size_t b = carved_from_ ? carved_from_->bytes() : 0;
  for (const auto& [n, s] : splits_) b += s->bytes();
  return b;
}

template <class T>
const std::vector<index_t>& Task<T>::relabeled(const std::string& split) const {
  static const std::vector<index_t> none;
  for (const auto& [n, r] : relabeled_)
    if (n == split) return r;
  return none;
}

template <class T>
void Task<T>::set_relabeled(const std::string& split, std::vector<index_t> examples) {
  for (auto& [n, r] : relabeled_)
    if (n == split) {
      r = std::move(examples);
      return;
    }
  relabeled_.emplace_back(split, std::move(examples));
}

template <class T>
void Task<T>::set_split(const std::string& name, std::shared_ptr<const Split<T>> split) {
  for (auto& [n, s] : splits_)
    if (n == name) {
      s = std::move(split);
      return;
    }
  splits_.emplace_back(name, std::move(split));
  // Keep the documented order: train, val, test.
  auto rank = [](const std::string& n) { return n == "train" ? 0 : n == "val" ? 1 : 2; };
  std::stable_sort(splits_.begin(), splits_.end(),
                   [&](const auto& a, const auto& b) { return rank(a.first) < rank(b.first); });
}

template <class T>
void Task<T>::carve_validation(double fraction, std::uint64_t seed) {
  CURV_CHECK(fraction > 0 && fraction < 1, name(),
             ": expected a validation fraction in (0, 1), found ", fraction);
  CURV_CHECK(!has_split("val"), name(), ": expected one validation carve, found a second");
  std::shared_ptr<const Split<T>> train;
  for (const auto& [n, s] : splits_)
    if (n == "train") train = s;
  CURV_CHECK(train != nullptr, name(), ": expected a train split to carve validation from");
  const index_t N = train->size();
  const index_t n_val = index_t(std::llround(fraction * double(N)));
  CURV_CHECK(n_val >= 1 && n_val < N, name(), ": expected a validation fraction leaving both ",
             "splits non-empty, found ", fraction, " of ", N, " examples");
  std::vector<index_t> perm(static_cast<std::size_t>(N));
  std::iota(perm.begin(), perm.end(), index_t(0));
  Rng rng(seed);
  for (std::size_t i = perm.size(); i > 1; --i) std::swap(perm[i - 1], perm[rng.below(i)]);
  std::vector<index_t> val(perm.begin(), perm.begin() + n_val),
      rest(perm.begin() + n_val, perm.end());
  std::sort(val.begin(), val.end());
  std::sort(rest.begin(), rest.end());
  carved_from_ = train;
  set_split("val", subset_split<T>(train, std::move(val), name() + "/val"));
  set_split("train", subset_split<T>(train, std::move(rest), name() + "/train"));
}

template <class T>
void Task<T>::check_model(const Model<T>& model) const {
  if (model.input_shape().numel() != example_shape().numel()) {
    // The built-in models whose default configuration takes these examples, as a hint.
    std::string fits;
    for (const std::string& other : model_names())
      if (make_model<T>(other)->input_shape().numel() == example_shape().numel())
        fits += (fits.empty() ? "" : ", ") + other;
    fail("model ", model.name(), " expects inputs ", model.input_shape().str(), ", found ", name(),
         " examples of ", example_shape().str(),
         fits.empty() ? std::string() : " (models taking them: " + fits + ")");
  }
  CURV_CHECK(model.loss() == loss(), "model ", model.name(), " is trained with ", model.loss(),
             ", found a ", name(), " task for ", loss());
  CURV_CHECK(outputs() == 0 || model.outputs() == outputs(), "model ", model.name(), " has ",
             model.outputs(), " outputs, found ", name(), " needing ", outputs());
}

template class Task<float>;
template class Task<double>;

namespace detail {

template <class T>
Metrics score_batches(const Model<T>& model, const Split<T>& split, const IndexList& list,
                      index_t batch, const std::string& loss, const BatchScore<T>& score) {
  CURV_CHECK(split.labelled(), split.name(), ": expected targets to score the model on, found ",
             "inputs alone");
  auto loss_fn = make_loss<T>(loss);
  Objective<T> obj(model, *loss_fn);
  double total = 0;
  Metrics sums;
  for_each_batch<T>(split, list.indices, batch, [&](const Batch<T>& b) {
    total += obj.set_batch(b.x, b.targets()) * double(b.size());
    if (score) score(b, obj.output(), sums);
  });
  const double N = double(list.size());
  Metrics m{{list.split + "_loss", total / N}};
  for (const auto& [k, v] : sums) m[list.split + "_" + k] = v / N;
  return m;
}

template <class T>
void count_correct(const Batch<T>& b, View<const T> out, Metrics& sums) {
  const index_t C = out.row_size(), rows = out.rows();
  if (index_t(b.labels.size()) != rows) return;
  double correct = 0;
  for (index_t i = 0; i < rows; ++i) {
    const T* row = out.data + i * C;
    correct += std::max_element(row, row + C) - row == b.labels[std::size_t(i)];
  }
  sums["accuracy"] += correct;
}

template Metrics score_batches(const Model<float>&, const Split<float>&, const IndexList&, index_t,
                               const std::string&, const BatchScore<float>&);
template Metrics score_batches(const Model<double>&, const Split<double>&, const IndexList&,
                               index_t, const std::string&, const BatchScore<double>&);
template void count_correct(const Batch<float>&, View<const float>, Metrics&);
template void count_correct(const Batch<double>&, View<const double>, Metrics&);

}  // namespace detail

template <class T>
Metrics loss_and_accuracy(const Model<T>& model, const Split<T>& split, const IndexList& list,
                          index_t batch, const std::string& loss) {
  return detail::score_batches<T>(model, split, list, batch, loss,
                                  loss == "cross_entropy" ? detail::count_correct<T> : nullptr);
}
template Metrics loss_and_accuracy(const Model<float>&, const Split<float>&, const IndexList&,
                                   index_t, const std::string&);
template Metrics loss_and_accuracy(const Model<double>&, const Split<double>&, const IndexList&,
                                   index_t, const std::string&);

std::vector<std::string> task_dataset_names() {
  return {"mnist", "fashion-mnist", "cifar10", "moby-dick", "t2t-synthetic", "sine", "FILE.npy"};
}

template <class T>
std::unique_ptr<Task<T>> make_task(const std::string& dataset, const std::string& loss,
                                   const TaskOptions& opt) {
  std::unique_ptr<Task<T>> task;
  const bool npy = dataset.size() > 4 && dataset.compare(dataset.size() - 4, 4, ".npy") == 0;
  const bool image = dataset == "mnist" || dataset == "fashion-mnist" || dataset == "cifar10";
  CURV_CHECK(!opt.standardize || image, "--standardize: expected image data (mnist, ",
             "fashion-mnist or cifar10), found '", dataset, "'");
  CURV_CHECK(opt.test_rotation == 0 || image, "--rotate-test: expected image data (mnist, ",
             "fashion-mnist or cifar10), found '", dataset, "'");
  if (npy)
    task = detail::make_npy_task<T>(dataset, loss, opt);
  else if (dataset == "moby-dick")
    task = detail::make_char_lm_task<T>(data_dir() + "/text/moby-dick.txt", opt);
  else if (dataset == "t2t-synthetic")
    task = detail::make_t2t_task<T>(opt);
  else if (dataset == "sine")
    task = detail::make_sine_task<T>();
  else if (image)
    task = detail::make_image_task<T>(dataset, loss, opt);
  else
    fail("dataset: expected one of mnist, fashion-mnist, cifar10, moby-dick, t2t-synthetic, sine ",
         "or a .npy file, found '", dataset, "'");
  CURV_CHECK(opt.labels.empty() || npy, "dataset: labels files go with .npy inputs, found ",
             "labels '", opt.labels, "' for ", dataset);
  CURV_CHECK(opt.label_noise == 0 || image, "--label-noise: expected image data (mnist, ",
             "fashion-mnist or cifar10), found '", dataset, "'");
  CURV_CHECK(opt.classes.empty() || image, "--classes: expected image data (mnist, ",
             "fashion-mnist or cifar10), found '", dataset, "'");
  CURV_CHECK(opt.test_label_noise == 0 || image, "--test-label-noise: expected image data ",
             "(mnist, fashion-mnist or cifar10), found '", dataset, "'");
  // Relabeled examples are numbered in the whole training split, which a carve renumbers.
  CURV_CHECK(opt.label_noise == 0 || opt.validation == 0,
             "--label-noise: expected no --validation carve, found ", opt.validation);
  if (opt.validation > 0) task->carve_validation(opt.validation, opt.validation_seed);
  return task;
}
template std::unique_ptr<Task<float>> make_task<float>(const std::string&, const std::string&,
                                                       const TaskOptions&);
template std::unique_ptr<Task<double>> make_task<double>(const std::string&, const std::string&,
                                                         const TaskOptions&);

}  // namespace curv
