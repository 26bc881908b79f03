#include "curv/influence/scores.hpp"

#include <lapacke.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "curv/core/error.hpp"
#include "curv/kernels/gemm.hpp"

namespace curv::influence {

namespace {

// Scales each of k rows to unit length (a zero row stays zero).
void normalize_rows(double* rows, index_t k, index_t P) {
  for (index_t i = 0; i < k; ++i) {
    double s = 0;
    for (index_t j = 0; j < P; ++j) s += rows[i * P + j] * rows[i * P + j];
    const double scale = s > 0 ? 1 / std::sqrt(s) : 0;
    for (index_t j = 0; j < P; ++j) rows[i * P + j] *= scale;
  }
}

template <class T>
void check_size(const GradientStream<T>& stream, const ScoreMetric& metric) {
  CURV_CHECK(stream.columns() == metric.size(), "influence: expected a metric over all ",
             stream.columns(), " parameters, found ", metric.name(), " of size ", metric.size());
}

// Runs the stream, adding the time inside `use` to the products and the rest to the gradients.
template <class T, class F>
void timed_run(GradientStream<T>& stream, ScoreTiming* timing, F&& use) {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  double inside = 0;
  stream.run([&](const GradientBlock<T>& b) {
    const auto t = Clock::now();
    use(b);
    inside += std::chrono::duration<double>(Clock::now() - t).count();
  });
  if (!timing) return;
  timing->product_seconds += inside;
  timing->gradient_seconds += std::chrono::duration<double>(Clock::now() - t0).count() - inside;
}

}  // namespace

double truncate_query_rank(double* X, index_t Q, const std::vector<ParamInfo>& info, index_t r) {
  CURV_CHECK(r >= 1, "influence: expected a query rank >= 1, found ", r);
  index_t P = 0;
  for (const ParamInfo& p : info) P = std::max(P, p.offset + p.shape.numel());
  double worst = 0;
  std::vector<double> a, s, u, vt;
  for (const ParamInfo& p : info) {
    if (p.shape.rank() < 2) continue;
    const index_t m = p.shape.rows(), n = p.shape.numel() / m, k = std::min(m, n);
    if (k <= r) continue;
    for (index_t q = 0; q < Q; ++q) {
      double* block = X + q * P + p.offset;  // (m, n), row-major
      a.assign(block, block + m * n);
      s.resize(std::size_t(k)), u.resize(std::size_t(m * k)), vt.resize(std::size_t(k * n));
      const int status = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', int(m), int(n), a.data(), int(n),
                                        s.data(), u.data(), int(k), vt.data(), int(n));
      CURV_CHECK(status == 0, "influence: the SVD of query ", q, "'s ", p.name,
                 " block failed (info ", status, ")");
      double kept = 0, all = 0;
      for (index_t i = 0; i < k; ++i) {
        all += s[std::size_t(i)] * s[std::size_t(i)];
        if (i < r) kept += s[std::size_t(i)] * s[std::size_t(i)];
      }
      if (all > 0) worst = std::max(worst, std::sqrt(std::max(0.0, all - kept) / all));
      // block = U_r diag(s_r) V_rᵀ
      for (index_t i = 0; i < m; ++i)
        for (index_t j = 0; j < n; ++j) {
          double v = 0;
          for (index_t t = 0; t < r; ++t)
            v += u[std::size_t(i * k + t)] * s[std::size_t(t)] * vt[std::size_t(t * n + j)];
          block[i * n + j] = v;
        }
    }
  }
  return worst;
}

template <class T>
std::vector<double> scores(const Model<T>& model, ScoreMetric& metric, const Split<T>& train_split,
                           std::vector<index_t> train, const Split<T>& query_split,
                           std::vector<index_t> queries, const ScoreOptions& options,
                           LayerScores* layers) {
  const index_t P = metric.size(), Q = index_t(queries.size()), N = index_t(train.size());
  // Per-layer parts: each layer's parameter ranges, in flat order.
  std::vector<std::vector<ParamRange>> ranges;
  if (layers) {
    const auto& info = model.params().info();
    layers->names = layer_names(info);
    for (const std::string& name : layers->names)
      ranges.push_back(ParamSubset::parse(name, info).ranges());
    layers->values.assign(ranges.size() * std::size_t(Q * N), 0.0);
  }
  GradientOptions qo;
  qo.measurement = options.query, qo.batch = options.batch;
  GradientStream<T> query_stream(model, query_split, std::move(queries), qo);
  check_size(query_stream, metric);
  // (Q, P): the queries' gradients, then M applied to them.
  std::vector<double> G(std::size_t(Q * P)), X(std::size_t(Q * P));
  timed_run(query_stream, options.timing, [&](const GradientBlock<T>& b) {
    std::copy(b.data, b.data + b.rows * P, G.begin() + b.first * P);
  });
  if (options.cosine) normalize_rows(G.data(), Q, P);
  metric.apply(G.data(), Q, X.data());
  if (options.query_rank > 0)
    truncate_query_rank(X.data(), Q, model.params().info(), options.query_rank);

  // Row q of the result is x_qᵀ ∇ℓ(z_n) over the streamed training gradients.
  std::vector<double> S(std::size_t(Q * N));
  GradientOptions to;
  to.batch = options.batch;  // the training loss
  GradientStream<T> train_stream(model, train_split, std::move(train), to);
  std::vector<double> block, out;
  timed_run(train_stream, options.timing, [&](const GradientBlock<T>& b) {
    block.assign(b.data, b.data + b.rows * P);
    if (options.cosine) normalize_rows(block.data(), b.rows, P);
    out.resize(std::size_t(Q * b.rows));
    gemm<double>(Trans::No, Trans::Yes, Q, b.rows, P, 1.0, X.data(), block.data(), 0.0,
                 out.data());  // (Q, rows)
    for (index_t q = 0; q < Q; ++q)
      for (index_t j = 0; j < b.rows; ++j) S[q * N + b.first + j] = out[q * b.rows + j];
    for (std::size_t l = 0; l < ranges.size(); ++l) {
      // (Q, rows) = Σ over the layer's ranges of X[:, range] · block[:, range]ᵀ.
      double beta = 0;
      for (const ParamRange& r : ranges[l]) {
        gemm<double>(Trans::No, Trans::Yes, Q, b.rows, r.size, 1.0, X.data() + r.offset, P,
                     block.data() + r.offset, P, beta, out.data(), b.rows);
        beta = 1;
      }
      double* part = layers->values.data() + l * std::size_t(Q * N);
      for (index_t q = 0; q < Q; ++q)
        for (index_t j = 0; j < b.rows; ++j) part[q * N + b.first + j] = out[q * b.rows + j];
    }
  });
  return S;
}

template <class T>
std::vector<double> self_scores(const Model<T>& model, ScoreMetric& metric, const Split<T>& split,
                                std::vector<index_t> train, const ScoreOptions& options) {
  CURV_CHECK(!options.cosine,
             "influence: self-influence under the cosine is 1 for every example: not scored");
  const index_t P = metric.size();
  std::vector<double> s(train.size());
  GradientOptions to;
  to.batch = options.batch;
  GradientStream<T> stream(model, split, std::move(train), to);
  check_size(stream, metric);
  std::vector<double> block;
  timed_run(stream, options.timing, [&](const GradientBlock<T>& b) {
    block.assign(b.data, b.data + b.rows * P);
    metric.quadratic(block.data(), b.rows, s.data() + b.first);
  });
  return s;
}

template std::vector<double> scores(const Model<float>&, ScoreMetric&, const Split<float>&,
                                    std::vector<index_t>, const Split<float>&, std::vector<index_t>,
                                    const ScoreOptions&, LayerScores*);
template std::vector<double> scores(const Model<double>&, ScoreMetric&, const Split<double>&,
                                    std::vector<index_t>, const Split<double>&,
                                    std::vector<index_t>, const ScoreOptions&, LayerScores*);
template std::vector<double> self_scores(const Model<float>&, ScoreMetric&, const Split<float>&,
                                         std::vector<index_t>, const ScoreOptions&);
template std::vector<double> self_scores(const Model<double>&, ScoreMetric&, const Split<double>&,
                                         std::vector<index_t>, const ScoreOptions&);

}  // namespace curv::influence
