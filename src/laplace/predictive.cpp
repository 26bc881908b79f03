#include "curv/laplace/predictive.hpp"

#include <lapacke.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numbers>

#include "curv/core/error.hpp"
#include "curv/core/rng.hpp"
#include "curv/curvature/gradients.hpp"
#include "curv/curvature/kfac.hpp"
#include "curv/data/batch_source.hpp"
#include "curv/loss/loss.hpp"
#include "curv/nn/objective.hpp"

namespace curv::laplace {
namespace {

// p = softmax(z) for one row of C, stably.
void softmax(const double* z, index_t C, double* p) {
  const double top = *std::max_element(z, z + C);
  double sum = 0;
  for (index_t c = 0; c < C; ++c) sum += p[c] = std::exp(z[c] - top);
  for (index_t c = 0; c < C; ++c) p[c] /= sum;
}

// Per input i, softmax of f_c · scale(i, c) / temperature.
template <class Scale>
std::vector<double> scaled_softmax(const Linearized& l, double temperature, Scale scale) {
  const index_t C = l.classes;
  std::vector<double> p(l.logits.size()), z(static_cast<std::size_t>(C));
  for (index_t i = 0; i < l.n; ++i) {
    for (index_t c = 0; c < C; ++c)
      z[std::size_t(c)] = scale(i, c) * l.logits[std::size_t(i * C + c)] / temperature;
    softmax(z.data(), C, p.data() + i * C);
  }
  return p;
}

// Σₙ += Jₙ P⁻¹ Jₙᵀ block by block for a Kronecker posterior P: a factored layer's rows are
// Σᵣ gₙ,c,ᵣ ⊗ âₙ,ᵣᵀ (KroneckerBlock::inverse_factored_covariance), any other layer's are
// gathered from the stream's rows into its block's Ŵ layout (KroneckerBlock::inverse_covariance).
template <class T>
void kronecker_covariance(KfacOperator& P, const GradientBlock<T>& b,
                          const std::vector<std::pair<index_t, index_t>>& row_columns, index_t C,
                          double* cov) {
  const std::map<index_t, index_t> column_of(row_columns.begin(), row_columns.end());
  std::vector<double> a_hat, g, V;
  for (KroneckerBlock& block : P.blocks()) {
    const KfacLayer& L = block.layer();
    const index_t din = L.din(), O = L.out, n = b.examples;
    const auto f = std::find_if(b.factors.begin(), b.factors.end(),
                                [&](const auto& x) { return x.weight_offset == L.weight_offset; });
    if (f != b.factors.end()) {
      CURV_CHECK(f->in == L.in && f->out == O && (f->bias_offset >= 0) == (L.bias_offset >= 0),
                 "laplace: expected the layer at offset ", L.weight_offset, " to be ", O, "x", L.in,
                 L.bias_offset >= 0 ? " with" : " without", " a bias, found ", f->out, "x", f->in,
                 f->bias_offset >= 0 ? " with" : " without", " one");
      const index_t R = f->rows_per_example;
      a_hat.resize(std::size_t(n * R * din));
      for (index_t r = 0; r < n * R; ++r) {
        std::copy(f->a + r * L.in, f->a + (r + 1) * L.in, a_hat.begin() + r * din);
        if (din > L.in) a_hat[std::size_t(r * din + L.in)] = 1;
      }
      g.assign(f->g, f->g + n * C * R * O);
      block.inverse_factored_covariance(a_hat.data(), g.data(), n, R, C, 0.0, cov);
      continue;
    }
    const auto w = column_of.find(L.weight_offset);
    const auto bias = L.bias_offset >= 0 ? column_of.find(L.bias_offset) : column_of.end();
    CURV_CHECK(w != column_of.end() && (L.bias_offset < 0 || bias != column_of.end()),
               "laplace: expected Jacobian rows over the layer at offset ", L.weight_offset,
               ", found none");
    // Inputs a few at a time, so the rows in Ŵ layout stay near 4 M entries (a conv layer's
    // block of C rows per input can be large).
    const index_t m = O * din, step = std::max<index_t>(1, (index_t(1) << 22) / (C * m));
    for (index_t first = 0; first < n; first += step) {
      const index_t k = std::min(step, n - first);
      V.resize(std::size_t(k * C * m));
      for (index_t r = 0; r < k * C; ++r) {
        const T* row = b.data + (first * C + r) * b.columns;
        double* Vr = V.data() + r * m;
        for (index_t o = 0; o < O; ++o) {
          const T* wo = row + w->second + o * L.in;
          std::copy(wo, wo + L.in, Vr + o * din);
          if (L.bias_offset >= 0) Vr[o * din + L.in] = double(row[bias->second + o]);
        }
      }
      block.inverse_covariance(V.data(), k, C, 0.0, cov + first * C * C);
    }
  }
}

}  // namespace

template <class T>
Linearized logits_of(const Model<T>& model, const Split<T>& split,
                     const std::vector<index_t>& examples, index_t batch) {
  Linearized l;
  l.n = index_t(examples.size()), l.classes = model.outputs();
  auto loss = make_loss<T>(model.loss());
  Objective<T> obj(model, *loss);
  for_each_batch<T>(split, examples, batch, [&](const Batch<T>& b) {
    obj.record(b.x);
    const View<const T> y = obj.output();
    CURV_CHECK(y.row_size() == l.classes && y.rows() == b.size(), "laplace: expected one row of ",
               l.classes, " logits per input, found ", y.shape.str(),
               " (sequence models are not supported)");
    l.logits.insert(l.logits.end(), y.data, y.data + y.numel());
  });
  return l;
}

template <class T>
Linearized linearize(Posterior& posterior, Model<T>& model, const Split<T>& split,
                     const std::vector<index_t>& examples, const std::string& subset, index_t batch,
                     const std::function<void(index_t, index_t)>& progress) {
  Linearized l;
  l.n = index_t(examples.size()), l.classes = model.outputs();
  const index_t C = l.classes, S = posterior.size();
  // Σ = J P⁻¹ Jᵀ per input, from the C Jacobian rows of each; the logits come with them.
  GradientOptions g;
  g.measurement = Measurement::parse("jacobian"), g.subset = subset, g.batch = batch;
  // A last-layer Kronecker posterior needs the layer's inputs, not the rows they make; without
  // rows to hold, batches as large as a forward pass's.
  g.inputs_for_output_layer = posterior.has_output_layer_form(C);
  // Any other Kronecker posterior takes layers' rows in factored form where that is smaller, in
  // which they are cheap to hold and to apply P⁻¹ to: so are batches of forward-pass size.
  KfacOperator* kron = g.inputs_for_output_layer ? nullptr : posterior.kronecker();
  g.layer_factors = kron != nullptr;
  if (g.inputs_for_output_layer || g.layer_factors) g.batch = std::max<index_t>(batch, 256);
  GradientStream<T> stream(model, split, examples, g);
  CURV_CHECK(stream.subset().size() == S, "laplace: expected Jacobians over the posterior's ", S,
             " parameters, found ", stream.subset().size(), " for subset '", subset, "'");
  l.logits.resize(std::size_t(l.n * C));
  l.covariance.assign(std::size_t(l.n * C * C), 0.0);
  std::vector<double> J, PJ, a_hat;
  stream.run([&](const GradientBlock<T>& b) {
    CURV_CHECK(b.output_size == C, "laplace: expected one row of ", C, " logits per input, found ",
               b.output_size, " outputs per input", " (sequence models are not supported)");
    std::copy(b.outputs, b.outputs + b.examples * C, l.logits.begin() + b.first * C);
    double* cov = l.covariance.data() + b.first * C * C;
    if (b.output_layer_inputs) {  // a last-layer Kronecker posterior: Σ without Jacobian rows
      a_hat.assign(b.output_layer_inputs, b.output_layer_inputs + b.examples * b.input_size);
      if (posterior.output_layer_covariance(a_hat.data(), b.examples, b.input_size, C, cov)) {
        if (progress) progress(b.first + b.examples, l.n);
        return;
      }
    }
    if (kron) {
      kronecker_covariance(*kron, b, stream.row_columns(), C, cov);
      if (progress) progress(b.first + b.examples, l.n);
      return;
    }
    CURV_CHECK(b.data, "laplace: expected the output layer's inputs to fit the posterior's ",
               "Kronecker block, found ", b.input_size, " inputs per example");
    J.assign(b.data, b.data + b.rows * b.columns);
    PJ.resize(J.size());
    posterior.covariance_mm(J.data(), b.rows, PJ.data());
    for (index_t e = 0; e < b.examples; ++e) {
      double* out = cov + e * C * C;
      for (index_t r = 0; r < C; ++r)
        for (index_t c = 0; c < C; ++c) {
          const double* a = J.data() + (e * C + r) * S;
          const double* p = PJ.data() + (e * C + c) * S;
          double s = 0;
          for (index_t i = 0; i < S; ++i) s += a[i] * p[i];
          out[r * C + c] = s;
        }
    }
    if (progress) progress(b.first + b.examples, l.n);
  });
  return l;
}

template <class T>
std::vector<double> sample_predictive(Posterior& posterior, Model<T>& model, const Split<T>& split,
                                      const std::vector<index_t>& examples,
                                      const std::string& subset, index_t samples,
                                      std::uint64_t seed, double temperature) {
  CURV_CHECK(samples >= 1, "laplace: expected at least 1 weight sample, found ", samples);
  CURV_CHECK(temperature > 0, "laplace: expected a temperature > 0, found ", temperature);
  const ParamSubset s = ParamSubset::parse(subset, model.params().info());
  CURV_CHECK(s.size() == posterior.size(), "laplace: expected weights over the posterior's ",
             posterior.size(), " parameters, found ", s.size(), " for subset '", subset, "'");
  T* w = model.params().data();
  const index_t P = model.params().size(), S = s.size(), C = model.outputs();
  const std::vector<T> saved(w, w + P);
  struct Restore {  // the trained weights come back however the loop ends
    T* w;
    const std::vector<T>& saved;
    ~Restore() { std::copy(saved.begin(), saved.end(), w); }
  } restore{w, saved};
  std::vector<double> eps(static_cast<std::size_t>(S)), delta(eps.size()),
      full(static_cast<std::size_t>(P)), p(examples.size() * std::size_t(C), 0.0),
      q(static_cast<std::size_t>(C)), z(q.size());
  Rng rng(seed);
  for (index_t k = 0; k < samples; ++k) {
    for (double& e : eps) e = rng.normal();
    posterior.precision().inverse_root_mv(eps.data(), 0.0, delta.data());
    s.scatter(delta.data(), full.data());  // zeros outside the subset
    for (index_t i = 0; i < P; ++i) w[i] = T(double(saved[std::size_t(i)]) + full[std::size_t(i)]);
    const Linearized l = logits_of(model, split, examples);
    for (index_t e = 0; e < l.n; ++e) {
      for (index_t c = 0; c < C; ++c)
        z[std::size_t(c)] = l.logits[std::size_t(e * C + c)] / temperature;
      softmax(z.data(), C, q.data());
      for (index_t c = 0; c < C; ++c)
        p[std::size_t(e * C + c)] += q[std::size_t(c)] / double(samples);
    }
  }
  return p;
}

std::vector<double> map_probabilities(const Linearized& l, double temperature) {
  return scaled_softmax(l, temperature, [](index_t, index_t) { return 1.0; });
}

std::vector<double> probit(const Linearized& l, double temperature) {
  return scaled_softmax(l, temperature, [&](index_t i, index_t c) {
    const double var = l.covariance[std::size_t((i * l.classes + c) * l.classes + c)];
    return 1 / std::sqrt(1 + std::numbers::pi / 8 * var);  // κ
  });
}

std::vector<double> monte_carlo(const Linearized& l, index_t samples, std::uint64_t seed,
                                double temperature) {
  CURV_CHECK(samples >= 1, "laplace: expected at least 1 Monte-Carlo sample, found ", samples);
  const index_t C = l.classes;
  Rng rng(seed);
  std::vector<double> eps(static_cast<std::size_t>(samples * C));
  for (double& e : eps) e = rng.normal();
  const auto Cs = static_cast<std::size_t>(C);
  std::vector<double> p(l.logits.size(), 0.0), L(Cs * Cs), z(Cs), q(Cs);
  for (index_t i = 0; i < l.n; ++i) {
    // L Lᵀ = Σ (a tiny jitter where Σ is singular, e.g. logits that sum to a constant).
    std::copy_n(l.covariance.begin() + i * C * C, C * C, L.begin());
    double scale = 0;
    for (index_t c = 0; c < C; ++c) scale = std::max(scale, L[std::size_t(c * C + c)]);
    for (index_t c = 0; c < C; ++c) L[std::size_t(c * C + c)] += 1e-12 * scale + 1e-300;
    const lapack_int info =
        LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', lapack_int(C), L.data(), lapack_int(C));
    CURV_CHECK(info == 0, "laplace: expected a positive semi-definite logit covariance at input ",
               i, ", found a failed Cholesky pivot ", info);
    for (index_t s = 0; s < samples; ++s) {
      for (index_t r = 0; r < C; ++r) {
        double f = l.logits[std::size_t(i * C + r)];
        for (index_t c = 0; c <= r; ++c)
          f += L[std::size_t(r * C + c)] * eps[std::size_t(s * C + c)];
        z[std::size_t(r)] = f / temperature;
      }
      softmax(z.data(), C, q.data());
      for (index_t c = 0; c < C; ++c)
        p[std::size_t(i * C + c)] += q[std::size_t(c)] / double(samples);
    }
  }
  return p;
}

std::vector<double> bridge(const Linearized& l, double temperature) {
  const index_t C = l.classes;
  std::vector<double> p(l.logits.size());
  for (index_t i = 0; i < l.n; ++i) {
    const double* f = l.logits.data() + i * C;
    double sum_exp_neg = 0;
    for (index_t k = 0; k < C; ++k) sum_exp_neg += std::exp(-f[k] / temperature);
    double total = 0;
    for (index_t c = 0; c < C; ++c) {
      const double var =
          l.covariance[std::size_t((i * C + c) * C + c)] / (temperature * temperature);
      CURV_CHECK(var > 0, "laplace: the bridge needs a positive logit variance, found ", var,
                 " at input ", i, " class ", c);
      const double alpha =
          (1 - 2.0 / double(C) + std::exp(f[c] / temperature) * sum_exp_neg / double(C * C)) / var;
      p[std::size_t(i * C + c)] = alpha, total += alpha;
    }
    for (index_t c = 0; c < C; ++c) p[std::size_t(i * C + c)] /= total;
  }
  return p;
}

std::vector<double> predict(const Linearized& l, const std::string& kind, index_t samples,
                            std::uint64_t seed, double temperature) {
  CURV_CHECK(temperature > 0, "laplace: expected a temperature > 0, found ", temperature);
  if (kind == "probit") return probit(l, temperature);
  if (kind == "mc") return monte_carlo(l, samples, seed, temperature);
  if (kind == "bridge") return bridge(l, temperature);
  if (kind == "map") return map_probabilities(l, temperature);
  fail("laplace: expected a predictive among probit, mc, bridge and map, found '", kind, "'");
}

template Linearized logits_of(const Model<float>&, const Split<float>&, const std::vector<index_t>&,
                              index_t);
template Linearized logits_of(const Model<double>&, const Split<double>&,
                              const std::vector<index_t>&, index_t);
template std::vector<double> sample_predictive(Posterior&, Model<float>&, const Split<float>&,
                                               const std::vector<index_t>&, const std::string&,
                                               index_t, std::uint64_t, double);
template std::vector<double> sample_predictive(Posterior&, Model<double>&, const Split<double>&,
                                               const std::vector<index_t>&, const std::string&,
                                               index_t, std::uint64_t, double);
template Linearized linearize(Posterior&, Model<float>&, const Split<float>&,
                              const std::vector<index_t>&, const std::string&, index_t,
                              const std::function<void(index_t, index_t)>&);
template Linearized linearize(Posterior&, Model<double>&, const Split<double>&,
                              const std::vector<index_t>&, const std::string&, index_t,
                              const std::function<void(index_t, index_t)>&);

}  // namespace curv::laplace
