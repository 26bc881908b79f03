#include "curv/laplace/evidence.hpp"

#include <algorithm>
#include <cmath>

#include "curv/core/error.hpp"
#include "curv/curvature/subset.hpp"
#include "curv/data/batch_source.hpp"
#include "curv/linalg/linear_solvers.hpp"
#include "curv/nn/objective.hpp"

namespace curv::laplace {
namespace {

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// The linearized objective E(θ) = Σₙ ℓ(f(xₙ; θ*) + Jₙ(θ − θ*), yₙ) + ½ θᵀP₀θ on the subset (or,
// without the offset, Σₙ ℓ(Jₙθ, yₙ) + ½ θᵀP₀θ), as
// sweeps over the examples: the model stays at θ*, and each batch is recorded there once per
// sweep, its outputs moved by a JVP (Objective::jvp) and pulled back by a VJP.
template <class T>
class LinearizedObjective {
 public:
  LinearizedObjective(const Model<T>& model, const Split<T>& split,
                      const std::vector<index_t>& examples, const ParamSubset& subset,
                      index_t batch, bool offset)
      : model_(model),
        split_(split),
        examples_(examples),
        subset_(subset),
        batch_(batch),
        offset_(offset),
        loss_(make_loss<T>(model.loss())),
        full_(std::size_t(model.params().size())) {
    CURV_CHECK(subset_.full_size() == model.params().size(), "linearized evidence: expected a ",
               "subset of the model's ", model.params().size(), " weights, found one of ",
               subset_.full_size());
    theta_.resize(std::size_t(subset_.size()));
    std::vector<double> all(model.params().data(), model.params().data() + model.params().size());
    subset_.gather(all.data(), theta_.data());
  }

  const std::vector<double>& theta() const { return theta_; }
  void set_prior(std::vector<double> d) { prior_ = std::move(d); }

  // E at θ* + Δ, its gradient in `grad` (if given), and the linearized outputs of every example
  // in `outputs` (if given: what hessian_vp weighs the output curvature at). Σₙ ℓ alone goes to
  // `summed_loss`.
  double value(const std::vector<double>& delta, std::vector<double>* grad,
               std::vector<double>* outputs, double* summed_loss) {
    std::vector<double> point = delta;  // the JVP's direction: Δ, or θ* + Δ without the offset
    if (!offset_)
      for (std::size_t i = 0; i < point.size(); ++i) point[i] += theta_[i];
    const std::vector<T> dir = to_full(point);
    std::vector<double> g(delta.size(), 0.0);
    if (outputs) outputs->clear();
    double loss = 0;
    sweep([&](Objective<T>& obj, const Batch<T>& b) {
      const index_t n = b.size(), C = obj.outputs();
      std::vector<T> z(std::size_t(n * C));
      obj.jvp(dir.data(), z.data());  // (n, C) = J Δ, or J θ
      const View<const T> f = obj.output();
      if (offset_)
        for (std::size_t i = 0; i < z.size(); ++i) z[i] += f.data[i];
      loss += double(n) * loss_->forward(View<const T>(z.data(), f.shape), b.targets());
      if (outputs) outputs->insert(outputs->end(), z.begin(), z.end());
      if (!grad) return;
      std::vector<T> dz(z.size());
      loss_->grad(dz.data());  // ∇ℓₙ/n: scaled to the sum below
      for (T& x : dz) x *= T(n);
      pull_back(obj, dz, g);
    });
    double prior = 0;
    for (std::size_t i = 0; i < delta.size(); ++i) {
      const double w = theta_[i] + delta[i];
      prior += prior_[i] * w * w;
      g[i] += prior_[i] * w;
    }
    if (grad) *grad = std::move(g);
    if (summed_loss) *summed_loss = loss;
    return loss + 0.5 * prior;
  }

  // out = (Σₙ Jₙᵀ ∇²ℓ(zₙ) Jₙ + P₀) v, the output curvature at the linearized outputs z.
  void hessian_vp(const std::vector<double>& outputs, const double* v, double* out) {
    const std::vector<T> dir = to_full(std::vector<double>(v, v + theta_.size()));
    std::vector<double> hv(theta_.size(), 0.0);
    std::size_t at = 0;
    sweep([&](Objective<T>& obj, const Batch<T>& b) {
      const index_t n = b.size(), C = obj.outputs();
      const std::size_t size = std::size_t(n * C);
      std::vector<T> z(outputs.begin() + std::ptrdiff_t(at),
                       outputs.begin() + std::ptrdiff_t(at + size));
      at += size;
      std::vector<T> u(size), w(size);
      obj.jvp(dir.data(), u.data());
      loss_->forward(View<const T>(z.data(), obj.output().shape), b.targets());
      loss_->hvp(u.data(), w.data());  // (∇²ℓₙ/n) uₙ
      for (T& x : w) x *= T(n);
      pull_back(obj, w, hv);
    });
    for (std::size_t i = 0; i < hv.size(); ++i) out[i] = hv[i] + prior_[i] * v[i];
  }

 private:
  template <class F>
  void sweep(const F& f) {
    Objective<T> obj(model_, *loss_);
    for_each_batch<T>(split_, examples_, batch_, [&](const Batch<T>& b) {
      CURV_CHECK(b.labelled(), "linearized evidence: expected labelled examples, found ",
                 split_.name(), " without targets");
      obj.record(b.x);
      CURV_CHECK(obj.output().rows() == b.size(), "linearized evidence: expected one output row ",
                 "per example, found ", obj.output().shape.str(), " (sequence models are not ",
                 "supported)");
      f(obj, b);
    });
  }
  // g += (Jᵀ u) on the subset.
  void pull_back(Objective<T>& obj, const std::vector<T>& u, std::vector<double>& g) {
    std::vector<T> full(full_.size());
    obj.vjp(u.data(), full.data());
    for (std::size_t i = 0; i < full.size(); ++i) full_[i] = double(full[i]);
    std::vector<double> sub(g.size());
    subset_.gather(full_.data(), sub.data());
    for (std::size_t i = 0; i < g.size(); ++i) g[i] += sub[i];
  }
  std::vector<T> to_full(const std::vector<double>& sub) {
    std::fill(full_.begin(), full_.end(), 0.0);
    subset_.scatter(sub.data(), full_.data());
    return std::vector<T>(full_.begin(), full_.end());
  }

  const Model<T>& model_;
  const Split<T>& split_;
  const std::vector<index_t>& examples_;
  const ParamSubset& subset_;
  index_t batch_;
  bool offset_;
  std::unique_ptr<Loss<T>> loss_;
  std::vector<double> full_, theta_, prior_;
};

// E's Hessian at fixed linearized outputs, for conjugate gradients.
template <class T>
class LinearizedHessian final : public LinearOperator {
 public:
  LinearizedHessian(LinearizedObjective<T>& e, const std::vector<double>& outputs)
      : LinearOperator(index_t(e.theta().size())), e_(e), outputs_(outputs) {}
  std::string name() const override { return "linearized-hessian"; }
  void mv(const double* v, double* out) override { e_.hessian_vp(outputs_, v, out); }

 private:
  LinearizedObjective<T>& e_;
  const std::vector<double>& outputs_;
};

// Newton's method on E from θ* + Δ (updated in place), preconditioned by the posterior's P.
// Returns the last half Newton decrement: what E may still be above its minimum, to second order.
template <class T>
double solve_mode(LinearizedObjective<T>& e, LinearOperator& P, std::vector<double>& delta,
                  const LinearizedOptions& o, LinearizedReport& r, double& summed_loss,
                  double& first_gradient) {
  std::vector<double> grad, outputs;
  double value = e.value(delta, &grad, &outputs, &summed_loss);
  if (first_gradient == 0) first_gradient = std::sqrt(dot(grad, grad));
  double decrement = INFINITY;
  for (int step = 0; step < o.newton_steps; ++step) {
    LinearizedHessian<T> H(e, outputs);
    linalg::CgOptions cg;
    // Inexact Newton (Eisenstat & Walker 1996): the system is solved as far as the gradient is
    // small, relative to the first solve's at θ*, which keeps the convergence superlinear
    // without paying for exact systems far from the mode.
    const double forcing = std::min(0.5, std::sqrt(std::sqrt(dot(grad, grad)) / first_gradient));
    cg.tolerance = std::max(o.cg_tolerance, forcing), cg.max_iterations = o.cg_iterations;
    cg.preconditioner = linalg::inverse_preconditioner(P, 0.0);
    std::vector<double> b(grad.size());
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = -grad[i];
    linalg::CgResult solved = linalg::cg(H, b, cg);
    r.products += solved.iterations;
    std::vector<double> d = std::move(solved.x);
    double slope = dot(grad, d);  // −(Newton decrement)²
    if (!(slope < 0)) {           // CG stopped short of a descent direction: take −P⁻¹∇E
      P.inverse_mv(grad.data(), 0.0, d.data());
      for (double& x : d) x = -x;
      slope = dot(grad, d);
    }
    decrement = -0.5 * slope;
    ++r.newton_steps;
    if (decrement <= o.tolerance) return decrement;
    std::vector<double> trial(delta.size()), trial_grad, trial_outputs;
    double trial_loss = 0, trial_value = INFINITY, t = 1;
    for (int k = 0; k < 40; ++k, t /= 2) {
      for (std::size_t i = 0; i < delta.size(); ++i) trial[i] = delta[i] + t * d[i];
      trial_value = e.value(trial, &trial_grad, &trial_outputs, &trial_loss);
      if (trial_value <= value + 1e-4 * t * slope) break;
    }
    if (!(trial_value < value)) return decrement;  // no decrease E's rounding can show
    delta = std::move(trial), grad = std::move(trial_grad), outputs = std::move(trial_outputs);
    value = trial_value, summed_loss = trial_loss;
  }
  return decrement;
}

}  // namespace

template <class T>
LinearizedReport fit_linearized_evidence(Posterior& posterior, const Model<T>& model,
                                         const Split<T>& split,
                                         const std::vector<index_t>& examples,
                                         const std::string& subset,
                                         const LinearizedOptions& options) {
  CURV_CHECK(options.prior_steps >= 0 && options.newton_steps >= 1 && options.batch >= 1,
             "linearized evidence: expected prior steps >= 0, Newton steps and batch >= 1");
  check_example_indices(split, std::span<const index_t>(examples));
  CURV_CHECK(!posterior.gaussian(), "linearized evidence: expected a classifier's posterior, ",
             "found one with a Gaussian likelihood (its objective would need the 1/σ² the ",
             "regression evidence scales by)");
  const ParamSubset s = ParamSubset::parse(subset, model.params().info());
  CURV_CHECK(s.size() == posterior.size(), "linearized evidence: expected the posterior's ",
             posterior.size(), " weights in '", subset, "', found ", s.size());
  LinearizedObjective<T> e(model, split, examples, s, options.batch, options.offset);
  LinearizedReport r;
  std::vector<double> delta(e.theta().size(), 0.0), entries(delta.size());
  double first_gradient = 0;
  // θ̂ for the posterior's current prior, from the last θ̂.
  auto solve = [&] {
    const auto& groups = posterior.groups();
    for (std::size_t g = 0; g < groups.size(); ++g)
      std::fill_n(entries.begin() + groups[g].begin, groups[g].size, posterior.prior()[g]);
    e.set_prior(entries);
    const double decrement =
        solve_mode(e, posterior.precision(), delta, options, r, r.summed_loss, first_gradient);
    r.decrement = std::max(r.decrement, decrement), ++r.solves;
    std::vector<double> mode(delta.size());
    for (std::size_t i = 0; i < mode.size(); ++i) mode[i] = e.theta()[i] + delta[i];
    posterior.set_mode(std::move(mode), r.summed_loss);
  };
  solve();
  r.converged = true;
  if (options.fit_prior) {
    r.prior_steps = posterior.fit_prior(options.prior_steps, options.prior_tolerance, solve);
    r.converged = r.prior_steps < options.prior_steps;
  }
  r.converged = r.converged && r.decrement <= options.tolerance;
  r.distance = std::sqrt(dot(delta, delta));
  return r;
}

template LinearizedReport fit_linearized_evidence(Posterior&, const Model<float>&,
                                                  const Split<float>&, const std::vector<index_t>&,
                                                  const std::string&, const LinearizedOptions&);
template LinearizedReport fit_linearized_evidence(Posterior&, const Model<double>&,
                                                  const Split<double>&, const std::vector<index_t>&,
                                                  const std::string&, const LinearizedOptions&);

}  // namespace curv::laplace
