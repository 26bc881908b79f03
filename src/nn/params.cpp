#include "curv/nn/params.hpp"

#include <algorithm>

namespace curv {

template <class T>
index_t ParamStore<T>::add(std::string name, Shape shape) {
  for (const ParamInfo& p : info_)
    CURV_CHECK(p.name != name, "parameters: expected unique names, found '", name, "' twice");
  info_.push_back(ParamInfo{std::move(name), shape, size_});
  const index_t old = size_;
  size_ += shape.numel();
  Tensor<T> v(Shape{size_}), g(Shape{size_});
  std::copy(values_.data(), values_.data() + old, v.data());
  std::copy(grads_.data(), grads_.data() + old, g.data());
  values_ = std::move(v);
  grads_ = std::move(g);
  return count() - 1;
}

template <class T>
index_t ParamStore<T>::find(const std::string& name) const {
  for (index_t i = 0; i < count(); ++i)
    if (info(i).name == name) return i;
  std::string known;
  for (const ParamInfo& p : info_) known += (known.empty() ? "" : ", ") + p.name;
  fail("parameters: expected one of {", known, "}, found '", name, "'");
}

template <class T>
ParamRef<T> ParamStore<T>::ref(index_t i) const {
  if (i < 0) return {};
  return ParamRef<T>{value(i), info(i).offset};
}

template <class T>
void ParamStore<T>::set_mask(std::vector<std::uint8_t> keep) {
  CURV_CHECK(keep.empty() || index_t(keep.size()) == size_, "mask: expected ", size_,
             " entries (the parameter count), found ", keep.size());
  mask_ = std::move(keep);
  apply_mask();
}

template <class T>
void ParamStore<T>::apply_mask() {
  for (std::size_t i = 0; i < mask_.size(); ++i)
    if (!mask_[i]) values_[index_t(i)] = T(0);
}

template <class T>
index_t ParamStore<T>::masked_count(index_t i) const {
  if (mask_.empty()) return 0;
  index_t n = 0;
  for (index_t j = info(i).offset; j < info(i).offset + info(i).shape.numel(); ++j)
    n += mask_[std::size_t(j)] ? 0 : 1;
  return n;
}

template class ParamStore<float>;
template class ParamStore<double>;

}  // namespace curv
