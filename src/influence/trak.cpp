#include "curv/influence/trak.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

#include "curv/core/error.hpp"
#include "curv/kernels/gemm.hpp"
#include "curv/linalg/dense.hpp"

namespace curv::influence {

namespace {

GradientOptions stream_options(const TrakOptions& o, Measurement m) {
  GradientOptions g;
  g.measurement = m, g.batch = o.batch;
  g.project = o.dimension, g.projection = o.projection, g.seed = o.seed;
  return g;
}

template <class T>
void add_timings(TrakReport& r, const GradientStream<T>& s) {
  const auto t = s.timings();
  r.gradient_seconds += t.gradients, r.projection_seconds += t.projection;
  r.generation_seconds += t.generation;
}

// 1 − p of the label y for outputs z (C): Σ_{c≠y} e^{z_c} / Σ_c e^{z_c}, shifted by the largest
// logit so neither sum overflows.
template <class T>
double miss_probability(const T* z, index_t C, index_t y) {
  double top = -INFINITY;
  for (index_t c = 0; c < C; ++c) top = std::max(top, double(z[c]));
  double others = 0, all = 0;
  for (index_t c = 0; c < C; ++c) {
    const double e = std::exp(double(z[c]) - top);
    all += e;
    if (c != y) others += e;
  }
  return others / all;
}

// One model's training side: the Cholesky factor of A = (1/N) ΦᵀΦ + λI, the weights 1 − pₙ,
// and the rows φₙ replayed block by block (kept from the first sweep, or swept again with the
// same R, which gives the same rows).
template <class T>
class ProjectedTraining {
 public:
  ProjectedTraining(const Model<T>& model, const Split<T>& split, const std::vector<index_t>& train,
                    const TrakOptions& o, TrakReport& report)
      : model_(model), split_(split), train_(train), o_(o), report_(report) {
    const index_t N = index_t(train.size());
    GradientStream<T> stream(model, split, train, stream_options(o, Measurement::parse("margin")));
    k_ = stream.columns();
    keep_ = std::size_t(N) * std::size_t(k_) * sizeof(T) <= o.keep_bytes;
    if (keep_) kept_.resize(std::size_t(N) * std::size_t(k_));
    weights_.resize(std::size_t(N));
    std::vector<double> A(std::size_t(k_ * k_), 0.0), block;
    stream.run([&](const GradientBlock<T>& b) {
      block.assign(b.data, b.data + b.rows * k_);
      syrk_lower<double>(k_, b.rows, 1.0, block.data(), 1.0, A.data(), k_);  // A += ΦᵀΦ
      if (keep_) std::copy(b.data, b.data + b.rows * k_, kept_.begin() + b.first * k_);
      for (index_t e = 0; e < b.examples; ++e) {
        const std::int64_t y = split.class_of(b.indices[std::size_t(e)]);
        CURV_CHECK(y >= 0 && y < b.output_size, "trak: expected a class label in 0..",
                   b.output_size - 1, " for training example ", b.indices[std::size_t(e)], " of ",
                   split.name(), ", found ", y);
        weights_[std::size_t(b.first + e)] =
            miss_probability(b.outputs + e * b.output_size, b.output_size, index_t(y));
      }
    });
    account(stream);
    mirror_triangle(A.data(), k_);
    for (double& a : A) a /= double(N);
    try {
      factor_ = linalg::cholesky(A, k_, o.damping);
    } catch (const Error&) {
      fail("trak: (1/N) ΦᵀΦ + λI with k = ", k_, ", N = ", N, ", λ = ", o.damping,
           " is not positive definite: raise --damping (k > N leaves it singular)");
    }
  }

  index_t dimension() const { return k_; }
  const std::vector<double>& weights() const { return weights_; }

  // f(first, rows, φ (rows, k) in double) for every block of the list, in order.
  void replay(const std::function<void(index_t, index_t, const double*)>& f) {
    std::vector<double> block;
    if (keep_) {
      const index_t N = index_t(train_.size());
      for (index_t first = 0; first < N; first += o_.batch) {
        const index_t rows = std::min(o_.batch, N - first);
        block.assign(kept_.begin() + first * k_, kept_.begin() + (first + rows) * k_);
        f(first, rows, block.data());
      }
      return;
    }
    GradientStream<T> stream(model_, split_, train_,
                             stream_options(o_, Measurement::parse("margin")));
    stream.run([&](const GradientBlock<T>& b) {
      block.assign(b.data, b.data + b.rows * k_);
      f(b.first, b.rows, block.data());
    });
    account(stream);
  }

  // X (rows, k) ← rows of B (rows, k) times A⁻¹.
  void solve_rows(const double* B, index_t rows, double* X) const {
    std::vector<double> t(std::size_t(k_ * rows));
    for (index_t r = 0; r < rows; ++r)
      for (index_t j = 0; j < k_; ++j) t[std::size_t(j * rows + r)] = B[r * k_ + j];
    linalg::cholesky_solve(factor_, k_, t.data(), rows);
    for (index_t r = 0; r < rows; ++r)
      for (index_t j = 0; j < k_; ++j) X[r * k_ + j] = t[std::size_t(j * rows + r)];
  }

  void account(const GradientStream<T>& s) {
    add_timings(report_, s);
    ++report_.training_sweeps;
  }

 private:
  const Model<T>& model_;
  const Split<T>& split_;
  const std::vector<index_t>& train_;
  const TrakOptions& o_;
  TrakReport& report_;
  index_t k_ = 0;
  bool keep_ = false;
  std::vector<T> kept_;  // (N, k) when it fits keep_bytes
  std::vector<double> weights_, factor_;
};

void check(std::size_t models, const TrakOptions& o) {
  CURV_CHECK(models >= 1, "trak: expected at least one model, found none");
  CURV_CHECK(o.damping >= 0, "trak: expected a damping λ >= 0, found ", o.damping);
  CURV_CHECK(o.batch >= 1, "trak: expected a gradient batch >= 1, found ", o.batch);
}

// −K/M · Q̄ for the accumulated kernel K (rows of N) and Σₘ (1 − pₘ,ₙ).
void finish(std::vector<double>& K, const std::vector<double>& weight_sum, std::size_t M,
            TrakReport& r) {
  const std::size_t N = weight_sum.size();
  const double m = double(M);
  for (std::size_t i = 0; i < K.size(); ++i) K[i] = -K[i] / m * (weight_sum[i % N] / m);
  double mean = 0;
  for (double w : weight_sum) mean += w / m;
  r.mean_weight = N ? mean / double(N) : 0;
  r.training_sweeps /= index_t(M);
}

}  // namespace

template <class T>
std::vector<double> trak_scores(const std::vector<const Model<T>*>& models,
                                const Split<T>& train_split, const std::vector<index_t>& train,
                                const Split<T>& query_split, const std::vector<index_t>& queries,
                                const TrakOptions& o, TrakReport* report) {
  check(models.size(), o);
  TrakReport r;
  const index_t Q = index_t(queries.size()), N = index_t(train.size());
  std::vector<double> K(std::size_t(Q * N), 0.0), weight_sum(std::size_t(N), 0.0);
  for (const Model<T>* model : models) {
    ProjectedTraining<T> side(*model, train_split, train, o, r);
    const index_t k = side.dimension();
    // (Q, k): the projected query gradients ψ', then ψ'ᵀA⁻¹.
    std::vector<double> psi(std::size_t(Q * k)), X(std::size_t(Q * k)), out;
    GradientStream<T> qs(*model, query_split, queries, stream_options(o, o.query));
    qs.run([&](const GradientBlock<T>& b) {
      std::copy(b.data, b.data + b.rows * k, psi.begin() + b.first * k);
    });
    add_timings(r, qs);
    side.solve_rows(psi.data(), Q, X.data());
    side.replay([&](index_t first, index_t rows, const double* phi) {
      out.resize(std::size_t(Q * rows));
      gemm<double>(Trans::No, Trans::Yes, Q, rows, k, 1.0, X.data(), phi, 0.0, out.data());
      for (index_t q = 0; q < Q; ++q)
        for (index_t j = 0; j < rows; ++j) K[std::size_t(q * N + first + j)] += out[q * rows + j];
    });
    for (index_t n = 0; n < N; ++n) weight_sum[std::size_t(n)] += side.weights()[std::size_t(n)];
  }
  finish(K, weight_sum, models.size(), r);
  if (report) *report = r;
  return K;
}

template <class T>
std::vector<double> trak_self_scores(const std::vector<const Model<T>*>& models,
                                     const Split<T>& split, const std::vector<index_t>& train,
                                     const TrakOptions& o, TrakReport* report) {
  check(models.size(), o);
  CURV_CHECK(o.query.kind == Measurement::Kind::Loss,
             "trak: self-influence scores the training loss on both sides: expected the loss, "
             "found ",
             o.query.name());
  TrakReport r;
  const index_t N = index_t(train.size());
  std::vector<double> K(std::size_t(N), 0.0), weight_sum(std::size_t(N), 0.0);
  for (const Model<T>* model : models) {
    ProjectedTraining<T> side(*model, split, train, o, r);
    const index_t k = side.dimension();
    std::vector<double> X;
    side.replay([&](index_t first, index_t rows, const double* phi) {
      X.resize(std::size_t(rows * k));
      side.solve_rows(phi, rows, X.data());
      // ψₙ = −(1 − pₙ) φₙ: the training loss's projected gradient on the query side.
      for (index_t j = 0; j < rows; ++j) {
        double q = 0;
        for (index_t c = 0; c < k; ++c) q += phi[j * k + c] * X[std::size_t(j * k + c)];
        K[std::size_t(first + j)] += -side.weights()[std::size_t(first + j)] * q;
      }
    });
    for (index_t n = 0; n < N; ++n) weight_sum[std::size_t(n)] += side.weights()[std::size_t(n)];
  }
  finish(K, weight_sum, models.size(), r);
  if (report) *report = r;
  return K;
}

template std::vector<double> trak_scores(const std::vector<const Model<float>*>&,
                                         const Split<float>&, const std::vector<index_t>&,
                                         const Split<float>&, const std::vector<index_t>&,
                                         const TrakOptions&, TrakReport*);
template std::vector<double> trak_scores(const std::vector<const Model<double>*>&,
                                         const Split<double>&, const std::vector<index_t>&,
                                         const Split<double>&, const std::vector<index_t>&,
                                         const TrakOptions&, TrakReport*);
template std::vector<double> trak_self_scores(const std::vector<const Model<float>*>&,
                                              const Split<float>&, const std::vector<index_t>&,
                                              const TrakOptions&, TrakReport*);
template std::vector<double> trak_self_scores(const std::vector<const Model<double>*>&,
                                              const Split<double>&, const std::vector<index_t>&,
                                              const TrakOptions&, TrakReport*);

}  // namespace curv::influence
