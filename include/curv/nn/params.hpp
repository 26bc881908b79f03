// ParamStore: every parameter of a model in one flat, contiguous buffer (and one gradient
// buffer of the same size), with named views. The flat vector is what every curvature product,
// solver and optimizer works on; its order is the order in which parameters were added
// (for models: the documented name order, weight before bias).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "curv/autodiff/node.hpp"
#include "curv/core/tensor.hpp"

namespace curv {

struct ParamInfo {
  std::string name;  // e.g. "fc1.weight"
  Shape shape;
  index_t offset = 0;  // in the flat vector
};

template <class T>
class ParamStore {
 public:
  // Adds a zero-initialized parameter and returns its index. Adding moves the buffers, so
  // views and refs are taken after the model has added all of its parameters.
  index_t add(std::string name, Shape shape);

  index_t size() const { return size_; }  // total number of scalars P
  index_t count() const { return static_cast<index_t>(info_.size()); }
  const std::vector<ParamInfo>& info() const { return info_; }
  const ParamInfo& info(index_t i) const { return info_[static_cast<std::size_t>(i)]; }
  // Index of a parameter by name; throws curv::Error naming the known ones otherwise.
  index_t find(const std::string& name) const;

  T* data() { return values_.data(); }
  const T* data() const { return values_.data(); }
  T* grad() { return grads_.data(); }
  const T* grad() const { return grads_.data(); }
  View<T> value(index_t i) { return View<T>(data() + info(i).offset, info(i).shape); }
  View<const T> value(index_t i) const {
    return View<const T>(data() + info(i).offset, info(i).shape);
  }
  // What ops take: the value and the offset in the flat vector. i < 0 gives an empty ref.
  ParamRef<T> ref(index_t i) const;

  // Pruning mask: keep[i] = 0 pins entry i of the flat vector at exactly zero. Empty means dense.
  // set_mask zeroes the masked values; the training loop keeps them (and the optimizer's state
  // for them) at zero after every step, and checkpoints save the mask as <param>_mask tensors.
  void set_mask(std::vector<std::uint8_t> keep);
  const std::vector<std::uint8_t>& mask() const { return mask_; }
  bool masked() const { return !mask_.empty(); }
  // Zeroes the masked entries again (after anything wrote to the values).
  void apply_mask();
  // Masked entries among the parameter's (0 without a mask).
  index_t masked_count(index_t i) const;

 private:
  std::vector<ParamInfo> info_;
  Tensor<T> values_, grads_;
  index_t size_ = 0;
  std::vector<std::uint8_t> mask_;
};

extern template class ParamStore<float>;
extern template class ParamStore<double>;

}  // namespace curv
