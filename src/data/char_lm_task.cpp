// Character language modelling on a text: tokens are Unicode characters (the vocabulary is the
// sorted set of characters in the whole text), and the last 10% of the text is the test split.
// Training example i is the window starting at i·T, shifted by a random offset below T when
// training draws it (so every epoch sees new window boundaries; without a draw the offset is 0);
// inputs are T characters and targets the T characters that follow each. Test example w is the
// w-th non-overlapping window of the held-out part. Losses are in nats/char.
#include <algorithm>
#include <cmath>

#include "tasks.hpp"

namespace curv {
namespace {

// The token ids of the text and where its held-out part begins, shared by both splits.
struct Text {
  std::u32string vocab;
  std::vector<std::int64_t> ids;
  index_t held_out = 0;  // first id of the test part
};

template <class T>
class WindowSplit final : public Split<T> {
 public:
  // Windows of T tokens starting at first + i·T (+ a drawn offset below T when `shifted`).
  WindowSplit(std::shared_ptr<const Text> text, std::string name, index_t context, index_t first,
              index_t count, bool shifted)
      : text_(std::move(text)),
        name_(std::move(name)),
        T_(context),
        first_(first),
        count_(count),
        shifted_(shifted) {}

  std::string name() const override { return name_; }
  index_t size() const override { return count_; }
  Shape example_shape() const override { return Shape{T_}; }
  std::size_t bytes() const override { return shifted_ ? text_->ids.size() * 8 : 0; }
  std::uint64_t fingerprint() const override {
    const index_t where[3] = {T_, first_, count_};
    return fnv1a(where, sizeof where, fnv1a(text_->ids.data(), text_->ids.size() * 8));
  }

  void fill(std::span<const index_t> idx, Rng* rng, Batch<T>& b) const override {
    const index_t n = index_t(idx.size());
    b.x.resize(Shape{n, T_});
    b.labels.resize(std::size_t(n * T_));
    for (index_t i = 0; i < n; ++i) {
      index_t start = first_ + idx[std::size_t(i)] * T_;
      if (shifted_ && rng) start += index_t(rng->below(std::uint64_t(T_)));  // stays < held_out
      for (index_t t = 0; t < T_; ++t) {
        b.x[i * T_ + t] = T(text_->ids[std::size_t(start + t)]);
        b.labels[std::size_t(i * T_ + t)] = text_->ids[std::size_t(start + t + 1)];
      }
    }
    b.values = Tensor<T>();
    b.indices.assign(idx.begin(), idx.end());
  }

 private:
  std::shared_ptr<const Text> text_;
  std::string name_;
  index_t T_, first_, count_;
  bool shifted_;
};

template <class T>
class CharLmTask final : public Task<T> {
 public:
  CharLmTask(const std::u32string& text, index_t context) : T_(context) {
    CURV_CHECK(context > 0 && index_t(text.size()) > 20 * (context + 1),
               "moby-dick: expected a text much longer than the context ", context, ", found ",
               text.size(), " characters");
    auto t = std::make_shared<Text>();
    t->vocab.assign(text.begin(), text.end());
    std::sort(t->vocab.begin(), t->vocab.end());
    t->vocab.erase(std::unique(t->vocab.begin(), t->vocab.end()), t->vocab.end());
    t->ids.reserve(text.size());
    for (char32_t c : text)
      t->ids.push_back(std::lower_bound(t->vocab.begin(), t->vocab.end(), c) - t->vocab.begin());
    t->held_out = index_t(t->ids.size()) * 9 / 10;
    vocab_ = index_t(t->vocab.size());
    bigram_ = bigram_loss(*t);
    const index_t H = t->held_out, train = (H - 1) / T_ - 1;
    const index_t test = (index_t(t->ids.size()) - H - 1) / T_;
    this->set_split("train",
                    std::make_shared<WindowSplit<T>>(t, "moby-dick/train", T_, 0, train, true));
    this->set_split("test",
                    std::make_shared<WindowSplit<T>>(t, "moby-dick/test", T_, H, test, false));
  }

  std::string name() const override { return "moby-dick"; }
  std::string loss() const override { return "cross_entropy"; }
  Shape example_shape() const override { return Shape{T_}; }
  index_t outputs() const override { return vocab_; }

  Metrics evaluate(const Model<T>& model, const IndexList& list, index_t batch) const override {
    batch = std::min<index_t>(batch, 64);  // a window is T positions: keep the recording small
    Metrics m = detail::score_batches<T>(model, this->split(list.split), list, batch, loss(), {});
    if (list.split == "test") m["test_bigram_loss"] = bigram_;
    return m;
  }

 private:
  // Loss on the held-out part of a character bigram model fitted on the rest (add-one smoothing).
  static double bigram_loss(const Text& t) {
    const std::size_t V = t.vocab.size();
    std::vector<double> counts(V * V, 1.0), rows(V, double(V));
    for (index_t i = 0; i + 1 < t.held_out; ++i) {
      counts[std::size_t(t.ids[std::size_t(i)]) * V + std::size_t(t.ids[std::size_t(i + 1)])] += 1;
      rows[std::size_t(t.ids[std::size_t(i)])] += 1;
    }
    double nll = 0;
    for (std::size_t i = std::size_t(t.held_out); i + 1 < t.ids.size(); ++i)
      nll -= std::log(counts[std::size_t(t.ids[i]) * V + std::size_t(t.ids[i + 1])] /
                      rows[std::size_t(t.ids[i])]);
    return nll / double(t.ids.size() - std::size_t(t.held_out) - 1);
  }

  index_t T_, vocab_ = 0;
  double bigram_ = 0;
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
}  // namespace curv
