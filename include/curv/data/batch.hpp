// Batch: some examples of one split, as a model and a loss consume them.
#pragma once

#include <cstdint>
#include <vector>

#include "curv/core/tensor.hpp"
#include "curv/loss/loss.hpp"

namespace curv {

template <class T>
struct Batch {
  Tensor<T> x;                       // (n, example…); token models take integer ids held as T
  std::vector<std::int64_t> labels;  // class labels: n, or n·T per position; empty if none
  Tensor<T> values;                  // real targets (reconstruction, mse): (n, C); empty if none
  std::vector<index_t> indices;      // the examples' indices in their split, in batch order

  index_t size() const { return x.empty() ? 0 : x.shape().rows(); }
  // Whether the batch has targets: a batch without them can be predicted and differentiated
  // through (Objective::record), not scored.
  bool labelled() const { return !labels.empty() || !values.empty(); }
  Targets<T> targets() const {
    return {labels.empty() ? nullptr : labels.data(),
            values.empty() ? View<const T>() : values.view()};
  }
};

}  // namespace curv
