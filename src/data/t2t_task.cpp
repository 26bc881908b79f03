// The synthetic text-to-text task (data/t2t.hpp). The train split is 60,000 examples per epoch,
// example i of task i mod 3, drawn fresh from the run's generator on every draw (from a seed of
// its own index when not drawn, so evaluations on train are repeatable). The test split is a
// fixed set of 300 held-out examples per task (task k's from seed 1000 + k, examples k·300 ..),
// scored by teacher-forced loss and by exact match of greedy decoding.
#include <algorithm>

#include "curv/data/t2t.hpp"
#include "curv/nn/objective.hpp"
#include "tasks.hpp"

namespace curv {
namespace {

constexpr index_t kLength = t2t::kSource + t2t::kTarget;
constexpr index_t kTrainSize = 60000, kTestPerTask = 300;

template <class T>
void encode_rows(const std::vector<t2t::Example>& ex, Batch<T>& b, std::span<const index_t> idx) {
  const index_t n = index_t(ex.size());
  b.x.resize(Shape{n, kLength});
  b.labels.resize(std::size_t(n * t2t::kTarget));
  for (index_t i = 0; i < n; ++i)
    t2t::encode(ex[std::size_t(i)], b.x.data() + i * kLength, b.labels.data() + i * t2t::kTarget);
  b.values = Tensor<T>();
  b.indices.assign(idx.begin(), idx.end());
}

template <class T>
class T2tTrain final : public Split<T> {
 public:
  std::string name() const override { return "t2t-synthetic/train"; }
  index_t size() const override { return kTrainSize; }
  Shape example_shape() const override { return Shape{kLength}; }
  std::int64_t class_of(index_t i) const override { return i % 3; }  // the task
  std::uint64_t fingerprint() const override { return fnv1a("t2t-synthetic/train v1", 22); }
  void fill(std::span<const index_t> idx, Rng* rng, Batch<T>& b) const override {
    std::vector<t2t::Example> ex;
    for (index_t i : idx) {
      Rng own(static_cast<std::uint64_t>(i));
      ex.push_back(t2t::generate(rng ? *rng : own, std::size_t(i % 3), false));
    }
    encode_rows(ex, b, idx);
  }
};

template <class T>
class T2tTest final : public Split<T> {
 public:
  T2tTest() {
    for (std::size_t k = 0; k < t2t::task_names().size(); ++k) {
      Rng rng(1000 + k);
      for (index_t i = 0; i < kTestPerTask; ++i) ex_.push_back(t2t::generate(rng, k, true));
    }
  }
  std::string name() const override { return "t2t-synthetic/test"; }
  index_t size() const override { return index_t(ex_.size()); }
  Shape example_shape() const override { return Shape{kLength}; }
  std::int64_t class_of(index_t i) const override { return i / kTestPerTask; }
  std::uint64_t fingerprint() const override { return fnv1a("t2t-synthetic/test v1", 21); }
  void fill(std::span<const index_t> idx, Rng*, Batch<T>& b) const override {
    std::vector<t2t::Example> ex;
    for (index_t i : idx) ex.push_back(ex_[std::size_t(i)]);
    encode_rows(ex, b, idx);
  }
  const t2t::Example& example(index_t i) const { return ex_[std::size_t(i)]; }

 private:
  std::vector<t2t::Example> ex_;
};

template <class T>
class T2tTask final : public Task<T> {
 public:
  T2tTask() {
    this->set_split("train", std::make_shared<T2tTrain<T>>());
    this->set_split("test", std::make_shared<T2tTest<T>>());
  }

  std::string name() const override { return "t2t-synthetic"; }
  std::string loss() const override { return "cross_entropy"; }
  Shape example_shape() const override { return Shape{kLength}; }
  index_t outputs() const override { return t2t::vocab_size(); }

  // Per task among the listed examples (all of that task's at once): the teacher-forced loss,
  // and greedy decoding — position u's argmax becomes the decoder input at u + 1 — scored by
  // exact match. The loss and the exact match are averaged over the tasks present.
  Metrics evaluate(const Model<T>& model, const IndexList& list, index_t) const override {
    const Split<T>& split = this->split(list.split);
    auto loss_fn = make_loss<T>("cross_entropy");
    Objective<T> obj(model, *loss_fn);
    const index_t L = kLength, U = t2t::kTarget;
    const std::string& p = list.split;
    Metrics m;
    double total_loss = 0, total_match = 0;
    int tasks = 0;
    for (std::size_t k = 0; k < t2t::task_names().size(); ++k) {
      std::vector<index_t> idx;
      for (index_t i : list.indices)
        if (split.class_of(i) == std::int64_t(k)) idx.push_back(i);
      if (idx.empty()) continue;
      const index_t n = index_t(idx.size());
      Batch<T> b;
      split.fill(idx, nullptr, b);
      const double l = obj.set_batch(b.x, b.targets());
      std::vector<std::string> want(idx.size());
      for (index_t i = 0; i < n; ++i) {  // the target text, read back from the labels
        for (index_t u = 0; u < U; ++u) {
          const std::int64_t id = b.labels[std::size_t(i * U + u)];
          if (id == t2t::kEos) break;
          want[std::size_t(i)] += t2t::character(id);
        }
      }
      for (index_t i = 0; i < n; ++i)
        std::fill(b.x.data() + i * L + t2t::kSource + 1, b.x.data() + (i + 1) * L, T(t2t::kPad));
      std::vector<std::string> out(idx.size());
      std::vector<bool> done(idx.size(), false);
      for (index_t u = 0; u < U; ++u) {
        obj.set_batch(b.x, b.targets());
        const View<const T> logits = obj.output();
        const index_t V = logits.row_size();
        for (index_t i = 0; i < n; ++i) {
          const T* row = logits.data + (i * U + u) * V;
          const std::int64_t tok = std::max_element(row, row + V) - row;
          if (done[std::size_t(i)]) continue;
          if (tok == t2t::kEos || t2t::character(tok) == '\0') {
            done[std::size_t(i)] = true;
            continue;
          }
          out[std::size_t(i)] += t2t::character(tok);
          if (u + 1 < U) b.x[i * L + t2t::kSource + u + 1] = T(tok);
        }
      }
      index_t match = 0;
      for (index_t i = 0; i < n; ++i)
        match += done[std::size_t(i)] && out[std::size_t(i)] == want[std::size_t(i)];
      const double em = double(match) / double(n);
      m[p + "_exact_match_" + t2t::task_names()[k]] = em;
      total_loss += l, total_match += em, ++tasks;
    }
    m[p + "_loss"] = total_loss / tasks;
    m[p + "_exact_match"] = total_match / tasks;
    return m;
  }
};

}  // namespace

namespace detail {
template <class T>
std::unique_ptr<Task<T>> make_t2t_task(const TaskOptions&) {
  return std::make_unique<T2tTask<T>>();
}
template std::unique_ptr<Task<float>> make_t2t_task<float>(const TaskOptions&);
template std::unique_ptr<Task<double>> make_t2t_task<double>(const TaskOptions&);
}  // namespace detail
}  // namespace curv
