// Softmax cross-entropy with integer labels, mean over the batch. With p = softmax(zₙ):
//   ℓₙ = −log pᵧ       ∇ℓₙ = p − e_y       ∇²ℓₙ = diag(p) − p pᵀ
//   factor  Sₙ = (diag(√p) − p √pᵀ)/√N   (Sₙ Sₙᵀ = (diag(p) − ppᵀ)/N because Σp = 1)
//   sampled ŷ ~ Cat(p):  column m is (p − e_ŷ)/√(N M)
#include <cmath>

#include "curv/core/error.hpp"
#include "losses.hpp"

namespace curv {
namespace {

template <class T>
class CrossEntropy final : public Loss<T> {
  using Loss<T>::N_;
  using Loss<T>::C_;
  using Loss<T>::loss_;

 public:
  std::string_view name() const override { return "cross_entropy"; }

  double forward(View<const T> z, const Targets<T>& t) override {
    this->set_shape(z.shape);
    CURV_CHECK(t.labels != nullptr, "cross_entropy: expected integer labels, found none");
    labels_.assign(t.labels, t.labels + N_);
    p_.resize(static_cast<std::size_t>(N_ * C_));
    loss_.resize(static_cast<std::size_t>(N_));
    double total = 0;
    for (index_t n = 0; n < N_; ++n) {
      const std::int64_t y = labels_[static_cast<std::size_t>(n)];
      CURV_CHECK(y >= 0 && y < C_, "cross_entropy: expected labels in [0,", C_, "), found ", y,
                 " at example ", n);
      const T* zn = z.data + n * C_;
      T* pn = p_.data() + n * C_;
      T m = zn[0];
      for (index_t c = 1; c < C_; ++c) m = std::max(m, zn[c]);
      double s = 0;
      for (index_t c = 0; c < C_; ++c) s += std::exp(double(zn[c] - m));
      const double lse = double(m) + std::log(s);
      for (index_t c = 0; c < C_; ++c) pn[c] = T(std::exp(double(zn[c]) - lse));
      const double l = lse - double(zn[y]);
      loss_[static_cast<std::size_t>(n)] = T(l);
      total += l;
    }
    return total / double(N_);
  }

  void grad(T* dz) const override {
    const T inv = T(1) / T(N_);
    for (index_t n = 0; n < N_; ++n)
      for (index_t c = 0; c < C_; ++c) dz[n * C_ + c] = (p(n)[c] - T(c == label(n))) * inv;
  }

  void hvp(const T* zd, T* out) const override {
    const T inv = T(1) / T(N_);
    for (index_t n = 0; n < N_; ++n) {
      const T* pn = p(n);
      const T* v = zd + n * C_;
      T pv = 0;
      for (index_t c = 0; c < C_; ++c) pv += pn[c] * v[c];
      for (index_t c = 0; c < C_; ++c) out[n * C_ + c] = pn[c] * (v[c] - pv) * inv;
    }
  }

  void sqrt_hessian(T* s) const override {
    const T inv = T(1) / std::sqrt(T(N_));
    for (index_t n = 0; n < N_; ++n) {
      const T* pn = p(n);
      T* sn = s + n * C_ * C_;
      for (index_t i = 0; i < C_; ++i)
        for (index_t k = 0; k < C_; ++k)
          sn[i * C_ + k] = ((i == k ? std::sqrt(pn[i]) : T(0)) - pn[i] * std::sqrt(pn[k])) * inv;
    }
  }

  void sampled_sqrt(Rng& rng, index_t m, T* s) const override {
    const T scale = T(1) / std::sqrt(T(N_) * T(m));
    for (index_t n = 0; n < N_; ++n) {
      const T* pn = p(n);
      T* sn = s + n * C_ * m;
      for (index_t j = 0; j < m; ++j) {
        const index_t y = sample(pn, rng.uniform());
        for (index_t c = 0; c < C_; ++c) sn[c * m + j] = (pn[c] - T(c == y)) * scale;
      }
    }
  }

 private:
  const T* p(index_t n) const { return p_.data() + n * C_; }
  index_t label(index_t n) const { return labels_[static_cast<std::size_t>(n)]; }
  index_t sample(const T* pn, double u) const {  // inverse CDF
    double acc = 0;
    for (index_t c = 0; c < C_; ++c)
      if ((acc += double(pn[c])) > u) return c;
    return C_ - 1;
  }
  std::vector<T> p_;
  std::vector<std::int64_t> labels_;
};

}  // namespace

namespace detail {
template <class T>
std::unique_ptr<Loss<T>> make_cross_entropy() {
  return std::make_unique<CrossEntropy<T>>();
}
template std::unique_ptr<Loss<float>> make_cross_entropy<float>();
template std::unique_ptr<Loss<double>> make_cross_entropy<double>();
}  // namespace detail
}  // namespace curv
