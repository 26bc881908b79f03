#include "curv/nn/regularizer.hpp"

#include "curv/core/error.hpp"

namespace curv {

template <class T>
QuadraticRegularizer<T>::QuadraticRegularizer(std::vector<double> strength,
                                              std::vector<double> center, std::string name)
    : d_(std::move(strength)), c_(std::move(center)), name_(std::move(name)) {
  CURV_CHECK(c_.size() == d_.size(), name_, ": expected a center of ", d_.size(),
             " entries (one per strength), found ", c_.size());
  for (double d : d_) CURV_CHECK(d >= 0, name_, ": expected strengths >= 0, found ", d);
}

template <class T>
void QuadraticRegularizer<T>::set_strength(std::vector<double> strength) {
  CURV_CHECK(strength.size() == d_.size(), name_, ": expected ", d_.size(),
             " strengths (one per parameter), found ", strength.size());
  for (double d : strength) CURV_CHECK(d >= 0, name_, ": expected strengths >= 0, found ", d);
  d_ = std::move(strength);
}

template <class T>
void QuadraticRegularizer<T>::check(View<const T> theta) const {
  CURV_CHECK(theta.numel() == index_t(d_.size()), name_, ": expected ", d_.size(),
             " parameters, found ", theta.numel());
}

template <class T>
double QuadraticRegularizer<T>::value(View<const T> theta) const {
  check(theta);
  double r = 0;
  for (std::size_t i = 0; i < d_.size(); ++i) {
    const double e = double(theta.data[i]) - c_[i];
    r += d_[i] * e * e;
  }
  return 0.5 * r;
}

template <class T>
void QuadraticRegularizer<T>::gradient(View<const T> theta, std::vector<T>& g) const {
  check(theta);
  g.resize(d_.size());
  for (std::size_t i = 0; i < d_.size(); ++i) g[i] = T(d_[i] * (double(theta.data[i]) - c_[i]));
}

template <class T>
void QuadraticRegularizer<T>::curvature_mv(View<const T> theta, View<const T> v,
                                           std::vector<T>& out) const {
  check(theta);
  CURV_CHECK(v.numel() == index_t(d_.size()), name_, ": expected a vector of ", d_.size(),
             " entries, found ", v.numel());
  out.resize(d_.size());
  for (std::size_t i = 0; i < d_.size(); ++i) out[i] = T(d_[i] * double(v.data[i]));
}

template class QuadraticRegularizer<float>;
template class QuadraticRegularizer<double>;

}  // namespace curv
