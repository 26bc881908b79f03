// BatchSource: the one way curv walks examples in batches. A training run draws batches from a
// source that reshuffles its list at every epoch's start; evaluation, curvature data and
// predictions walk a list once, in order (for_each_batch).
//
// Reproducibility: one generator, seeded once, both shuffles the list and is handed to the split
// for what training randomizes (augmentation, window offsets, generated examples), in that
// order. rng_state() before a batch and its indices are what a recorded run keeps to draw the
// same batch again (fill).
#pragma once

#include <functional>
#include <span>
#include <vector>

#include "curv/data/split.hpp"

namespace curv {

template <class T>
class BatchSource {
 public:
  struct Options {
    index_t batch = 128;
    bool shuffle = false;    // reshuffle the list at every epoch's start
    bool drop_last = false;  // full batches only, so every step's loss has one scale
    bool draw = false;       // hand the generator to the split (training-time randomness)
    std::uint64_t seed = 0;
  };

  // Streams `indices` of `split` (which must outlive the source); throws curv::Error naming the
  // split when an index is outside it, the list is empty or the batch does not fit.
  BatchSource(const Split<T>& split, std::vector<index_t> indices, Options options);

  const Split<T>& split() const { return split_; }
  index_t examples() const { return index_t(order_.size()); }
  index_t batch_size() const { return opt_.batch; }
  index_t batches_per_epoch() const { return per_epoch_; }
  // Batches handed out so far, and where the next one falls.
  index_t batches() const { return taken_; }
  index_t epoch() const { return taken_ / per_epoch_; }

  // The next batch (valid until the next call); after an epoch's last batch a new epoch starts.
  const Batch<T>& next();
  // The generator's state right before the last batch's examples were filled (after the
  // epoch's shuffle): with that batch's indices, what draws the same batch again.
  const Rng::State& last_fill_state() const { return last_fill_; }
  // The examples idx filled as next() did with the generator at state s.
  void fill(std::span<const index_t> idx, const Rng::State& s, Batch<T>& b) const;

 private:
  const Split<T>& split_;
  Options opt_;
  std::vector<index_t> order_;
  index_t per_epoch_ = 0, taken_ = 0;
  Rng rng_;
  Rng::State last_fill_{};
  Batch<T> batch_;
};

// Throws curv::Error naming the split when `indices` is empty or holds an index outside it.
template <class T>
void check_example_indices(const Split<T>& split, std::span<const index_t> indices);

// Calls f once per batch of `indices` of `split`, in order, `batch` examples at a time (the last
// may be smaller), with no randomness.
template <class T>
void for_each_batch(const Split<T>& split, std::span<const index_t> indices, index_t batch,
                    const std::function<void(const Batch<T>&)>& f);

// The same batches, kept (for operators that record every batch once).
template <class T>
std::vector<Batch<T>> collect_batches(const Split<T>& split, std::span<const index_t> indices,
                                      index_t batch);

// The batches' examples one after another in one batch (inputs, labels, values and indices);
// every part must have the same example shape and the same kinds of target.
template <class T>
void join_batches(std::span<const Batch<T>* const> parts, Batch<T>& out);

extern template class BatchSource<float>;
extern template class BatchSource<double>;

}  // namespace curv
