// Task: what a training run learns from — batches of inputs and targets for one loss — and how a
// model is scored on held-out data. The training loop, the CLI and the experiments see only this.
//   classification   images → class labels (cross_entropy); test loss and accuracy
//   reconstruction   images → themselves (bce, the autoencoder); test loss and the squared error
//                    Σ_pixels (σ(output) − x)² per image
//   character LM     text windows → next characters (cross_entropy per position); the last 10%
//                    of the text held out; validation loss and a bigram model's, in nats/char
//   text-to-text     synthetic reverse/sort/add tasks; held-out loss and greedy exact match
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "curv/data/dataset.hpp"
#include "curv/loss/loss.hpp"
#include "curv/nn/model.hpp"

namespace curv {

template <class T>
struct BatchTargets {
  std::vector<std::int64_t> labels;
  Tensor<T> values;
  Targets<T> view() const {
    return {labels.data(), values.empty() ? View<const T>() : values.view()};
  }
};

using Metrics = std::map<std::string, double>;

template <class T>
class Task {
 public:
  virtual ~Task() = default;
  virtual std::string name() const = 0;
  virtual std::string loss() const = 0;
  virtual Shape example_shape() const = 0;
  // Model outputs the task expects per example (per position): classes, pixels or vocabulary.
  virtual index_t outputs() const = 0;
  virtual index_t train_size() const = 0;
  // Bytes of data the task keeps in memory.
  virtual std::size_t data_bytes() const = 0;
  // x:(n, example…) and targets for training examples idx[0..n); rng drives augmentation.
  virtual void train_batch(const index_t* idx, index_t n, Rng& rng, Tensor<T>& x,
                           BatchTargets<T>& y) const = 0;
  // Held-out metrics, e.g. {"test_loss", "test_accuracy"} or {"val_loss", "bigram_val_loss"}.
  virtual Metrics evaluate(const Model<T>& model, index_t batch) const = 0;
  // Throws curv::Error when the model cannot learn this task (input shape, outputs, loss).
  void check_model(const Model<T>& model) const;
};

struct TaskOptions {
  bool augment = false;  // CIFAR-10: random crop with padding 4 and horizontal flip
  index_t limit = -1;    // use only the first N training examples
  index_t context = 64;  // character LM: tokens per window
};

// "mnist", "fashion-mnist", "cifar10" (classification, or reconstruction for loss "bce"),
// "moby-dick" (character LM) and "t2t-synthetic" (text-to-text tasks, data/t2t.hpp). Throws
// curv::Error naming the known datasets otherwise.
template <class T>
std::unique_ptr<Task<T>> make_task(const std::string& dataset, const std::string& loss,
                                   const TaskOptions& opt);

std::vector<std::string> task_dataset_names();

// A task on datasets already in memory: classification, or reconstruction (bce) of the inputs.
template <class T>
std::unique_ptr<Task<T>> make_image_task(Dataset train, Dataset test, bool reconstruct = false,
                                         bool augment = false);

}  // namespace curv
