#include "curv/spectra/batch_sweep.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <string>
#include <tuple>

#include "curv/core/error.hpp"
#include "curv/core/rng.hpp"
#include "curv/curvature/data.hpp"
#include "curv/curvature/gradients.hpp"

namespace curv::spectra {

std::vector<index_t> draw_batch(const std::vector<index_t>& pool, index_t B, index_t b,
                                std::uint64_t seed) {
  const auto N = index_t(pool.size());
  CURV_CHECK(B >= 1 && B <= N, "batch sweep: expected a batch size in 1..", N,
             " (the examples), found ", B);
  if (B == N) return pool;
  Rng rng = Rng(seed).split(std::uint64_t(B)).split(std::uint64_t(b));
  std::vector<index_t> batch;
  for (index_t i : rng.choose(N, B)) batch.push_back(pool[std::size_t(i)]);
  return batch;
}

namespace {

// s ⊙ M(s ⊙ v) with s = D^{-1/2}: symmetric, with the eigenvalues of D⁻¹M.
class SymmetricallyScaled final : public LinearOperator {
 public:
  SymmetricallyScaled(std::unique_ptr<LinearOperator> m, const std::vector<double>& denominator)
      : LinearOperator(m->size()),
        m_(std::move(m)),
        s_(denominator.size()),
        w_(denominator.size()) {
    CURV_CHECK(index_t(s_.size()) == size(), "batch sweep: Adam's preconditioner covers ",
               s_.size(), " parameters, the operator ", size(), " (use every parameter)");
    for (std::size_t i = 0; i < s_.size(); ++i) s_[i] = 1 / std::sqrt(denominator[i]);
  }
  std::string name() const override { return "D^-1/2 " + m_->name() + " D^-1/2"; }
  void mv(const double* v, double* out) override {
    for (std::size_t i = 0; i < s_.size(); ++i) w_[i] = s_[i] * v[i];
    m_->mv(w_.data(), out);
    for (std::size_t i = 0; i < s_.size(); ++i) out[i] *= s_[i];
  }

 private:
  std::unique_ptr<LinearOperator> m_;
  std::vector<double> s_, w_;
};

}  // namespace

template <class T>
GradientMoments gradient_moments(const Model<T>& model, const Split<T>& split,
                                 const std::vector<index_t>& pool, index_t chunk) {
  GradientOptions g;
  g.batch = chunk;
  GradientStream<T> stream(model, split, pool, g);
  const index_t P = stream.columns();
  GradientMoments m;
  m.count = index_t(pool.size());
  CURV_CHECK(m.count >= 2, "gradient moments: expected at least 2 examples, found ", m.count);
  // Welford's update per coordinate: a plain sum of squares loses the variance to cancellation
  // where the mean gradient dominates.
  m.mean.assign(std::size_t(P), 0.0);
  std::vector<double> m2(std::size_t(P), 0.0);
  index_t n = 0;
  stream.run([&](const GradientBlock<T>& b) {
    for (index_t r = 0; r < b.rows; ++r) {
      const T* row = b.data + r * b.columns;
      ++n;
      for (index_t j = 0; j < P; ++j) {
        const double d = double(row[j]) - m.mean[std::size_t(j)];
        m.mean[std::size_t(j)] += d / double(n);
        m2[std::size_t(j)] += d * (double(row[j]) - m.mean[std::size_t(j)]);
      }
    }
  });
  m.variance.resize(std::size_t(P));
  for (index_t j = 0; j < P; ++j) m.variance[std::size_t(j)] = m2[std::size_t(j)] / double(n - 1);
  return m;
}

std::vector<double> adam_denominator(const GradientMoments& m, index_t B, double eps) {
  CURV_CHECK(B >= 1 && B <= m.count, "adam denominator: expected a batch size in 1..", m.count,
             ", found ", B);
  const double x = 1.0 / double(B) - 1.0 / double(m.count);
  std::vector<double> d(m.mean.size());
  for (std::size_t j = 0; j < d.size(); ++j)
    d[j] = std::sqrt(m.mean[j] * m.mean[j] + m.variance[j] * x) + eps;
  return d;
}

template <class T>
std::vector<SweepPoint> batch_sweep(const Model<T>& model, const Split<T>& split,
                                    const std::vector<index_t>& pool, const SweepOptions& o) {
  const auto N = index_t(pool.size());
  CURV_CHECK(!o.batch_sizes.empty(), "batch sweep: expected at least one batch size, found none");
  CURV_CHECK(o.batches >= 1 && o.iterations >= 1 && o.chunk >= 1,
             "batch sweep: expected batches, Lanczos iterations and chunk >= 1, found ", o.batches,
             ", ", o.iterations, ", ", o.chunk);
  for (index_t B : o.batch_sizes)
    CURV_CHECK(B >= 1 && B <= N, "batch sweep: expected batch sizes in 1..", N,
               " (the examples), found ", B);
  CURV_CHECK(!o.adam_preconditioned || o.adam_eps > 0,
             "batch sweep: expected Adam's epsilon > 0, found ", o.adam_eps);
  GradientMoments moments;
  if (o.adam_preconditioned) moments = gradient_moments(model, split, pool, o.chunk);
  index_t total = 0, done = 0;
  for (index_t B : o.batch_sizes) total += B == N ? 1 : o.batches;
  std::vector<SweepPoint> sweep;
  for (index_t B : o.batch_sizes) {
    SweepPoint p;
    p.batch = B;
    const index_t K = B == N ? 1 : o.batches;  // the full matrix is one matrix
    for (index_t b = 0; b < K; ++b) {
      CurvatureData<T> data(model, split, draw_batch(pool, B, b, o.seed), std::min(o.chunk, B));
      std::unique_ptr<LinearOperator> op = make_operator(data, o.op);
      if (o.adam_preconditioned)
        op = std::make_unique<SymmetricallyScaled>(std::move(op),
                                                   adam_denominator(moments, B, o.adam_eps));
      linalg::KrylovOptions k;
      k.iterations = std::min(o.iterations, op->size()), k.wanted = 1;
      k.which = linalg::Which::largest_algebraic, k.tolerance = o.tolerance;
      k.stop_when_converged = true;  // the budget is a cap: most draws need far less
      k.seed = o.seed + std::uint64_t(b);
      const linalg::Eigensolution e = linalg::lanczos(*op, k);
      CURV_CHECK(!e.values.empty() && std::isfinite(e.values[0]), "batch sweep: expected a finite ",
                 "largest eigenvalue of the batch of ", B, " (draw ", b, "), found none");
      p.lambda_max.push_back(e.values[0]);
      p.unconverged += e.converged >= 1 ? 0 : 1;
      p.products += e.iterations;
      if (o.on_draw) o.on_draw(++done, total);
    }
    double sum = 0;
    for (double v : p.lambda_max) sum += v;
    p.mean = sum / double(K);
    if (K > 1) {
      double ss = 0;
      for (double v : p.lambda_max) ss += (v - p.mean) * (v - p.mean);
      p.standard_error = std::sqrt(ss / double(K - 1) / double(K));
    }
    sweep.push_back(std::move(p));
  }
  return sweep;
}

std::vector<double> batch_noise(const std::vector<SweepPoint>& sweep, index_t N) {
  std::vector<double> x;
  for (const auto& p : sweep) x.push_back(1.0 / double(p.batch) - 1.0 / double(N));
  return x;
}

double spiked_law(double lambda, double v, double x) {
  return lambda * lambda > v * x ? lambda + v * x / lambda : 2 * std::sqrt(v * x);
}

namespace {

// R² and residuals of a law's predictions against the sweep's means.
void score(const std::vector<SweepPoint>& sweep, const std::vector<double>& predicted,
           LawFit& fit) {
  double mean = 0;
  for (const auto& p : sweep) mean += p.mean;
  mean /= double(sweep.size());
  double ss_res = 0, ss_tot = 0;
  fit.residuals.clear();
  for (std::size_t i = 0; i < sweep.size(); ++i) {
    fit.residuals.push_back(sweep[i].mean - predicted[i]);
    ss_res += fit.residuals.back() * fit.residuals.back();
    ss_tot += (sweep[i].mean - mean) * (sweep[i].mean - mean);
  }
  fit.r2 = ss_tot > 0 ? 1 - ss_res / ss_tot : (ss_res == 0 ? 1.0 : 0.0);
}

}  // namespace

std::optional<std::pair<double, double>> least_squares_line(const std::vector<double>& x,
                                                            const std::vector<double>& y) {
  const auto n = double(x.size());
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < x.size(); ++i) mx += x[i], my += y[i];
  mx /= n, my /= n;
  double sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
    sxx += (x[i] - mx) * (x[i] - mx), sxy += (x[i] - mx) * (y[i] - my);
  if (!(sxx > 0)) return std::nullopt;
  return std::pair(my - sxy / sxx * mx, sxy / sxx);
}

LawFit fit_linear_law(const std::vector<SweepPoint>& sweep, index_t N) {
  const auto x = batch_noise(sweep, N);
  std::vector<double> means;
  for (const auto& p : sweep) means.push_back(p.mean);
  const auto line = least_squares_line(x, means);
  CURV_CHECK(line.has_value(), "batch sweep: the linear law needs at least two different batch ",
             "sizes, found ", x.size(), " point(s) of one size");
  LawFit fit;
  std::tie(fit.lambda_full, fit.slope) = *line;
  std::vector<double> predicted;
  for (double xi : x) predicted.push_back(fit.lambda_full + fit.slope * xi);
  score(sweep, predicted, fit);
  return fit;
}

LawFit fit_spiked_law(const std::vector<SweepPoint>& sweep, index_t N) {
  const auto x = batch_noise(sweep, N);
  for (const auto& p : sweep)
    CURV_CHECK(p.mean > 0, "batch sweep: the spiked law needs positive top eigenvalues, found ",
               p.mean, " at batch size ", p.batch);
  auto loss = [&](const std::array<double, 2>& z) {
    const double lambda = std::exp(z[0]), v = std::exp(z[1]);
    double s = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double r = sweep[i].mean - spiked_law(lambda, v, x[i]);
      s += r * r;
    }
    return s;
  };
  // Start from the linear law's regime: λ its intercept (or the smallest mean if that is not
  // positive), v = c·λ (or a small share of the largest mean's square).
  const LawFit linear = fit_linear_law(sweep, N);
  double lo = sweep[0].mean, hi = sweep[0].mean, xmax = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
    lo = std::min(lo, sweep[i].mean), hi = std::max(hi, sweep[i].mean), xmax = std::max(xmax, x[i]);
  const double lambda0 = linear.lambda_full > 0 ? linear.lambda_full : lo;
  const double v0 =
      linear.slope > 0 ? linear.slope * lambda0 : 1e-3 * hi * hi / std::max(xmax, 1e-12);
  // Nelder–Mead (reflection 1, expansion 2, contraction ½, shrink ½) on (log λ, log v).
  std::array<std::array<double, 2>, 3> s = {{{std::log(lambda0), std::log(v0)},
                                             {std::log(lambda0) + 0.1, std::log(v0)},
                                             {std::log(lambda0), std::log(v0) + 0.5}}};
  std::array<double, 3> f = {loss(s[0]), loss(s[1]), loss(s[2])};
  for (int it = 0; it < 2000; ++it) {
    std::array<int, 3> order = {0, 1, 2};
    std::sort(order.begin(), order.end(), [&](int a, int b) { return f[a] < f[b]; });
    const int best = order[0], mid = order[1], worst = order[2];
    if (f[worst] - f[best] <= 1e-14 * (f[best] + 1e-300) &&
        std::abs(s[worst][0] - s[best][0]) + std::abs(s[worst][1] - s[best][1]) < 1e-12)
      break;
    std::array<double, 2> c{}, r{}, e{}, k{};
    for (int d = 0; d < 2; ++d) c[d] = 0.5 * (s[best][d] + s[mid][d]);
    for (int d = 0; d < 2; ++d) r[d] = c[d] + (c[d] - s[worst][d]);
    const double fr = loss(r);
    if (fr < f[best]) {
      for (int d = 0; d < 2; ++d) e[d] = c[d] + 2 * (c[d] - s[worst][d]);
      const double fe = loss(e);
      if (fe < fr)
        s[worst] = e, f[worst] = fe;
      else
        s[worst] = r, f[worst] = fr;
    } else if (fr < f[mid]) {
      s[worst] = r, f[worst] = fr;
    } else {
      const bool outside = fr < f[worst];
      for (int d = 0; d < 2; ++d)
        k[d] = outside ? c[d] + 0.5 * (r[d] - c[d]) : c[d] + 0.5 * (s[worst][d] - c[d]);
      const double fk = loss(k);
      if (fk < std::min(fr, f[worst])) {
        s[worst] = k, f[worst] = fk;
      } else {
        for (int j : {mid, worst}) {
          for (int d = 0; d < 2; ++d) s[j][d] = s[best][d] + 0.5 * (s[j][d] - s[best][d]);
          f[j] = loss(s[j]);
        }
      }
    }
  }
  const int best = int(std::min_element(f.begin(), f.end()) - f.begin());
  LawFit fit;
  fit.lambda_full = std::exp(s[best][0]), fit.slope = std::exp(s[best][1]);
  std::vector<double> predicted;
  for (double xi : x) predicted.push_back(spiked_law(fit.lambda_full, fit.slope, xi));
  score(sweep, predicted, fit);
  return fit;
}

template std::vector<SweepPoint> batch_sweep(const Model<float>&, const Split<float>&,
                                             const std::vector<index_t>&, const SweepOptions&);
template std::vector<SweepPoint> batch_sweep(const Model<double>&, const Split<double>&,
                                             const std::vector<index_t>&, const SweepOptions&);
template GradientMoments gradient_moments(const Model<float>&, const Split<float>&,
                                          const std::vector<index_t>&, index_t);
template GradientMoments gradient_moments(const Model<double>&, const Split<double>&,
                                          const std::vector<index_t>&, index_t);

}  // namespace curv::spectra
