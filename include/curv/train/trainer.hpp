// The training loop: minibatches from a Task, one optimizer step each, held-out evaluation after
// every epoch.
#pragma once

#include <cstdint>
#include <functional>

#include "curv/optim/optimizer.hpp"
#include "curv/optim/schedule.hpp"
#include "curv/train/task.hpp"

namespace curv {

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
  index_t steps = 0;      // total so far
  double train_loss = 0;  // mean over the epoch's minibatches
  Metrics metrics;        // the task's held-out metrics
  double seconds = 0;     // training time of this epoch (evaluation excluded)
  std::size_t activation_bytes = 0;  // the tape's memory for one training batch
};

// Trains with the task's loss, reshuffling every epoch with the seed. Stops with curv::Error
// naming the step and the first parameter when a loss or gradient is not finite. One thread
// and one seed give bitwise identical runs.
template <class T>
std::vector<EpochReport> train(Model<T>& model, Optimizer<T>& opt, const Task<T>& task, TrainConfig cfg,
                               const std::function<void(const EpochReport&)>& on_epoch = {},
                               const std::function<void(index_t step, index_t of, double loss)>& on_step = {});

}  // namespace curv
