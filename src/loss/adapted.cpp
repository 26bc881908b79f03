#include "curv/loss/adapted.hpp"

#include <cmath>

#include "curv/core/error.hpp"

namespace curv {

template <class T>
WeightedLoss<T>::WeightedLoss(std::unique_ptr<Loss<T>> base) : base_(std::move(base)) {}

template <class T>
void WeightedLoss<T>::set_weights(std::vector<T> w) {
  for (T v : w)
    CURV_CHECK(std::isfinite(double(v)) && v >= T(0),
               "weighted loss: expected finite example weights >= 0, found ", v);
  w_ = std::move(w);
}

template <class T>
double WeightedLoss<T>::forward(View<const T> z, const Targets<T>& targets) {
  base_->forward(z, targets);
  this->set_shape(z.shape);
  CURV_CHECK(index_t(w_.size()) == this->N_, "weighted loss: expected ", this->N_,
             " example weights (the batch's rows), found ", w_.size());
  this->loss_.resize(w_.size());
  base_->per_example(this->loss_.data());
  double total = 0;
  for (std::size_t n = 0; n < w_.size(); ++n) {
    this->loss_[n] *= w_[n];
    total += double(this->loss_[n]);
  }
  return total / double(this->N_);
}

template <class T>
void WeightedLoss<T>::scale_rows(T* x, index_t row, bool root) const {
  for (index_t n = 0; n < this->N_; ++n) {
    const T f = root ? std::sqrt(w_[std::size_t(n)]) : w_[std::size_t(n)];
    for (index_t i = 0; i < row; ++i) x[n * row + i] *= f;
  }
}

template <class T>
void WeightedLoss<T>::grad(T* dz) const {
  base_->grad(dz);
  scale_rows(dz, this->C_, false);
}

template <class T>
void WeightedLoss<T>::hvp(const T* z_dot, T* out) const {
  base_->hvp(z_dot, out);  // block diagonal over examples: row n scales by wₙ
  scale_rows(out, this->C_, false);
}

template <class T>
void WeightedLoss<T>::sqrt_hessian(T* s) const {
  base_->sqrt_hessian(s);
  scale_rows(s, this->C_ * sqrt_columns(), true);
}

template <class T>
void WeightedLoss<T>::symmetric_sqrt(T* s) const {
  base_->symmetric_sqrt(s);
  scale_rows(s, this->C_ * this->C_, true);
}

template <class T>
void WeightedLoss<T>::sampled_sqrt(Rng& rng, index_t m, T* s) const {
  base_->sampled_sqrt(rng, m, s);
  scale_rows(s, this->C_ * m, true);
}

template <class T>
BregmanLoss<T>::BregmanLoss(std::unique_ptr<Loss<T>> base, std::unique_ptr<Loss<T>> anchor_copy)
    : base_(std::move(base)), anchor_(std::move(anchor_copy)) {}

template <class T>
double BregmanLoss<T>::forward(View<const T> z, const Targets<T>& targets) {
  this->set_shape(z.shape);
  const index_t N = this->N_, C = this->C_;
  CURV_CHECK(targets.values.numel() == z.numel(), "bregman: expected anchor outputs like ",
             z.shape.str(), " as targets, found ", targets.values.shape.str());
  labels_.assign(std::size_t(N), 0);
  zeros_.assign(std::size_t(N * C), T(0));
  const Targets<T> base_targets{targets.labels ? targets.labels : labels_.data(),
                                View<const T>(zeros_.data(), z.shape)};
  const View<const T> a(targets.values.data, z.shape);
  base_->forward(z, base_targets);
  anchor_->forward(a, base_targets);
  anchor_grad_.resize(std::size_t(N * C));
  anchor_->grad(anchor_grad_.data());
  std::vector<T> at_z(static_cast<std::size_t>(N)), at_a(static_cast<std::size_t>(N));
  base_->per_example(at_z.data());
  anchor_->per_example(at_a.data());
  this->loss_.resize(std::size_t(N));
  double total = 0;
  for (index_t n = 0; n < N; ++n) {
    double linear = 0;  // ∇b(aₙ)ᵀ(zₙ − aₙ), with ∇b(aₙ) = N · anchor_grad_ row n
    for (index_t c = 0; c < C; ++c)
      linear += double(anchor_grad_[std::size_t(n * C + c)]) * double(N) *
                (double(z.data[n * C + c]) - double(a.data[n * C + c]));
    const double d = double(at_z[std::size_t(n)]) - double(at_a[std::size_t(n)]) - linear;
    this->loss_[std::size_t(n)] = T(d);
    total += d;
  }
  return total / double(N);
}

template <class T>
void BregmanLoss<T>::grad(T* dz) const {
  base_->grad(dz);
  for (std::size_t i = 0; i < anchor_grad_.size(); ++i) dz[i] -= anchor_grad_[i];
}

template <class T>
std::unique_ptr<Loss<T>> make_bregman_loss(std::string_view base_name) {
  return std::make_unique<BregmanLoss<T>>(make_loss<T>(base_name), make_loss<T>(base_name));
}

template class WeightedLoss<float>;
template class WeightedLoss<double>;
template class BregmanLoss<float>;
template class BregmanLoss<double>;
template std::unique_ptr<Loss<float>> make_bregman_loss<float>(std::string_view);
template std::unique_ptr<Loss<double>> make_bregman_loss<double>(std::string_view);

}  // namespace curv
