// TrainLoop: one optimizer step per batch, done the same way for every run in curv — `curv
// train`, every experiment's grid, a replay. A step
//   1. draws the next batch from a BatchSource over the training examples (reshuffled at every
//      epoch's start from the loop's seed; full batches only, so every loss has one scale),
//   2. records it and lets the optimizer attach its observers (K-FAC statistics ride on the
//      gradient's sweep),
//   3. takes the gradient of the batch loss; a non-finite loss or gradient stops the run with a
//      curv::Error naming the step (and the parameter),
//   4. adds each regularizer's value to the step's loss and its gradient to ∇L (the optimizer's
//      quadratic model, if it has one, adds their curvature products: nn/regularizer.hpp),
//   5. clips the gradient's norm (if asked) and calls the hooks' before_step,
//   6. steps the optimizer with the given learning rate,
//   7. calls the hooks' after_step, then holds the parameter store's pruning mask: masked weights
//      and their entries of the optimizer's state back at exactly zero.
// All of a step is timed; evaluations and recording, done by the caller between steps, are not.
// One thread and one seed give bitwise identical runs.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "curv/autodiff/tape.hpp"
#include "curv/data/batch_source.hpp"
#include "curv/nn/model.hpp"
#include "curv/nn/regularizer.hpp"
#include "curv/optim/optimizer.hpp"

namespace curv {

template <class T>
class Objective;
template <class T>
class Loss;
template <class T>
class WeightedLoss;

template <class T>
class TrainHook {
 public:
  virtual ~TrainHook() = default;
  // After the gradient and the regularizers, before the optimizer: may change params.grad().
  virtual void before_step(ParamStore<T>& /*params*/, Optimizer<T>& /*opt*/) {}
  // After the optimizer's step: may change the parameters and the optimizer's state.
  virtual void after_step(ParamStore<T>& /*params*/, Optimizer<T>& /*opt*/) {}
};

// Keeps the parameters with keep[i] == 0 at exactly zero after every step, and their entries of
// the optimizer's state (momentum, Adam's moments) too, whatever the optimizer proposed.
template <class T>
class MaskProjection final : public TrainHook<T> {
 public:
  explicit MaskProjection(std::vector<std::uint8_t> keep) : keep_(std::move(keep)) {}
  void after_step(ParamStore<T>& params, Optimizer<T>& opt) override;
  // Zeroes the masked parameters (before the first step).
  void apply(ParamStore<T>& params) const;
  const std::vector<std::uint8_t>& keep() const { return keep_; }

 private:
  std::vector<std::uint8_t> keep_;
};

// A data-parallel run's link between its processes (distributed/data_parallel.hpp). Each of
// shards() processes records its own shard of every global batch and sweeps backward through
// it; the exchange turns each process's batch gradient into the global batch's, the same on
// every process, and may start summing finished layers while the sweep goes on.
template <class T>
class GradientExchange {
 public:
  virtual ~GradientExchange() = default;
  virtual int shards() const = 0;
  virtual int shard() const = 0;  // this process's, 0..shards()-1
  // Before the backward sweep over `tape` into the flat gradient g (P entries).
  virtual void begin(const Tape<T>& tape, T* g, index_t P) = 0;
  // As the sweep finishes tape node j.
  virtual void after_node(std::size_t j) = 0;
  // After the sweep: g becomes the mean of the processes' batch gradients (each the mean over
  // an equal shard), and the returned loss the mean of their `loss`.
  virtual double finish(double loss) = 0;
};

template <class T>
class TrainLoop {
 public:
  // Trains on `examples` of `train` (which must outlive the loop) in batches of `batch`.
  TrainLoop(Model<T>& model, Optimizer<T>& opt, const Split<T>& train,
            std::vector<index_t> examples, index_t batch, std::uint64_t seed, double clip_norm = 0);
  ~TrainLoop();
  TrainLoop(const TrainLoop&) = delete;
  TrainLoop& operator=(const TrainLoop&) = delete;

  // The batch loss becomes (1/B) Σₙ wₙ ℓₙ over each batch of B, with wₙ = weights[i] for the
  // example at index i of the split (one weight per example of the split, finite and >= 0) and
  // the divisor B kept: wₙ = 0 takes an example out of the objective at the full set's 1/N
  // weight while every batch stays as drawn (leave-out retraining, influence/retrain_warm.hpp).
  void set_example_weights(std::vector<double> weights);
  // Draws every batch of B as `shards` shards of B/shards examples (B divisible by shards):
  // the training examples are cut into `shards` equal contiguous parts (the last n mod shards
  // dropped), each shuffled every epoch by its own stream (seeded by the loop's seed and the
  // shard; one shard is the unsharded draw), and a batch is their next B/shards each, in shard
  // order. Without an exchange this process computes every shard; with one (shards from it) it
  // holds and computes only exchange.shard()'s part and the exchange sums the gradients: R
  // processes then take the steps one process takes with shards = R. Before the first step.
  void set_shards(int shards, GradientExchange<T>* exchange = nullptr);
  int shards() const { return int(sources_.size()) * (exchange_ ? exchange_->shards() : 1); }

  // Replaces the model's own loss on this loop's batches (a Bregman divergence to anchor
  // outputs, loss/adapted.hpp; the split's targets must be what the loss expects).
  void set_loss(std::unique_ptr<Loss<T>> loss);

  // Both must outlive the loop; they act in the order added.
  void add_regularizer(const Regularizer<T>& r);
  void add_hook(TrainHook<T>& h);

  // One step on the next batch with learning rate lr; returns the step's loss (the batch loss
  // plus the regularizers' values).
  double step(double lr);
  // One step on the batch of examples idx drawn with the generator at state s, as recorded by a
  // trajectory (the source's own order is left where it was).
  double replay_step(std::span<const index_t> idx, const Rng::State& s, double lr);

  index_t steps() const { return step_; }
  index_t steps_per_epoch() const { return sources_[0].batches_per_epoch(); }
  // The global batch (all shards').
  index_t batch_size() const { return batch_; }
  // The last step's batch (this process's part of it, in a data-parallel run), and the
  // generator's state before its examples were drawn (the first shard's).
  const Batch<T>& batch() const { return *last_; }
  const Rng::State& batch_state() const { return last_state_; }
  // Training time so far: batch assembly, sweeps, regularizers, hooks and optimizer steps.
  double seconds() const { return seconds_; }
  // Adds time spent for training outside step(): a rate controller's curvature measurements.
  void charge(double seconds) { seconds_ += seconds; }
  // The tape's memory for one training batch.
  std::size_t activation_bytes() const;
  Model<T>& model() { return model_; }
  Optimizer<T>& optimizer() { return opt_; }

 private:
  double run_step(const Batch<T>& b, double lr);
  // The batch recorded on the objective, with the model's training-time randomness on.
  double recorded_loss(const Batch<T>& b);

  // The next batch: one source's, or the shards' concatenated.
  const Batch<T>& draw();

  Model<T>& model_;
  Optimizer<T>& opt_;
  std::vector<index_t> examples_;
  index_t batch_;
  std::uint64_t seed_;
  std::vector<BatchSource<T>> sources_;  // one per shard this process computes
  GradientExchange<T>* exchange_ = nullptr;
  Batch<T> joined_;  // the shards' batches, concatenated
  double clip_norm_, seconds_ = 0;
  index_t step_ = 0;
  // Builds the objective on loss_, weighted when example weights are set.
  void rebuild_objective();

  const Split<T>& train_;
  std::unique_ptr<Loss<T>> loss_;
  std::vector<double> example_weights_;  // empty: every example at weight 1
  WeightedLoss<T>* weighted_ = nullptr;  // loss_ itself, when weights are set
  std::unique_ptr<Objective<T>> obj_;
  std::vector<const Regularizer<T>*> regularizers_;
  std::vector<TrainHook<T>*> hooks_;
  std::vector<T> reg_grad_;
  const Batch<T>* last_ = nullptr;
  Batch<T> replayed_;
  Rng::State last_state_{};
};

extern template class TrainLoop<float>;
extern template class TrainLoop<double>;
extern template class MaskProjection<float>;
extern template class MaskProjection<double>;

}  // namespace curv
