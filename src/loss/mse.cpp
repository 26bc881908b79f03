// Mean squared error, ℓₙ = ½‖zₙ − yₙ‖², mean over the batch:
//   ∇ℓₙ = zₙ − yₙ      ∇²ℓₙ = I      factor = symmetric root = I/√N
//   sampled ŷ ~ N(zₙ, I):  column m is (zₙ − ŷ)/√(N M) = −ε/√(N M)
#include <cmath>

#include "curv/core/error.hpp"
#include "losses.hpp"

namespace curv {
namespace {

template <class T>
class Mse final : public Loss<T> {
  using Loss<T>::N_;
  using Loss<T>::C_;
  using Loss<T>::loss_;

 public:
  std::string_view name() const override { return "mse"; }

  double forward(View<const T> z, const Targets<T>& t) override {
    this->set_shape(z.shape);
    CURV_CHECK(t.values.numel() == z.numel(), "mse: expected targets with ", z.numel(),
               " values like outputs ", z.shape.str(), ", found ", t.values.shape.str());
    z_ = z.data;
    t_ = t.values.data;
    loss_.assign(static_cast<std::size_t>(N_), T(0));
    double total = 0;
    for (index_t n = 0; n < N_; ++n) {
      double l = 0;
      for (index_t c = 0; c < C_; ++c) {
        const double d = double(z_[n * C_ + c]) - double(t_[n * C_ + c]);
        l += 0.5 * d * d;
      }
      loss_[static_cast<std::size_t>(n)] = T(l);
      total += l;
    }
    return total / double(N_);
  }

  void grad(T* dz) const override {
    const T inv = T(1) / T(N_);
    for (index_t i = 0; i < N_ * C_; ++i) dz[i] = (z_[i] - t_[i]) * inv;
  }

  void hvp(const T* zd, T* out) const override {
    const T inv = T(1) / T(N_);
    for (index_t i = 0; i < N_ * C_; ++i) out[i] = zd[i] * inv;
  }

  void sqrt_hessian(T* s) const override { symmetric_sqrt(s); }

  void symmetric_sqrt(T* s) const override {
    const T inv = T(1) / std::sqrt(T(N_));
    std::fill(s, s + N_ * C_ * C_, T(0));
    for (index_t n = 0; n < N_; ++n)
      for (index_t c = 0; c < C_; ++c) s[(n * C_ + c) * C_ + c] = inv;
  }

  void sampled_sqrt(Rng& rng, index_t m, T* s) const override {
    const T scale = T(1) / std::sqrt(T(N_) * T(m));
    for (index_t i = 0; i < N_ * C_ * m; ++i) s[i] = T(-rng.normal()) * scale;
  }

 private:
  const T* z_ = nullptr;
  const T* t_ = nullptr;
};

}  // namespace

namespace detail {
template <class T>
std::unique_ptr<Loss<T>> make_mse() {
  return std::make_unique<Mse<T>>();
}
template std::unique_ptr<Loss<float>> make_mse<float>();
template std::unique_ptr<Loss<double>> make_mse<double>();
}  // namespace detail
}  // namespace curv
