// Dense references for curvature tests: the output Jacobian, the loss's output Hessian blocks,
// per-example gradients and a finite-difference Hessian of a tiny model, and the Gauss-Newton,
// empirical-Fisher and sampled-Fisher matrices assembled from them by their definitions.
#pragma once

#include <algorithm>
#include <cmath>

#include "curv/curvature/data.hpp"
#include "curv/curvature/subset.hpp"
#include "support/tiny_models.hpp"

namespace curv::testing {

using Matrix = std::vector<double>;

// The dense ingredients of every curvature matrix, on all examples at once.
struct Dense {
  index_t N = 0, C = 0, P = 0;
  Matrix J;      // (N·C, P): output Jacobian
  Matrix Hout;   // (N, C, C): ∇²ℓₙ/N
  Matrix grads;  // (N, P): ∇ℓₙ
  Matrix H;      // (P, P): Hessian of the mean loss, by central differences of the gradient
};

inline Dense dense_of(Model<double>& m, const Batch<double>& all, bool hessian) {
  auto loss = make_loss<double>(m.loss());
  Objective<double> obj(m, *loss);
  obj.set_batch(all.x.view(), all.targets());
  Dense d;
  d.N = obj.examples(), d.C = obj.outputs(), d.P = obj.parameters();
  const index_t NC = d.N * d.C, P = d.P;
  d.J.assign(std::size_t(NC * P), 0);
  std::vector<double> e(static_cast<std::size_t>(P)), col(static_cast<std::size_t>(NC));
  for (index_t p = 0; p < P; ++p) {
    std::fill(e.begin(), e.end(), 0.0);
    e[p] = 1;
    obj.jvp(e.data(), col.data());
    for (index_t r = 0; r < NC; ++r) d.J[r * P + p] = col[r];
  }
  d.Hout.assign(std::size_t(d.N * d.C * d.C), 0);
  std::vector<double> zd(static_cast<std::size_t>(NC)), hz(static_cast<std::size_t>(NC));
  for (index_t r = 0; r < NC; ++r) {
    std::fill(zd.begin(), zd.end(), 0.0);
    zd[r] = 1;
    loss->hvp(zd.data(), hz.data());
    const index_t n = r / d.C, c = r % d.C;
    for (index_t i = 0; i < d.C; ++i) d.Hout[(n * d.C + i) * d.C + c] = hz[n * d.C + i];
  }
  d.grads.assign(std::size_t(d.N * P), 0);
  obj.per_example_gradients(d.grads.data());
  if (hessian) {
    d.H.assign(std::size_t(P * P), 0);
    double* theta = m.params().data();
    std::vector<double> gp(static_cast<std::size_t>(P)), gm(static_cast<std::size_t>(P));
    const double h = 1e-4;
    for (index_t p = 0; p < P; ++p) {
      const double t0 = theta[p];
      theta[p] = t0 + h;
      obj.set_batch(all.x.view(), all.targets());
      obj.gradient(gp.data());
      theta[p] = t0 - h;
      obj.set_batch(all.x.view(), all.targets());
      obj.gradient(gm.data());
      theta[p] = t0;
      for (index_t q = 0; q < P; ++q) d.H[q * P + p] = (gp[q] - gm[q]) / (2 * h);
    }
  }
  return d;
}

// Σₙ Jₙᵀ Bₙ Jₙ for per-example output blocks B:(N, C, C).
inline Matrix sandwich(const Dense& d, const Matrix& B) {
  const index_t P = d.P, C = d.C;
  Matrix M(std::size_t(P * P), 0), BJ(static_cast<std::size_t>(C * P));
  for (index_t n = 0; n < d.N; ++n) {
    const double* Jn = d.J.data() + n * C * P;
    std::fill(BJ.begin(), BJ.end(), 0.0);
    for (index_t i = 0; i < C; ++i)
      for (index_t j = 0; j < C; ++j)
        for (index_t p = 0; p < P; ++p) BJ[i * P + p] += B[(n * C + i) * C + j] * Jn[j * P + p];
    for (index_t i = 0; i < C; ++i)
      for (index_t p = 0; p < P; ++p)
        for (index_t q = 0; q < P; ++q) M[p * P + q] += Jn[i * P + p] * BJ[i * P + q];
  }
  return M;
}

inline Matrix empirical_fisher(const Dense& d) {
  Matrix M(std::size_t(d.P * d.P), 0);
  for (index_t n = 0; n < d.N; ++n)
    for (index_t p = 0; p < d.P; ++p)
      for (index_t q = 0; q < d.P; ++q)
        M[p * d.P + q] += d.grads[n * d.P + p] * d.grads[n * d.P + q] / double(d.N);
  return M;
}

// The Monte-Carlo Fisher with the very samples the data drew: Σ_b w_b Σ_{n∈b} Jₙᵀ Sₙ Sₙᵀ Jₙ.
inline Matrix sampled_fisher(const Dense& d, CurvatureData<double>& data, index_t samples) {
  Matrix B(std::size_t(d.N * d.C * d.C), 0);
  index_t n0 = 0;
  for (index_t b = 0; b < data.batches(); ++b) {
    const Tensor<double>& S = data.output_factor(b, FactorKind::MC, samples, 0);
    const index_t Nb = S.shape()[0], C = d.C, K = samples;
    for (index_t n = 0; n < Nb; ++n)
      for (index_t i = 0; i < C; ++i)
        for (index_t j = 0; j < C; ++j) {
          double s = 0;
          for (index_t k = 0; k < K; ++k) s += S[(n * C + i) * K + k] * S[(n * C + j) * K + k];
          B[((n0 + n) * C + i) * C + j] = data.weight(b) * s;
        }
    n0 += Nb;
  }
  return sandwich(d, B);
}

// Rows and columns of M (P×P) at the subset's entries.
inline Matrix restrict(const Matrix& M, index_t P, const ParamSubset& s) {
  std::vector<index_t> idx;
  for (const auto& r : s.ranges())
    for (index_t i = 0; i < r.size; ++i) idx.push_back(r.offset + i);
  const index_t n = index_t(idx.size());
  Matrix out(static_cast<std::size_t>(n * n));
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < n; ++j) out[i * n + j] = M[idx[i] * P + idx[j]];
  return out;
}

// 0, 1, …, n − 1: every example of a split of n, as an index list.
inline std::vector<index_t> range(index_t n) {
  std::vector<index_t> r;
  for (index_t i = 0; i < n; ++i) r.push_back(i);
  return r;
}

// 0..n−1 without `removed`: the kept examples of a leave-one-out.
inline std::vector<index_t> all_but(index_t n, index_t removed) {
  std::vector<index_t> r;
  for (index_t i = 0; i < n; ++i)
    if (i != removed) r.push_back(i);
  return r;
}

// The largest |aᵢ|; the largest |aᵢ − bᵢ| (infinite when the sizes differ, so a check fails).
inline double max_abs(const Matrix& a) {
  double m = 0;
  for (double v : a) m = std::max(m, std::abs(v));
  return m;
}
inline double max_diff(const Matrix& a, const Matrix& b) {
  if (a.size() != b.size()) return INFINITY;
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

inline Matrix diag_of(const Matrix& M, index_t n) {
  Matrix d(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) d[i] = M[i * n + i];
  return d;
}

inline std::unique_ptr<Model<double>> tiny(const std::string& which) {
  std::unique_ptr<Model<double>> m;
  if (which == "mlp")
    m = std::make_unique<TinyMlp>(std::vector<index_t>{4, 6, 5, 3}, "tanh", "cross_entropy");
  if (which == "conv") m = std::make_unique<TinyConv>();
  if (which == "conv-wide") m = std::make_unique<TinyConv>(true);
  if (which == "sequence") m = std::make_unique<TinySequence>();
  if (which == "linear-mse")
    m = std::make_unique<TinyMlp>(std::vector<index_t>{4, 5, 4, 3}, "none", "mse");
  if (which == "mlp-bce")
    m = std::make_unique<TinyMlp>(std::vector<index_t>{4, 6, 3}, "tanh", "bce");
  Rng rng(11);
  m->init(rng);
  return m;
}

// M with every entry outside the diagonal blocks of the model's layers zeroed (a layer is the
// parameters sharing a name prefix; they are consecutive in the flat vector).
inline Matrix layer_blocks_of(const Matrix& M, const Model<double>& m) {
  const index_t P = m.params().size();
  std::vector<std::string> layer(static_cast<std::size_t>(P));
  for (const auto& p : m.params().info())
    for (index_t i = 0; i < p.shape.numel(); ++i)
      layer[std::size_t(p.offset + i)] = p.name.substr(0, p.name.rfind('.'));
  Matrix out(M.size(), 0.0);
  for (index_t i = 0; i < P; ++i)
    for (index_t j = 0; j < P; ++j)
      if (layer[std::size_t(i)] == layer[std::size_t(j)]) out[i * P + j] = M[i * P + j];
  return out;
}

}  // namespace curv::testing
