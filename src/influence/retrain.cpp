#include "curv/influence/retrain.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

#include "curv/core/error.hpp"
#include "curv/core/rng.hpp"
#include "curv/curvature/compose.hpp"
#include "curv/curvature/data.hpp"
#include "curv/curvature/model_operators.hpp"
#include "curv/data/batch_source.hpp"
#include "curv/loss/loss.hpp"
#include "curv/nn/objective.hpp"

namespace curv::influence {

namespace {

double norm(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x * x;
  return std::sqrt(s);
}

// L₋R(θ) = s·(mean loss over the kept examples) + (wd/2)‖θ‖², s = kept/N.
template <class T>
double objective(CurvatureData<T>& data, const ParamStore<T>& params, double s, double wd) {
  double sq = 0;
  for (index_t i = 0; i < params.size(); ++i) sq += double(params.data()[i]) * params.data()[i];
  return s * data.loss() + 0.5 * wd * sq;
}

// ∇L₋R(θ) = s·(size-weighted mean of the batch gradients) + wd·θ.
template <class T>
std::vector<double> gradient(CurvatureData<T>& data, const ParamStore<T>& params, double s,
                             double wd) {
  const index_t P = params.size();
  std::vector<double> g(std::size_t(P), 0.0);
  std::vector<T> gb(static_cast<std::size_t>(P));
  for (index_t b = 0; b < data.batches(); ++b) {
    data.objective(b).gradient(gb.data());
    const double w = s * data.weight(b);
    for (index_t i = 0; i < P; ++i) g[std::size_t(i)] += w * double(gb[std::size_t(i)]);
  }
  for (index_t i = 0; i < P; ++i) g[std::size_t(i)] += wd * double(params.data()[i]);
  return g;
}

}  // namespace

template <class T>
NewtonReport newton_minimize(Model<T>& model, const Split<T>& split, std::vector<index_t> examples,
                             const NewtonOptions& o) {
  CURV_CHECK(o.weight_decay >= 0, "newton: expected a weight decay >= 0, found ", o.weight_decay);
  const index_t kept = index_t(examples.size());
  const index_t N = o.total > 0 ? o.total : kept;
  CURV_CHECK(kept >= 1 && kept <= N, "newton: expected between 1 and N = ", N,
             " kept examples, found ", kept);
  const double s = double(kept) / double(N), wd = o.weight_decay;
  ParamStore<T>& params = model.params();
  const index_t P = params.size();
  CurvatureData<T> data(model, split, std::move(examples), o.batch);
  // ∇²L₋R = s·H̄ + wd·I: CG on the scaled mean-loss Hessian with damping wd.
  ScaledOperator H(s, std::make_unique<ModelOperator<T>>(data, ModelCurvature::Hessian,
                                                         ParamSubset::all(params.info())));
  NewtonReport r;
  std::vector<double> g = gradient(data, params, s, wd);
  r.gradient_norm = norm(g);
  r.objective = objective(data, params, s, wd);
  std::vector<T> start(static_cast<std::size_t>(P));
  while (r.gradient_norm > o.gradient_tolerance && r.steps < o.max_steps) {
    linalg::CgOptions c;
    c.damping = wd, c.tolerance = o.cg_tolerance, c.max_iterations = o.cg_iterations;
    c.preconditioner = o.preconditioner;
    for (double& v : g) v = -v;
    const linalg::CgResult d = linalg::cg(H, g, c);
    r.products += d.iterations + 1;
    // Newton decrement λ² = ∇Lᵀ(∇²L)⁻¹∇L: the step lowers L by about λ²/2. Once that is below
    // what float64 resolves in L (near the optimum, O(ε·|L|·N) from the sum over examples), the
    // objective cannot referee a line search, and the full step is taken: this is the
    // quadratically convergent phase of damped Newton, judged by ‖∇L‖ alone.
    double decrement = 0;
    for (index_t i = 0; i < P; ++i) decrement += g[std::size_t(i)] * d.x[std::size_t(i)];
    const bool resolvable = 0.5 * decrement > 1e-11 * std::max(std::abs(r.objective), 1e-300);
    // Backtracking: the full step first (Newton's is exact on a quadratic), halved while the
    // objective does not decrease.
    std::copy(params.data(), params.data() + P, start.begin());
    double step = 1, value = 0;
    for (int tries = 0;; ++tries) {
      for (index_t i = 0; i < P; ++i)
        params.data()[i] = T(double(start[std::size_t(i)]) + step * d.x[std::size_t(i)]);
      data.refresh();
      value = objective(data, params, s, wd);
      if (!resolvable || value <= r.objective || tries == 30) break;
      step /= 2;
    }
    ++r.steps;
    r.objective = value;
    g = gradient(data, params, s, wd);
    r.gradient_norm = norm(g);
  }
  r.converged = r.gradient_norm <= o.gradient_tolerance;
  return r;
}

template <class T>
std::vector<double> measurement_values(const Model<T>& model, const Split<T>& split,
                                       const std::vector<index_t>& examples, const Measurement& m,
                                       index_t batch) {
  CURV_CHECK(m.kind == Measurement::Kind::Loss || m.kind == Measurement::Kind::Margin,
             "influence: expected the measurement loss or margin, found '", m.name(), "'");
  auto loss = make_loss<T>(model.loss());
  Objective<T> obj(model, *loss);
  std::vector<double> out;
  for (const Batch<T>& b : collect_batches<T>(split, examples, batch)) {
    obj.set_batch(b.x.view(), b.targets());
    const index_t n = b.size(), C = obj.outputs();
    if (m.kind == Measurement::Kind::Loss) {
      std::vector<T> l(static_cast<std::size_t>(n));
      obj.loss_fn().per_example(l.data());
      out.insert(out.end(), l.begin(), l.end());
      continue;
    }
    CURV_CHECK(index_t(b.labels.size()) == n,
               "influence: the margin needs one class label per example, found ", b.labels.size(),
               " for ", n, " examples");
    const T* z = obj.output().data;
    for (index_t e = 0; e < n; ++e) {
      const index_t y = index_t(b.labels[std::size_t(e)]);
      double top = -INFINITY, sum = 0;
      for (index_t c = 0; c < C; ++c)
        if (c != y) top = std::max(top, double(z[e * C + c]));
      for (index_t c = 0; c < C; ++c)
        if (c != y) sum += std::exp(double(z[e * C + c]) - top);
      out.push_back(double(z[e * C + y]) - top - std::log(sum));
    }
  }
  return out;
}

template <class T>
RetrainOutcomes retrain_outcomes(Model<T>& model, const Split<T>& split,
                                 const std::vector<std::vector<index_t>>& kept,
                                 const Split<T>& query_split, const std::vector<index_t>& queries,
                                 const Measurement& m, const NewtonOptions& o,
                                 const std::function<void(index_t)>& on_list) {
  ParamStore<T>& params = model.params();
  const std::vector<T> star(params.data(), params.data() + params.size());
  const std::vector<double> base = measurement_values(model, query_split, queries, m, o.batch);
  RetrainOutcomes out;
  for (std::size_t i = 0; i < kept.size(); ++i) {
    if (on_list) on_list(index_t(i));
    std::copy(star.begin(), star.end(), params.data());
    const NewtonReport r = newton_minimize(model, split, kept[i], o);
    if (!r.converged) std::copy(star.begin(), star.end(), params.data());
    CURV_CHECK(r.converged, "retraining on kept list ", i, " (", kept[i].size(),
               " examples) stopped at ‖∇L‖ = ", r.gradient_norm, " after ", r.steps,
               " Newton steps");
    out.steps += r.steps, out.products += r.products;
    out.worst_steps = std::max(out.worst_steps, r.steps);
    out.worst_gradient_norm = std::max(out.worst_gradient_norm, r.gradient_norm);
    std::vector<double> v = measurement_values(model, query_split, queries, m, o.batch);
    for (std::size_t q = 0; q < v.size(); ++q) v[q] -= base[q];
    out.change.push_back(std::move(v));
  }
  std::copy(star.begin(), star.end(), params.data());
  return out;
}

std::vector<std::vector<index_t>> random_subsets(index_t n, index_t size, index_t count,
                                                 std::uint64_t seed) {
  CURV_CHECK(size >= 1 && size <= n, "random subsets: expected a size in 1..", n, ", found ", size);
  Rng rng(seed);
  std::vector<std::vector<index_t>> subsets;
  for (index_t t = 0; t < count; ++t) subsets.push_back(rng.choose(n, size));
  return subsets;
}

template RetrainOutcomes retrain_outcomes(Model<float>&, const Split<float>&,
                                          const std::vector<std::vector<index_t>>&,
                                          const Split<float>&, const std::vector<index_t>&,
                                          const Measurement&, const NewtonOptions&,
                                          const std::function<void(index_t)>&);
template RetrainOutcomes retrain_outcomes(Model<double>&, const Split<double>&,
                                          const std::vector<std::vector<index_t>>&,
                                          const Split<double>&, const std::vector<index_t>&,
                                          const Measurement&, const NewtonOptions&,
                                          const std::function<void(index_t)>&);
template std::vector<double> measurement_values(const Model<float>&, const Split<float>&,
                                                const std::vector<index_t>&, const Measurement&,
                                                index_t);
template std::vector<double> measurement_values(const Model<double>&, const Split<double>&,
                                                const std::vector<index_t>&, const Measurement&,
                                                index_t);
template NewtonReport newton_minimize(Model<float>&, const Split<float>&, std::vector<index_t>,
                                      const NewtonOptions&);
template NewtonReport newton_minimize(Model<double>&, const Split<double>&, std::vector<index_t>,
                                      const NewtonOptions&);

}  // namespace curv::influence
