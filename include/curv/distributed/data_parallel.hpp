// Data-parallel training: R processes, each computing its shard of every global batch
// (TrainLoop::set_shards), their gradients summed by allreduce in buckets started while the
// backward sweep is still running (docs/distributed.md).
//
// Buckets are runs of whole parameter tensors, last tensor first (the order a backward sweep
// finishes them), of at least `bucket_bytes` each. A tensor's gradient is complete once the
// sweep has passed the earliest tape node that reads it (Node::parameter_offsets, which the op
// checker's params_named row keeps honest); a bucket's sum starts, non-blocking, as soon as all
// its tensors are complete and every earlier bucket has started, so every process starts the
// same sums in the same order. Between nodes the exchange tests the oldest running sum, which
// is how Open MPI makes progress with only the main thread calling it (MPI_THREAD_FUNNELED).
// finish() waits for the rest and divides by R: the mean of R shard means of equal size is the
// global batch's mean.
#pragma once

#include <cstddef>
#include <vector>

#include "curv/distributed/communicator.hpp"
#include "curv/nn/params.hpp"
#include "curv/train/loop.hpp"

namespace curv::distributed {

template <class T>
class BucketedAllreduce final : public GradientExchange<T> {
 public:
  static constexpr std::size_t kDefaultBucketBytes = 64 << 10;

  BucketedAllreduce(Communicator& comm, const ParamStore<T>& params,
                    std::size_t bucket_bytes = kDefaultBucketBytes);

  int shards() const override { return comm_.size(); }
  int shard() const override { return comm_.rank(); }
  void begin(const Tape<T>& tape, T* g, index_t P) override;
  void after_node(std::size_t j) override;
  double finish(double loss) override;

  struct Stats {
    index_t steps = 0;
    std::size_t buckets_per_step = 0;
    std::size_t started_in_sweep = 0;  // over all steps: sums started before finish()
    std::size_t bytes_per_step = 0;    // the gradient's bytes each process sends into the sum
    double wait_seconds = 0;           // in finish(), waiting for sums still running
  };
  const Stats& stats() const { return stats_; }

  struct Bucket {
    index_t begin = 0, end = 0;  // flat parameter range [begin, end)
    std::vector<index_t> tensors;
    std::size_t ready_after = 0;  // complete once the sweep has finished node j <= this
  };
  // The buckets of the last tape begin() saw.
  const std::vector<Bucket>& buckets() const { return buckets_; }

 private:
  void plan(const Tape<T>& tape);
  void start_ready(std::size_t j);

  Communicator& comm_;
  const ParamStore<T>& params_;
  std::size_t bucket_bytes_;
  std::vector<Bucket> buckets_;
  std::size_t planned_nodes_ = 0;  // the tape size the buckets were planned for
  std::vector<Communicator::Request> requests_;
  std::size_t next_ = 0, oldest_ = 0;  // the next bucket to start, the oldest still running
  T* g_ = nullptr;
  Stats stats_;
};

extern template class BucketedAllreduce<float>;
extern template class BucketedAllreduce<double>;

}  // namespace curv::distributed
