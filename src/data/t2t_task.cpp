// The synthetic text-to-text task (data/t2t.hpp): training draws fresh examples of the three
// tasks in turn from the run's seed; evaluation uses a fixed set of held-out examples per task,
// scored by teacher-forced loss and by exact match of greedy decoding.
#include <algorithm>

#include "curv/data/t2t.hpp"
#include "curv/nn/objective.hpp"
#include "tasks.hpp"

namespace curv {
namespace {

template <class T>
class T2tTask final : public Task<T> {
 public:
  T2tTask(index_t train_size, index_t eval_per_task)
      : train_size_(train_size), eval_(eval_per_task) {}

  std::string name() const override { return "t2t-synthetic"; }
  std::string loss() const override { return "cross_entropy"; }
  Shape example_shape() const override { return Shape{t2t::kSource + t2t::kTarget}; }
  index_t outputs() const override { return t2t::vocab_size(); }
  index_t train_size() const override { return train_size_; }
  std::size_t data_bytes() const override { return 0; }  // generated on the fly

  void train_batch(const index_t* idx, index_t n, Rng& rng, Tensor<T>& x,
                   BatchTargets<T>& y) const override {
    const index_t L = t2t::kSource + t2t::kTarget;
    x.resize(Shape{n, L});
    y.labels.resize(static_cast<std::size_t>(n * t2t::kTarget));
    for (index_t i = 0; i < n; ++i) {
      const auto e = t2t::generate(rng, std::size_t(idx[i] % 3), false);
      t2t::encode(e, x.data() + i * L, y.labels.data() + i * t2t::kTarget);
    }
  }

  Metrics evaluate(const Model<T>& model, index_t) const override {
    auto loss_fn = make_loss<T>("cross_entropy");
    Objective<T> obj(model, *loss_fn);
    const index_t L = t2t::kSource + t2t::kTarget, U = t2t::kTarget;
    Metrics m;
    double total_loss = 0, total_match = 0;
    for (std::size_t k = 0; k < t2t::task_names().size(); ++k) {
      Rng rng(1000 + k);  // the same held-out examples at every evaluation
      std::vector<t2t::Example> ex;
      for (index_t i = 0; i < eval_; ++i) ex.push_back(t2t::generate(rng, k, true));
      Tensor<T> x(Shape{eval_, L});
      std::vector<std::int64_t> labels(static_cast<std::size_t>(eval_ * U));
      for (index_t i = 0; i < eval_; ++i)
        t2t::encode(ex[std::size_t(i)], x.data() + i * L, labels.data() + i * U);
      const double l = obj.set_batch(x, Targets<T>{labels.data(), {}});
      // Greedy decoding: position u's argmax becomes the decoder input at u + 1.
      for (index_t i = 0; i < eval_; ++i)
        std::fill(x.data() + i * L + t2t::kSource + 1, x.data() + (i + 1) * L, T(t2t::kPad));
      std::vector<std::string> out(static_cast<std::size_t>(eval_));
      std::vector<bool> done(static_cast<std::size_t>(eval_), false);
      for (index_t u = 0; u < U; ++u) {
        obj.set_batch(x, Targets<T>{labels.data(), {}});
        const View<const T> logits = obj.output();
        const index_t V = logits.row_size();
        for (index_t i = 0; i < eval_; ++i) {
          const T* row = logits.data + (i * U + u) * V;
          const std::int64_t tok = std::max_element(row, row + V) - row;
          if (done[std::size_t(i)]) continue;
          if (tok == t2t::kEos || t2t::character(tok) == '\0') {
            done[std::size_t(i)] = true;
            continue;
          }
          out[std::size_t(i)] += t2t::character(tok);
          if (u + 1 < U) x[i * L + t2t::kSource + u + 1] = T(tok);
        }
      }
      index_t match = 0;
      for (index_t i = 0; i < eval_; ++i)
        match += done[std::size_t(i)] && out[std::size_t(i)] == ex[std::size_t(i)].target;
      const double em = double(match) / double(eval_);
      m["exact_match_" + t2t::task_names()[k]] = em;
      total_loss += l / 3, total_match += em / 3;
    }
    m["val_loss"] = total_loss;
    m["exact_match"] = total_match;
    return m;
  }

 private:
  index_t train_size_, eval_;
};

}  // namespace

namespace detail {
template <class T>
std::unique_ptr<Task<T>> make_t2t_task(const TaskOptions& opt) {
  return std::make_unique<T2tTask<T>>(opt.limit > 0 ? opt.limit : 60000, 300);
}
template std::unique_ptr<Task<float>> make_t2t_task<float>(const TaskOptions&);
template std::unique_ptr<Task<double>> make_t2t_task<double>(const TaskOptions&);
}  // namespace detail
}  // namespace curv
