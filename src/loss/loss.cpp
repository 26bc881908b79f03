#include "curv/loss/loss.hpp"

#include <lapacke.h>

#include <cmath>
#include <vector>

#include "curv/core/error.hpp"

namespace curv {

template <class T>
void Loss<T>::set_shape(const Shape& z) {
  CURV_CHECK(z.rank() >= 1 && z.numel() > 0, name(), ": expected outputs (N,C), found ", z.str());
  N_ = z.rows();
  C_ = z.row_size();
}

template <class T>
void Loss<T>::per_example(T* out) const {
  std::copy(loss_.begin(), loss_.end(), out);
}

template <class T>
const T* Loss<T>::target_values(View<const T> z, const Targets<T>& t) const {
  CURV_CHECK(t.values.numel() == z.numel(), name(), ": expected targets with ", z.numel(),
             " values like outputs ", z.shape.str(), ", found ", t.values.shape.str());
  return t.values.data;
}

template <class T>
void Loss<T>::symmetric_sqrt(T* s) const {
  const index_t C = C_, K = sqrt_columns();
  std::vector<T> factor(static_cast<std::size_t>(N_ * C * K));
  sqrt_hessian(factor.data());
  std::vector<double> h(static_cast<std::size_t>(C * C)), w(static_cast<std::size_t>(C));
  for (index_t n = 0; n < N_; ++n) {
    const T* f = factor.data() + n * C * K;
    for (index_t i = 0; i < C; ++i)  // H = S Sᵀ
      for (index_t j = 0; j < C; ++j) {
        double acc = 0;
        for (index_t k = 0; k < K; ++k) acc += double(f[i * K + k]) * double(f[j * K + k]);
        h[static_cast<std::size_t>(i * C + j)] = acc;
      }
    const int info = LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'V', 'U', int(C), h.data(), int(C), w.data());
    CURV_CHECK(info == 0, name(), ": eigendecomposition of an output Hessian failed (info ", info,
               ")");
    T* out = s + n * C * C;
    for (index_t i = 0; i < C; ++i)  // V diag(√λ) Vᵀ, with rounding's negative λ clipped
      for (index_t j = 0; j < C; ++j) {
        double acc = 0;
        for (index_t k = 0; k < C; ++k)
          acc += h[static_cast<std::size_t>(i * C + k)] *
                 std::sqrt(std::max(0.0, w[static_cast<std::size_t>(k)])) *
                 h[static_cast<std::size_t>(j * C + k)];
        out[i * C + j] = T(acc);
      }
  }
}

template class Loss<float>;
template class Loss<double>;

}  // namespace curv

#include "losses.hpp"

namespace curv {

template <class T>
std::unique_ptr<Loss<T>> make_loss(std::string_view name) {
  if (name == "cross_entropy") return detail::make_cross_entropy<T>();
  if (name == "bce") return detail::make_bce<T>();
  if (name == "mse") return detail::make_mse<T>();
  fail("loss: expected one of cross_entropy, bce, mse, found '", name, "'");
}

template std::unique_ptr<Loss<float>> make_loss<float>(std::string_view);
template std::unique_ptr<Loss<double>> make_loss<double>(std::string_view);

}  // namespace curv
