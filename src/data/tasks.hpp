// What the concrete tasks share inside the library: their constructors, for make_task, and the
// one evaluation loop they all score with.
#pragma once

#include <functional>

#include "curv/data/task.hpp"

namespace curv::detail {

template <class T>
std::unique_ptr<Task<T>> make_image_task(const std::string& dataset, const std::string& loss,
                                         const TaskOptions& opt);
template <class T>
std::unique_ptr<Task<T>> make_char_lm_task(const std::string& path, const TaskOptions& opt);
template <class T>
std::unique_ptr<Task<T>> make_t2t_task(const TaskOptions& opt);
template <class T>
std::unique_ptr<Task<T>> make_sine_task();
template <class T>
std::unique_ptr<Task<T>> make_npy_task(const std::string& inputs, const std::string& loss,
                                       const TaskOptions& opt);

// Per-batch sums of a metric: add(batch, the model's outputs (rows, C), sums) adds each metric's
// sum over the batch's examples to sums[name].
template <class T>
using BatchScore = std::function<void(const Batch<T>&, View<const T>, Metrics&)>;

// The model's mean loss over `list` as "<split>_loss", and the mean over its examples of every
// sum `score` adds, as "<split>_<name>": one forward pass per batch of `batch` examples.
template <class T>
Metrics score_batches(const Model<T>& model, const Split<T>& split, const IndexList& list,
                      index_t batch, const std::string& loss, const BatchScore<T>& score);

// Counts argmax(output row) == label as "accuracy" (one label per output row).
template <class T>
void count_correct(const Batch<T>& b, View<const T> out, Metrics& sums);

}  // namespace curv::detail
