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

template class ParamStore<float>;
template class ParamStore<double>;

}  // namespace curv
