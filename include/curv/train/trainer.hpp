// Minibatch training and evaluation of a classifier on a Dataset.
#pragma once

#include <cstdint>
#include <functional>

#include "curv/data/dataset.hpp"
#include "curv/nn/model.hpp"
#include "curv/optim/optimizer.hpp"

namespace curv {

struct TrainConfig {
  index_t epochs = 1;
  index_t batch = 128;
  std::uint64_t seed = 0;     // shuffling
  index_t eval_batch = 1000;
  index_t log_every = 0;      // steps between progress callbacks (0: none)
};

struct Evaluation {
  double loss = 0;      // mean cross-entropy
  double accuracy = 0;  // fraction correct
};

struct EpochReport {
  index_t epoch = 0;
  index_t steps = 0;         // total so far
  double train_loss = 0;     // mean over the epoch's minibatches
  Evaluation test;
  double seconds = 0;        // training time of this epoch (evaluation excluded)
};

// Cross-entropy loss and accuracy of model on every example of ds.
template <class T>
Evaluation evaluate(const Model<T>& model, const Dataset& ds, index_t batch = 1000);

// Trains with softmax cross-entropy, reshuffling every epoch with the seed; calls on_epoch
// after each epoch's evaluation and on_step(step, loss) every log_every steps. Stops with
// curv::Error naming the step and the first parameter when a loss or gradient is not finite.
template <class T>
std::vector<EpochReport> train(Model<T>& model, Optimizer<T>& opt, const Dataset& train, const Dataset& test,
                               const TrainConfig& cfg, const std::function<void(const EpochReport&)>& on_epoch = {},
                               const std::function<void(index_t, double)>& on_step = {});

}  // namespace curv
