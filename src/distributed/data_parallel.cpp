#include "curv/distributed/data_parallel.hpp"

#include <algorithm>
#include <chrono>
#include <limits>

#include "curv/core/error.hpp"

namespace curv::distributed {

template <class T>
BucketedAllreduce<T>::BucketedAllreduce(Communicator& comm, const ParamStore<T>& params,
                                        std::size_t bucket_bytes)
    : comm_(comm), params_(params), bucket_bytes_(bucket_bytes) {
  CURV_CHECK(bucket_bytes > 0, "data parallel: expected a bucket size > 0 bytes, found 0");
  // Buckets are contiguous ranges: the store's tensors must tile its flat vector in order.
  index_t at = 0;
  for (const ParamInfo& info : params.info()) {
    CURV_CHECK(info.offset == at, "data parallel: expected parameter ", info.name, " at offset ",
               at, ", found ", info.offset);
    at += info.shape.numel();
  }
}

template <class T>
void BucketedAllreduce<T>::plan(const Tape<T>& tape) {
  const auto& info = params_.info();
  // The earliest node reading each tensor; a tensor no node reads is complete from the start.
  constexpr std::size_t never = std::numeric_limits<std::size_t>::max();
  std::vector<std::size_t> first(info.size(), never);
  for (std::size_t j = tape.size(); j-- > 0;)
    for (index_t offset : tape.node(j).parameter_offsets()) {
      if (offset < 0) continue;
      const auto it = std::find_if(info.begin(), info.end(),
                                   [&](const ParamInfo& p) { return p.offset == offset; });
      CURV_CHECK(it != info.end(), "data parallel: tape node ", j, " reads a parameter at offset ",
                 offset, ", which no tensor starts at");
      first[std::size_t(it - info.begin())] = j;
    }
  buckets_.clear();
  Bucket b;
  for (std::size_t k = info.size(); k-- > 0;) {
    if (b.tensors.empty()) b.end = info[k].offset + info[k].shape.numel(), b.ready_after = never;
    b.tensors.push_back(index_t(k));
    b.begin = info[k].offset;
    b.ready_after = std::min(b.ready_after, first[k]);
    if (std::size_t(b.end - b.begin) * sizeof(T) >= bucket_bytes_ || k == 0) {
      buckets_.push_back(b);
      b = Bucket{};
    }
  }
  planned_nodes_ = tape.size();
  requests_.assign(buckets_.size(), {});
  stats_.buckets_per_step = buckets_.size();
  stats_.bytes_per_step = std::size_t(params_.size()) * sizeof(T);
}

template <class T>
void BucketedAllreduce<T>::begin(const Tape<T>& tape, T* g, index_t P) {
  CURV_CHECK(P == params_.size(), "data parallel: expected a gradient of ", params_.size(),
             " entries, found ", P);
  // Every batch of a run records the same graph; plan again only if it changed.
  if (tape.size() != planned_nodes_ || buckets_.empty()) plan(tape);
  g_ = g, next_ = 0, oldest_ = 0;
}

template <class T>
void BucketedAllreduce<T>::start_ready(std::size_t j) {
  while (next_ < buckets_.size() && j <= buckets_[next_].ready_after) {
    const Bucket& b = buckets_[next_];
    requests_[next_] = comm_.iallreduce_sum(g_ + b.begin, std::size_t(b.end - b.begin));
    ++next_;
  }
}

template <class T>
void BucketedAllreduce<T>::after_node(std::size_t j) {
  const std::size_t before = next_;
  start_ready(j);
  stats_.started_in_sweep += next_ - before;
  while (oldest_ < next_ && comm_.test(requests_[oldest_])) ++oldest_;
}

template <class T>
double BucketedAllreduce<T>::finish(double loss) {
  start_ready(0);
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t k = oldest_; k < next_; ++k) comm_.wait(requests_[k]);
  stats_.wait_seconds +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ++stats_.steps;
  const T inv = T(1) / T(comm_.size());
  for (index_t i = 0; i < params_.size(); ++i) g_[i] *= inv;
  return comm_.sum(loss) / double(comm_.size());
}

template class BucketedAllreduce<float>;
template class BucketedAllreduce<double>;

}  // namespace curv::distributed
