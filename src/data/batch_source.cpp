#include "curv/data/batch_source.hpp"

#include <algorithm>

#include "curv/core/error.hpp"

namespace curv {

template <class T>
void check_example_indices(const Split<T>& split, std::span<const index_t> indices) {
  CURV_CHECK(!indices.empty(), split.name(),
             ": expected at least one example to batch, found none");
  for (index_t i : indices)
    CURV_CHECK(i >= 0 && i < split.size(), split.name(), ": expected example indices in 0..",
               split.size() - 1, ", found ", i);
}

template <class T>
BatchSource<T>::BatchSource(const Split<T>& split, std::vector<index_t> indices, Options options)
    : split_(split), opt_(options), order_(std::move(indices)), rng_(options.seed) {
  check_example_indices<T>(split_, order_);
  const index_t n = examples();
  CURV_CHECK(opt_.batch >= 1 && (!opt_.drop_last || opt_.batch <= n), split_.name(),
             ": expected a batch size in 1..", n, ", found ", opt_.batch);
  per_epoch_ = opt_.drop_last ? n / opt_.batch : (n + opt_.batch - 1) / opt_.batch;
}

template <class T>
const Batch<T>& BatchSource<T>::next() {
  const index_t b = taken_ % per_epoch_;
  if (b == 0 && opt_.shuffle)  // a new epoch: reshuffle the order the last one left
    for (std::size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[rng_.below(i)]);
  const index_t begin = b * opt_.batch, n = std::min(opt_.batch, examples() - begin);
  last_fill_ = rng_.state();
  split_.fill(std::span<const index_t>(order_.data() + begin, std::size_t(n)),
              opt_.draw ? &rng_ : nullptr, batch_);
  ++taken_;
  return batch_;
}

template <class T>
void BatchSource<T>::fill(std::span<const index_t> idx, const Rng::State& s, Batch<T>& b) const {
  check_example_indices<T>(split_, idx);
  Rng rng;
  rng.set_state(s);
  split_.fill(idx, opt_.draw ? &rng : nullptr, b);
}

namespace {

// The one in-order walk: fills the batch next(n) gives with each run of `batch` indices.
template <class T, class Next>
void walk(const Split<T>& split, std::span<const index_t> indices, index_t batch, Next&& next) {
  check_example_indices<T>(split, indices);
  CURV_CHECK(batch >= 1, split.name(), ": expected a batch size >= 1, found ", batch);
  for (std::size_t start = 0; start < indices.size(); start += std::size_t(batch)) {
    const auto run = indices.subspan(start, std::min(std::size_t(batch), indices.size() - start));
    next([&](Batch<T>& b) { split.fill(run, nullptr, b); });
  }
}

}  // namespace

template <class T>
void for_each_batch(const Split<T>& split, std::span<const index_t> indices, index_t batch,
                    const std::function<void(const Batch<T>&)>& f) {
  Batch<T> b;
  walk(split, indices, batch, [&](auto&& fill) {
    fill(b);
    f(b);
  });
}

template <class T>
std::vector<Batch<T>> collect_batches(const Split<T>& split, std::span<const index_t> indices,
                                      index_t batch) {
  std::vector<Batch<T>> out;
  walk(split, indices, batch, [&](auto&& fill) { fill(out.emplace_back()); });
  return out;
}

template <class T>
void join_batches(std::span<const Batch<T>* const> parts, Batch<T>& out) {
  CURV_CHECK(!parts.empty(), "batches: expected at least one to join, found none");
  const Batch<T>& first = *parts[0];
  index_t rows = 0, value_rows = 0;
  for (const Batch<T>* b : parts) {
    CURV_CHECK(b->x.shape().with_rows(1) == first.x.shape().with_rows(1) &&
                   b->labels.empty() == first.labels.empty() &&
                   b->values.empty() == first.values.empty(),
               "batches: expected parts of one shape to join, found ", b->x.shape().str(), " and ",
               first.x.shape().str());
    rows += b->size();
    if (!b->values.empty()) value_rows += b->values.shape().rows();
  }
  out.x.resize(first.x.shape().with_rows(rows));
  if (!first.values.empty()) out.values.resize(first.values.shape().with_rows(value_rows));
  out.labels.clear(), out.indices.clear();
  T *x = out.x.data(), *v = first.values.empty() ? nullptr : out.values.data();
  for (const Batch<T>* b : parts) {
    x = std::copy(b->x.data(), b->x.data() + b->x.numel(), x);
    if (v) v = std::copy(b->values.data(), b->values.data() + b->values.numel(), v);
    out.labels.insert(out.labels.end(), b->labels.begin(), b->labels.end());
    out.indices.insert(out.indices.end(), b->indices.begin(), b->indices.end());
  }
}

template class BatchSource<float>;
template class BatchSource<double>;
template void check_example_indices(const Split<float>&, std::span<const index_t>);
template void check_example_indices(const Split<double>&, std::span<const index_t>);
template void for_each_batch(const Split<float>&, std::span<const index_t>, index_t,
                             const std::function<void(const Batch<float>&)>&);
template void for_each_batch(const Split<double>&, std::span<const index_t>, index_t,
                             const std::function<void(const Batch<double>&)>&);
template void join_batches(std::span<const Batch<float>* const>, Batch<float>&);
template void join_batches(std::span<const Batch<double>* const>, Batch<double>&);
template std::vector<Batch<float>> collect_batches(const Split<float>&, std::span<const index_t>,
                                                   index_t);
template std::vector<Batch<double>> collect_batches(const Split<double>&, std::span<const index_t>,
                                                    index_t);

}  // namespace curv
