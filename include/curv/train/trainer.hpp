// The training loop: minibatches from a Task, one optimizer step each, held-out evaluation after
// every epoch (train), or one step at a time for loops that act between steps (TrainLoop: the
// experiments' iteration budgets, schedules and evaluations on their own clocks).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "curv/data/task.hpp"
#include "curv/optim/optimizer.hpp"
#include "curv/optim/schedule.hpp"

namespace curv {

template <class T>
class Objective;

// Steps through a task's training set in minibatches, reshuffling (seeded) at every epoch's
// start; full batches only, so every step's loss has one scale. Each step records the batch,
// lets the optimizer attach its observers, takes the gradient and steps. Stops with curv::Error
// naming the step (and the first parameter) when a loss or gradient is not finite. One thread
// and one seed give bitwise identical runs.
template <class T>
class TrainLoop {
 public:
  TrainLoop(Model<T>& model, Optimizer<T>& opt, const Task<T>& task, index_t batch,
            std::uint64_t seed, double clip_norm = 0);
  ~TrainLoop();
  TrainLoop(const TrainLoop&) = delete;
  TrainLoop& operator=(const TrainLoop&) = delete;

  // One step on the next minibatch with learning rate lr; returns the batch's loss.
  double step(double lr);
  index_t steps() const { return step_; }
  index_t steps_per_epoch() const { return per_epoch_; }
  // Training time so far: batch assembly, gradient and optimizer step (evaluation excluded).
  double seconds() const { return seconds_; }
  // The tape's memory for one training batch.
  std::size_t activation_bytes() const;

 private:
  Model<T>& model_;
  Optimizer<T>& opt_;
  const Task<T>& task_;
  index_t batch_, per_epoch_, step_ = 0;
  double clip_norm_, seconds_ = 0;
  std::unique_ptr<Loss<T>> loss_;
  std::unique_ptr<Objective<T>> obj_;
  Rng rng_;
  std::vector<index_t> order_;
  Tensor<T> x_;
  BatchTargets<T> y_;
};

struct TrainConfig {
  index_t epochs = 1;
  index_t batch = 128;
  std::uint64_t seed = 0;  // shuffling and augmentation
  index_t eval_batch = 0;  // 0: the training batch size (evaluation then needs no more memory)
  index_t log_every = 0;   // steps between on_step calls (0: none)
  Schedule schedule;       // learning rate per step; cosine's total_steps 0 means the whole run
  double clip_norm = 0;    // gradient-norm clipping (0: none)
};

struct EpochReport {
  index_t epoch = 0;
  index_t steps = 0;                 // total so far
  double train_loss = 0;             // mean over the epoch's minibatches
  Metrics metrics;                   // the task's held-out metrics
  double seconds = 0;                // training time of this epoch (evaluation excluded)
  std::size_t activation_bytes = 0;  // the tape's memory for one training batch
};

// Trains for cfg.epochs with a TrainLoop, evaluating after every epoch.
template <class T>
std::vector<EpochReport> train(
    Model<T>& model, Optimizer<T>& opt, const Task<T>& task, TrainConfig cfg,
    const std::function<void(const EpochReport&)>& on_epoch = {},
    const std::function<void(index_t step, index_t of, double loss)>& on_step = {});

}  // namespace curv
