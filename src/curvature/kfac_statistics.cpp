#include "curv/curvature/kfac_statistics.hpp"

#include "curv/core/error.hpp"
#include "curv/kernels/gemm.hpp"
#include "curv/kernels/parallel.hpp"

namespace curv {

namespace {

// The full symmetric matrix, in float64, from its lower triangle.
template <class T>
std::vector<double> symmetric(const std::vector<T>& lower, index_t n) {
  std::vector<double> m(lower.size());
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j <= i; ++j) m[i * n + j] = double(lower[i * n + j]);
  mirror_triangle(m.data(), n);
  return m;
}

}  // namespace

template <class T>
void KfacStatistics<T>::begin_batch(double weight, double g_scale, double keep) {
  weight_ = weight, g_scale_ = g_scale, keep_ = keep;
  collect_a_ = true;
  for (auto& l : layers_) l.a_fresh = l.g_fresh = true;
}

template <class T>
void KfacStatistics<T>::for_each_factor(const std::function<void(T*, std::size_t)>& f) {
  for (Layer& L : layers_) {
    f(L.A.data(), L.A.size());
    if (!L.G.empty()) f(L.G.data(), L.G.size());
  }
}

template <class T>
void KfacStatistics<T>::clear() {
  layers_.clear();
  by_offset_.clear();
  collect_a_ = true;
}

template <class T>
typename KfacStatistics<T>::Layer& KfacStatistics<T>::find_or_add(const LayerEvent<T>& e) {
  const auto it = by_offset_.find(e.weight_offset);
  if (it != by_offset_.end()) return layers_[it->second];
  Layer l;
  l.info.kind = std::string(e.kind);
  l.info.weight_offset = e.weight_offset;
  l.info.bias_offset =
      (e.bias_offset >= 0 && (!subset_ || subset_->contains(e.bias_offset))) ? e.bias_offset : -1;
  l.info.out = e.fan_out;
  l.info.in = e.a.shape.row_size();
  l.info.rows_per_example = e.rows_per_example;
  const index_t din = l.info.din(), out = l.info.out;
  l.A.assign(static_cast<std::size_t>(din * din), T(0));
  l.G.assign(static_cast<std::size_t>(out * out), T(0));
  by_offset_[e.weight_offset] = layers_.size();
  layers_.push_back(std::move(l));
  return layers_.back();
}

template <class T>
void KfacStatistics<T>::on_backward(const LayerEvent<T>& e) {
  if (subset_ && !subset_->contains(e.weight_offset)) return;
  Layer& l = find_or_add(e);
  const index_t R = e.a.shape.rows(), in = l.info.in, din = l.info.din(), out = l.info.out;
  CURV_CHECK(
      e.a.shape.row_size() == in && e.fan_out == out && (!collect_g_ || e.g.shape == Shape{R, out}),
      "K-FAC statistics: layer at offset ", e.weight_offset, " changed shape between sweeps");
  if (collect_a_) {
    const T w = T(weight_ / double(R));  // A is a mean over rows
    const T beta = l.a_fresh ? T(keep_) : T(1);
    l.a_fresh = false;
    syrk_lower(in, R, w, e.a.data, beta, l.A.data(), din);  // Σ a aᵀ
    if (l.info.bias_offset >= 0) {  // the ones entry: Σ a in the last row, R in the corner
      if (index_t(ones_.size()) < R) ones_.assign(static_cast<std::size_t>(R), T(1));
      gemm(Trans::Yes, Trans::No, in, 1, R, w, e.a.data, in, ones_.data(), 1, beta,
           l.A.data() + in * din, 1);
      l.A[in * din + in] = beta * l.A[in * din + in] + T(weight_);
    }
  }
  if (!collect_g_) return;
  const T beta = l.g_fresh ? T(keep_) : T(1);
  l.g_fresh = false;
  syrk_lower(out, R, T(weight_ * g_scale_), e.g.data, beta, l.G.data(), out);  // Σ ȳ ȳᵀ
}

template <class T>
std::vector<double> KfacStatistics<T>::A(index_t i) const {
  const Layer& l = layers_[static_cast<std::size_t>(i)];
  return symmetric(l.A, l.info.din());
}

template <class T>
std::vector<double> KfacStatistics<T>::G(index_t i) const {
  const Layer& l = layers_[static_cast<std::size_t>(i)];
  return symmetric(l.G, l.info.out);
}

template <class T>
EkfacRefit<T>::EkfacRefit(std::vector<KroneckerBlock*> blocks) : blocks_(std::move(blocks)) {
  for (std::size_t i = 0; i < blocks_.size(); ++i) {
    const auto& QA = blocks_[i]->eigenvectors_A();  // computed once here, not inside the sweeps
    const auto& QG = blocks_[i]->eigenvectors_G();
    bases_.push_back({std::vector<T>(QA.begin(), QA.end()), std::vector<T>(QG.begin(), QG.end())});
    S_.emplace_back(static_cast<std::size_t>(blocks_[i]->layer().size()), 0.0);
    by_offset_[blocks_[i]->layer().weight_offset] = i;
  }
}

template <class T>
void EkfacRefit<T>::clear() {
  for (auto& S : S_) std::fill(S.begin(), S.end(), 0.0);
}

template <class T>
void EkfacRefit<T>::on_backward(const LayerEvent<T>& e) {
  const auto it = by_offset_.find(e.weight_offset);
  if (it == by_offset_.end()) return;
  const Basis& q = bases_[it->second];
  std::vector<double>& S = S_[it->second];
  const KfacLayer& L = blocks_[it->second]->layer();
  const index_t R = e.a.shape.rows(), in = L.in, din = L.din(), out = L.out;
  const index_t per = e.rows_per_example, N = R / per;
  const double w = weight_ * g_scale_;
  // Â: the rows with the bias's ones entry.
  a_.resize(static_cast<std::size_t>(R * din));
  for (index_t r = 0; r < R; ++r) {
    std::copy(e.a.data + r * in, e.a.data + (r + 1) * in, a_.begin() + r * din);
    if (din > in) a_[r * din + in] = T(1);
  }
  // G̃ = Ȳ Q_G: rotating the output rows is cheap in every case.
  tg_.resize(static_cast<std::size_t>(R * out));
  gemm(Trans::No, Trans::No, R, out, out, T(1), e.g.data, q.QG.data(), T(0), tg_.data());
  // Ã = Â Q_A on the rows, unless Q_A is cheaper applied to the examples' sums (below): that
  // costs N·out·din² against R·din², so it wins when out < rows per example.
  const bool rotate_after = per > 1 && out < per;
  if (!rotate_after) {
    ta_.resize(a_.size());
    gemm(Trans::No, Trans::No, R, din, din, T(1), a_.data(), q.QA.data(), T(0), ta_.data());
  }
  if (per == 1) {
    // Dₙ is rank one, so (Q_Gᵀ Dₙ Q_A)² = (G̃ₙ²)(Ãₙ²)ᵀ and the sum over n is one GEMM.
    for (auto& v : ta_) v *= v;
    for (auto& v : tg_) v *= v;
    rotated_.resize(static_cast<std::size_t>(out * din));
    gemm(Trans::Yes, Trans::No, out, din, R, T(1), tg_.data(), ta_.data(), T(0), rotated_.data());
    for (index_t j = 0; j < out * din; ++j) S[j] += w * double(rotated_[j]);
    return;
  }
  // Stack the examples' gradients G̃ₙᵀ Ãₙ (or G̃ₙᵀ Âₙ, rotated after), then S += w Σₙ (·)².
  const index_t block = out * din;
  stacked_.resize(static_cast<std::size_t>(N * block));
  const T* A = rotate_after ? a_.data() : ta_.data();
  {
    const BlasSerial serial;
    parallel_for(N, 8, [&](index_t b, index_t end) {
      for (index_t n = b; n < end; ++n)
        gemm(Trans::Yes, Trans::No, out, din, per, T(1), tg_.data() + n * per * out,
             A + n * per * din, T(0), stacked_.data() + n * block);
    });
  }
  const T* M = stacked_.data();
  if (rotate_after) {
    rotated_.resize(stacked_.size());
    gemm(Trans::No, Trans::No, N * out, din, din, T(1), stacked_.data(), q.QA.data(), T(0),
         rotated_.data());
    M = rotated_.data();
  }
  parallel_for(block, 256, [&](index_t b, index_t end) {
    for (index_t n = 0; n < N; ++n) {
      const T* m = M + n * block;
      for (index_t j = b; j < end; ++j) S[j] += w * double(m[j]) * double(m[j]);
    }
  });
}

template class KfacStatistics<float>;
template class KfacStatistics<double>;
template class EkfacRefit<float>;
template class EkfacRefit<double>;

}  // namespace curv
