// Sigmoid binary cross-entropy on logits, summed over the C outputs, mean over the batch
// (the deep autoencoder's loss). With σ = sigmoid(zₙ) and targets t ∈ [0,1]:
//   ℓₙ = Σ_c softplus(z) − t z      ∇ℓₙ = σ − t      ∇²ℓₙ = diag(σ(1−σ))
//   the Hessian is diagonal, so its factor is its symmetric square root: diag(√(σ(1−σ))/√N)
//   sampled t̂ ~ Bernoulli(σ):  column m is (σ − t̂)/√(N M)
#include <cmath>

#include "curv/core/error.hpp"
#include "curv/kernels/exp.hpp"
#include "losses.hpp"

namespace curv {
namespace {

template <class T>
class Bce final : public Loss<T> {
  using Loss<T>::N_;
  using Loss<T>::C_;
  using Loss<T>::loss_;

 public:
  std::string_view name() const override { return "bce"; }

  double forward(View<const T> z, const Targets<T>& t) override {
    this->set_shape(z.shape);
    t_ = this->target_values(z, t);
    s_.resize(static_cast<std::size_t>(N_ * C_));
    loss_.assign(static_cast<std::size_t>(N_), T(0));
    // e = exp(−|z|) once, in a loop that vectorizes; from it σ(z) and the stable
    // ℓ = Σ softplus(z) − t z with softplus(z) = max(z, 0) + log1p(e).
    const index_t M = N_ * C_;
    T* s = s_.data();
    e_.resize(static_cast<std::size_t>(M));
    for (index_t i = 0; i < M; ++i) e_[std::size_t(i)] = fast_exp(-std::abs(z.data[i]));
    for (index_t i = 0; i < M; ++i)
      s[i] = (z.data[i] >= T(0) ? T(1) : e_[std::size_t(i)]) / (T(1) + e_[std::size_t(i)]);
    double total = 0;
    for (index_t n = 0; n < N_; ++n) {
      double l = 0;
      for (index_t c = 0; c < C_; ++c) {
        const index_t i = n * C_ + c;
        const T x = z.data[i];
        l += double(std::max(x, T(0)) + std::log1p(e_[std::size_t(i)]) - t_[i] * x);
      }
      loss_[static_cast<std::size_t>(n)] = T(l);
      total += l;
    }
    return total / double(N_);
  }

  void grad(T* dz) const override {
    const T inv = T(1) / T(N_);
    for (index_t i = 0; i < N_ * C_; ++i) dz[i] = (s_[static_cast<std::size_t>(i)] - t_[i]) * inv;
  }

  void hvp(const T* zd, T* out) const override {
    const T inv = T(1) / T(N_);
    for (index_t i = 0; i < N_ * C_; ++i) out[i] = curvature(i) * zd[i] * inv;
  }

  void sqrt_hessian(T* s) const override { symmetric_sqrt(s); }

  void symmetric_sqrt(T* s) const override {
    const T inv = T(1) / std::sqrt(T(N_));
    std::fill(s, s + N_ * C_ * C_, T(0));
    for (index_t n = 0; n < N_; ++n)
      for (index_t c = 0; c < C_; ++c)
        s[(n * C_ + c) * C_ + c] = std::sqrt(curvature(n * C_ + c)) * inv;
  }

  void sampled_sqrt(Rng& rng, index_t m, T* s) const override {
    const T scale = T(1) / std::sqrt(T(N_) * T(m));
    for (index_t i = 0; i < N_ * C_; ++i) {
      const T sg = s_[static_cast<std::size_t>(i)];
      for (index_t j = 0; j < m; ++j) s[i * m + j] = (sg - T(rng.uniform() < double(sg))) * scale;
    }
  }

 private:
  T curvature(index_t i) const {
    const T sg = s_[static_cast<std::size_t>(i)];
    return sg * (T(1) - sg);
  }
  const T* t_ = nullptr;
  std::vector<T> s_, e_;  // σ(z) and exp(−|z|)
};

}  // namespace

namespace detail {
template <class T>
std::unique_ptr<Loss<T>> make_bce() {
  return std::make_unique<Bce<T>>();
}
template std::unique_ptr<Loss<float>> make_bce<float>();
template std::unique_ptr<Loss<double>> make_bce<double>();
}  // namespace detail
}  // namespace curv
