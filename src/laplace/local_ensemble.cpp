#include "curv/laplace/local_ensemble.hpp"

#include <algorithm>
#include <cmath>

#include "curv/core/error.hpp"
#include "curv/curvature/gradients.hpp"
#include "curv/kernels/gemm.hpp"
#include "curv/linalg/eigensolvers.hpp"

namespace curv::laplace {

LocalEnsemble::LocalEnsemble(LinearOperator& curvature, index_t eigenvectors, index_t iterations,
                             std::uint64_t seed)
    : m_(eigenvectors), size_(curvature.size()) {
  CURV_CHECK(m_ >= 0 && m_ < size_, "local ensemble: expected 0..", size_ - 1,
             " eigenvectors (fewer than the weights), found ", m_);
  if (m_ == 0) return;
  linalg::KrylovOptions k;
  k.wanted = m_, k.which = linalg::Which::largest_algebraic, k.seed = seed;
  k.iterations = std::min(size_, iterations > 0 ? iterations : std::max(2 * m_, m_ + 20));
  CURV_CHECK(k.iterations >= m_, "local ensemble: expected at least ", m_,
             " Lanczos iterations for ", m_, " eigenvectors, found ", k.iterations);
  const linalg::Eigensolution e = linalg::lanczos(curvature, k);
  CURV_CHECK(index_t(e.vectors.size()) == m_, "local ensemble: expected ", m_,
             " eigenvectors from Lanczos, found ", e.vectors.size(), " (", e.message, ")");
  iterations_ = e.iterations, converged_ = e.converged, values_ = e.values;
  U_.reserve(std::size_t(m_ * size_));
  for (const auto& v : e.vectors) U_.insert(U_.end(), v.begin(), v.end());
}

LocalEnsemble::LocalEnsemble(std::vector<double> U, index_t m, index_t size,
                             std::vector<double> values)
    : U_(std::move(U)), m_(m), size_(size), values_(std::move(values)) {
  CURV_CHECK(m_ >= 0 && size_ > 0 && index_t(U_.size()) == m_ * size_, "local ensemble: expected ",
             m_, " × ", size_, " eigenvector entries, found ", U_.size());
}

void LocalEnsemble::score_rows(const double* G, index_t rows, const std::vector<index_t>& ms,
                               double* out) const {
  for (index_t m : ms)
    CURV_CHECK(m >= 0 && m <= m_, "local ensemble: expected m in 0..", m_, ", found ", m);
  std::vector<double> c(std::size_t(rows * m_));  // c = G Uᵀ: (rows, m)
  if (m_ > 0) gemm(Trans::No, Trans::Yes, rows, m_, size_, 1.0, G, U_.data(), 0.0, c.data());
  const std::size_t J = ms.size();
  for (index_t r = 0; r < rows; ++r) {
    const double norm2 = dot(size_, G + r * size_, G + r * size_);
    for (std::size_t j = 0; j < J; ++j) {
      double projected = 0;
      for (index_t i = 0; i < ms[j]; ++i)
        projected += c[std::size_t(r * m_ + i)] * c[std::size_t(r * m_ + i)];
      out[std::size_t(r) * J + j] = std::sqrt(std::max(0.0, norm2 - projected));
    }
  }
}

template <class T>
std::vector<double> LocalEnsemble::scores(
    const Model<T>& model, const Split<T>& split, const std::vector<index_t>& examples,
    const std::string& subset, const std::string& gradient, const std::vector<index_t>& ms,
    index_t batch, const std::function<void(index_t, index_t)>& progress) const {
  check_one_of(gradient, {"predicted", "min-class"}, "local ensemble", "a gradient");
  GradientOptions g;
  g.measurement = Measurement::parse(gradient == "predicted" ? "predicted" : "jacobian");
  g.subset = subset, g.batch = batch;
  GradientStream<T> stream(model, split, examples, g);
  CURV_CHECK(stream.columns() == size_, "local ensemble: expected gradients over the ", size_,
             " weights of the curvature, found ", stream.columns(), " for '", subset, "'");
  const std::size_t J = ms.size();
  const index_t per = stream.rows_per_example();
  std::vector<double> out(examples.size() * J), G, rows;
  stream.run([&](const GradientBlock<T>& b) {
    G.assign(b.data, b.data + b.rows * b.columns);
    rows.resize(std::size_t(b.rows) * J);
    score_rows(G.data(), b.rows, ms, rows.data());
    // min-class: the smallest score over the example's C rows, per m.
    for (index_t e = 0; e < b.examples; ++e)
      for (std::size_t j = 0; j < J; ++j) {
        double best = rows[std::size_t(e * per) * J + j];
        for (index_t c = 1; c < per; ++c)
          best = std::min(best, rows[std::size_t(e * per + c) * J + j]);
        out[std::size_t(b.first + e) * J + j] = best;
      }
    if (progress) progress(b.first + b.examples, index_t(examples.size()));
  });
  return out;
}

template std::vector<double> LocalEnsemble::scores(
    const Model<float>&, const Split<float>&, const std::vector<index_t>&, const std::string&,
    const std::string&, const std::vector<index_t>&, index_t,
    const std::function<void(index_t, index_t)>&) const;
template std::vector<double> LocalEnsemble::scores(
    const Model<double>&, const Split<double>&, const std::vector<index_t>&, const std::string&,
    const std::string&, const std::vector<index_t>&, index_t,
    const std::function<void(index_t, index_t)>&) const;

}  // namespace curv::laplace
