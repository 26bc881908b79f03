#include "curv/linalg/projection.hpp"

#include <chrono>
#include <cmath>

#include "curv/core/error.hpp"
#include "curv/core/rng.hpp"
#include "curv/kernels/gemm.hpp"
#include "curv/kernels/parallel.hpp"

namespace curv {

ProjectionKind parse_projection(const std::string& name) {
  if (name == "gaussian") return ProjectionKind::Gaussian;
  if (name == "rademacher") return ProjectionKind::Rademacher;
  if (name == "sparse") return ProjectionKind::Sparse;
  fail("unknown projection '", name, "': expected gaussian, rademacher or sparse");
}

const char* projection_name(ProjectionKind k) {
  return k == ProjectionKind::Gaussian     ? "gaussian"
         : k == ProjectionKind::Rademacher ? "rademacher"
                                           : "sparse";
}

namespace {
double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

template <class T>
RandomProjection<T>::RandomProjection(ProjectionKind kind, index_t P, index_t k, std::uint64_t seed,
                                      std::size_t cache_bytes, index_t slice_rows)
    : kind_(kind), P_(P), k_(k), slice_rows_(std::max<index_t>(1, slice_rows)), seed_(seed) {
  CURV_CHECK(k >= 1 && k <= P, "projection: expected a dimension k in 1..", P,
             " (the gradient's length), found ", k);
  const auto t = std::chrono::steady_clock::now();
  if (kind == ProjectionKind::Sparse) {
    bucket_.resize(std::size_t(P)), sign_.resize(std::size_t(P));
    Rng rng(seed);
    for (index_t i = 0; i < P; ++i) {
      bucket_[std::size_t(i)] = std::int32_t(rng.below(std::uint64_t(k)));
      sign_[std::size_t(i)] = rng.next() & 1 ? 1 : -1;
    }
  } else if (double(P) * double(k) * sizeof(T) <= double(cache_bytes)) {
    R_.resize(std::size_t(P * k));
    parallel_for(P, 256,
                 [&](index_t i0, index_t i1) { generate(i0, i1 - i0, R_.data() + i0 * k); });
  }
  generating_ += since(t);
}

template <class T>
void RandomProjection<T>::generate(index_t first, index_t count, T* out) const {
  const T scale = T(1 / std::sqrt(double(k_)));
  for (index_t r = 0; r < count; ++r) {
    Rng rng = Rng(seed_).split(std::uint64_t(first + r));
    T* row = out + r * k_;
    if (kind_ == ProjectionKind::Gaussian) {
      for (index_t j = 0; j < k_; ++j) row[j] = T(rng.normal()) * scale;
    } else {
      for (index_t j = 0; j < k_;) {  // 64 signs per draw
        std::uint64_t bits = rng.next();
        for (int b = 0; b < 64 && j < k_; ++b, ++j, bits >>= 1) row[j] = bits & 1 ? scale : -scale;
      }
    }
  }
}

template <class T>
std::vector<T> RandomProjection<T>::row(index_t i) const {
  CURV_CHECK(i >= 0 && i < P_, "projection: expected a row in 0..", P_ - 1, ", found ", i);
  std::vector<T> r(std::size_t(k_), T(0));
  if (kind_ == ProjectionKind::Sparse)
    r[std::size_t(bucket_[std::size_t(i)])] = T(sign_[std::size_t(i)]);
  else if (cached())
    std::copy(R_.begin() + i * k_, R_.begin() + (i + 1) * k_, r.begin());
  else
    generate(i, 1, r.data());
  return r;
}

template <class T>
void RandomProjection<T>::apply(const T* G, index_t n, T* out) {
  if (kind_ == ProjectionKind::Sparse) {
    const auto t = std::chrono::steady_clock::now();
    parallel_for(n, 8, [&](index_t n0, index_t n1) {
      for (index_t e = n0; e < n1; ++e) {
        const T* g = G + e * P_;
        T* o = out + e * k_;
        std::fill(o, o + k_, T(0));
        for (index_t i = 0; i < P_; ++i)
          o[bucket_[std::size_t(i)]] += T(sign_[std::size_t(i)]) * g[i];
      }
    });
    applying_ += since(t);
    return;
  }
  if (cached()) {
    const auto t = std::chrono::steady_clock::now();
    gemm(Trans::No, Trans::No, n, k_, P_, T(1), G, P_, R_.data(), k_, T(0), out, k_);
    applying_ += since(t);
    return;
  }
  // Slice by slice: out = Σ_s G[:, s] R[s, :].
  slice_.resize(std::size_t(slice_rows_ * k_));
  for (index_t s = 0; s < P_; s += slice_rows_) {
    const index_t m = std::min(slice_rows_, P_ - s);
    auto t = std::chrono::steady_clock::now();
    parallel_for(
        m, 64, [&](index_t r0, index_t r1) { generate(s + r0, r1 - r0, slice_.data() + r0 * k_); });
    generating_ += since(t);
    t = std::chrono::steady_clock::now();
    gemm(Trans::No, Trans::No, n, k_, m, T(1), G + s, P_, slice_.data(), k_, T(s == 0 ? 0 : 1), out,
         k_);
    applying_ += since(t);
  }
}

template class RandomProjection<float>;
template class RandomProjection<double>;

}  // namespace curv
