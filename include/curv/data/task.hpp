// Task: the data a model learns from and is scored on, as a library service — named splits of
// examples, index lists over them, and metrics on any list. Every command, experiment and
// method reaches data only through this (and BatchSource, which walks a list in batches).
//
//   classification   images → class labels (cross_entropy): loss and accuracy
//   reconstruction   images → themselves (bce, the autoencoder): loss and the squared error
//                    Σ_pixels (σ(output) − x)² per image
//   character LM     text windows → next characters (cross_entropy per position); the last 10%
//                    of the text is the test split: loss and a bigram model's, in nats/char
//   text-to-text     synthetic reverse/sort/add tasks: loss and greedy exact match per task
//   regression       "sine": y = sin x + noise (mse), with a "wide" split beyond the training
//                    inputs' range: loss
//   .npy data        inputs (and optional targets) from .npy files: one split, train
//
// Splits: "train" and "test" (the dataset's own), and "val" when TaskOptions::validation carves
// a seeded fraction out of train — the rest stays "train", renumbered from 0. Metrics are named
// after the split they were computed on: "test_loss", "val_accuracy", "train_error", ….
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "curv/data/dataset.hpp"
#include "curv/data/index_list.hpp"
#include "curv/data/split.hpp"
#include "curv/nn/model.hpp"

namespace curv {

using Metrics = std::map<std::string, double>;

template <class T>
class Task {
 public:
  virtual ~Task() = default;
  virtual std::string name() const = 0;  // the data set, e.g. "fashion-mnist"
  virtual std::string loss() const = 0;
  virtual Shape example_shape() const = 0;
  // Model outputs per example (per position): classes, pixels or vocabulary; 0 where the data
  // do not fix it (.npy class labels: any count above the largest label).
  virtual index_t outputs() const = 0;

  // A split by name; throws curv::Error naming the splits there are.
  const Split<T>& split(const std::string& name) const;
  bool has_split(const std::string& name) const;
  std::vector<std::string> split_names() const;  // train, [val,] test where present
  // Bytes of example data held in memory, over all splits.
  std::size_t data_bytes() const;

  // Metrics of the model on the examples of `list`, `batch` at a time, named "<split>_…".
  virtual Metrics evaluate(const Model<T>& model, const IndexList& list, index_t batch) const = 0;
  // Throws curv::Error when the model cannot learn this task (input shape, outputs, loss).
  virtual void check_model(const Model<T>& model) const;

  // Moves a seeded `fraction` of train into a new "val" split (make_task does this when asked).
  void carve_validation(double fraction, std::uint64_t seed);

  // The examples of a split whose labels label noise replaced (TaskOptions::label_noise for
  // "train", test_label_noise for "test"; indices in the split, ascending); empty without.
  const std::vector<index_t>& relabeled(const std::string& split = "train") const;
  void set_relabeled(const std::string& split, std::vector<index_t> examples);

 protected:
  void set_split(const std::string& name, std::shared_ptr<const Split<T>> split);

 private:
  std::vector<std::pair<std::string, std::shared_ptr<const Split<T>>>> splits_;
  std::shared_ptr<const Split<T>> carved_from_;  // the whole training split, once carved
  std::vector<std::pair<std::string, std::vector<index_t>>> relabeled_;  // by split
};

struct TaskOptions {
  bool augment = false;   // CIFAR-10: random crop (padding 4) and flip, on training draws
  index_t context = 64;   // character LM: tokens per window
  double validation = 0;  // fraction of train carved out as the "val" split (0: none)
  std::uint64_t validation_seed = 0;
  std::string labels;  // .npy data: the targets file ("" for inputs alone)
  // Image data: inputs standardized per channel by the training split's mean and deviation
  // (PyTorch recipes' Normalize); reconstruction targets stay pixels/255.
  bool standardize = false;
  // Image data: the test split's images rotated by this many degrees, counter-clockwise about
  // their centre (bilinear, black outside) — rotated MNIST, the shift Ovadia et al. 2019 and
  // Laplace Redux evaluate calibration under. Training draws stay upright.
  double test_rotation = 0;
  // Image classification: this fraction of the training split's labels replaced by another
  // class, uniformly (symmetric label noise, seeded; Task::relabeled lists them) — the data
  // mislabel detection is measured on.
  double label_noise = 0;
  std::uint64_t label_noise_seed = 0;
  // The same for the test split: data the model did not train on, with labels to be checked
  // (jax-influence's protocol). A property of the data a command reads, not of a training run.
  double test_label_noise = 0;
  std::uint64_t test_label_noise_seed = 0;
  // Image classification: only these classes, in both splits, relabeled 0..K−1 in the order
  // given (keep_classes, data/dataset.hpp); empty: all.
  std::vector<std::int64_t> classes;
};

// "mnist", "fashion-mnist", "cifar10" (classification, or reconstruction for loss "bce"),
// "moby-dick" (character LM), "t2t-synthetic" (text-to-text tasks, data/t2t.hpp), or a path
// ending in .npy: inputs in the model's layout, with opt.labels as targets (int64 class labels
// [N], or float targets [N, C] for bce and mse). Throws curv::Error naming the known data sets.
template <class T>
std::unique_ptr<Task<T>> make_task(const std::string& dataset, const std::string& loss,
                                   const TaskOptions& opt);

std::vector<std::string> task_dataset_names();

// A task on data sets already in memory: classification, or reconstruction (bce) of the inputs.
template <class T>
std::unique_ptr<Task<T>> make_image_task(Dataset train, Dataset test, bool reconstruct = false,
                                         bool augment = false, bool standardize = false,
                                         double test_rotation = 0);

// Rotates n images x:(n, C, H, W) in place by `degrees` counter-clockwise about their centre
// ((H−1)/2, (W−1)/2): output pixel p takes the bilinear interpolation of the input at
// R(−θ)(p − centre) + centre, 0 outside the image.
template <class T>
void rotate_images(T* x, index_t n, const Shape& example, double degrees);

// Loss (and accuracy for class labels with one label per output row) of a model on `list`:
// the metrics every task reports, named "<prefix>_loss" and "<prefix>_accuracy".
template <class T>
Metrics loss_and_accuracy(const Model<T>& model, const Split<T>& split, const IndexList& list,
                          index_t batch, const std::string& loss);

}  // namespace curv
