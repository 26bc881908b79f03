#include "curv/laplace/fit.hpp"

#include <algorithm>
#include <cmath>

#include "curv/core/error.hpp"
#include "curv/curvature/factory.hpp"
#include "curv/curvature/low_rank_operator.hpp"
#include "curv/curvature/subset.hpp"
#include "curv/laplace/subnet.hpp"
#include "curv/linalg/eigensolvers.hpp"

namespace curv::laplace {
namespace {

// C on the weights: a structured operator from the factory, the top of the matrix-free one
// (lowrank), or the matrix-free one materialized (full).
template <class T>
std::unique_ptr<LinearOperator> curvature_of(CurvatureData<T>& data, const LaplaceSpec& s,
                                             FitReport& report) {
  OperatorSpec spec;
  spec.subset = report.weights, spec.samples = s.mc_samples, spec.seed = s.seed;
  spec.factors = parse_factor_kind(s.curvature == "fisher" ? "mc" : s.curvature);
  if (s.structure == "kron" || s.structure == "diag") {
    spec.name = s.structure == "kron" ? "kfac" : "diag";
    return make_operator(data, spec);
  }
  spec.name = s.curvature;
  const auto op = make_operator(data, spec);
  const index_t n = op->size();
  if (s.structure == "full") {
    CURV_CHECK(n <= s.max_full, "laplace: --structure full on ", n, " weights would build a ", n,
               "² matrix: expected at most ", s.max_full,
               " (use --weights last, or --structure kron or lowrank)");
    return std::make_unique<DenseOperator>(materialize(*op), n, "full-" + s.curvature);
  }
  CURV_CHECK(s.rank >= 1 && s.rank <= n, "laplace: expected a rank in 1..", n,
             " (the weights) for --structure lowrank, found ", s.rank);
  linalg::KrylovOptions k;
  k.wanted = s.rank, k.iterations = std::min(n, std::max(2 * s.rank, s.rank + 20));
  k.which = linalg::Which::largest_algebraic, k.seed = s.seed;
  const linalg::Eigensolution e = linalg::lanczos(*op, k);
  report.lanczos_iterations = e.iterations, report.lanczos_converged = e.converged;
  // Rows √λᵢ vᵢ, so UᵀU = Σ λᵢ vᵢvᵢᵀ; the curvature is positive semi-definite, and an eigenvalue
  // that rounding made ≤ 0 carries no curvature to keep.
  std::vector<double> U;
  index_t kept = 0;
  for (std::size_t i = 0; i < e.values.size(); ++i) {
    if (!(e.values[i] > 0)) continue;
    const double r = std::sqrt(e.values[i]);
    for (double x : e.vectors[i]) U.push_back(r * x);
    report.smallest_kept_eigenvalue = e.values[i], ++kept;
  }
  CURV_CHECK(kept > 0, "laplace: expected positive eigenvalues of the ", s.curvature,
             " for --structure lowrank, found none among ", e.values.size());
  return std::make_unique<LowRankOperator>(std::move(U), kept, n, 1.0, std::vector<double>{},
                                           "lowrank-" + s.curvature);
}

}  // namespace

void LaplaceSpec::validate() const {
  check_one_of(structure, {"kron", "diag", "lowrank", "full"}, "laplace", "a structure");
  check_one_of(curvature, {"ggn", "ef", "fisher"}, "laplace", "a curvature");
  check_one_of(prior, {"scalar", "layer"}, "laplace", "a prior");
  check_one_of(evidence, {"naive", "linearized"}, "laplace", "an evidence");
  check_one_of(linearized_model, {"affine", "jacobian"}, "laplace", "a linearized model");
  CURV_CHECK(std::isfinite(prior_precision) && prior_precision >= 0,
             "laplace: expected a prior precision > 0 (or 0 to fit it), found ", prior_precision);
  CURV_CHECK(prior_start > 0, "laplace: expected a prior start > 0, found ", prior_start);
  CURV_CHECK(std::isfinite(noise) && noise >= 0,
             "laplace: expected a noise σ > 0 (or 0 to fit it), found ", noise);
  CURV_CHECK(weights != "subnet" || subnet_size >= 1, "laplace: expected a subnetwork size >= 1 ",
             "for weights 'subnet', found ", subnet_size);
  CURV_CHECK(weights != "subnet" || structure != "kron", "laplace: a subnetwork holds single ",
             "weights, which Kronecker blocks of whole layers cannot: expected a full, diag or ",
             "lowrank structure, found kron");
  CURV_CHECK(rank >= 1 && mc_samples >= 1 && batch >= 1,
             "laplace: expected a rank, Monte-Carlo samples and batch >= 1, found ", rank, ", ",
             mc_samples, ", ", batch);
}

template <class T>
std::unique_ptr<Posterior> fit_posterior(const Model<T>& model, const Split<T>& split,
                                         const std::vector<index_t>& examples,
                                         const LaplaceSpec& spec, FitReport* report) {
  spec.validate();
  const bool regression = model.loss() == "mse";
  CURV_CHECK(regression || model.loss() == "cross_entropy", "laplace: expected a model trained ",
             "with cross_entropy (classification) or mse (regression), found ", model.loss());
  if (regression) {
    CURV_CHECK(spec.curvature != "ef", "laplace: a Gaussian likelihood scales the curvature by ",
               "1/σ², which the empirical Fisher (1/σ⁴) does not follow: expected --curvature ",
               "ggn or fisher for an mse model, found ef");
    CURV_CHECK(spec.evidence == "naive", "laplace: the linearized evidence is for classifiers: ",
               "expected the naive evidence for an mse model, found ", spec.evidence);
    CURV_CHECK(spec.noise > 0 || spec.prior_precision == 0, "laplace: σ is fitted together with ",
               "the prior: expected a given noise, or the prior fitted too, found a given prior ",
               "precision ", spec.prior_precision, " with the noise to fit");
  } else {
    CURV_CHECK(spec.noise == 0, "laplace: a noise σ is for regression (mse), found one given ",
               "for a ", model.loss(), " model");
  }
  FitReport local;
  FitReport& r = report ? *report : local;
  r.weights = spec.weights == "subnet"
                  ? ParamSubset::entries(select_subnetwork(model, split, examples, spec.subnet_size,
                                                           spec.subnet_by, spec),
                                         model.params().info())
                        .spec()
                  : spec.weights;
  const ParamSubset subset = ParamSubset::parse(r.weights, model.params().info());
  CurvatureData<T> data(model, split, examples, spec.batch);
  r.n = double(data.examples());
  auto C = curvature_of(data, spec, r);
  // log p(D|θ*) = −N·L(θ*), on the same examples as C.
  const double summed_loss = r.n * data.loss();
  std::vector<double> theta(static_cast<std::size_t>(subset.size())),
      all(model.params().data(), model.params().data() + model.params().size());
  subset.gather(all.data(), theta.data());
  auto post = std::make_unique<Posterior>(std::move(C), r.n, std::move(theta), summed_loss,
                                          prior_groups(subset, spec.prior));
  const std::size_t G = post->groups().size();
  if (regression)
    post->set_noise(spec.noise > 0 ? spec.noise * spec.noise
                                   : residual_noise(summed_loss, r.n, model.outputs()),
                    model.outputs());
  // Weight decay wd on the mean loss implies δ = N·wd, and δ = N·wd/σ² under noise σ² (the MSE
  // is the Gaussian NLL at σ = 1): the fit starts there.
  const double start = spec.prior_start / (regression ? post->noise() : 1.0);
  post->set_prior(std::vector<double>(G, spec.prior_precision > 0 ? spec.prior_precision : start));
  const double at_start = post->log_marglik();
  CURV_CHECK(std::isfinite(at_start), "laplace: expected a finite log marginal likelihood at the ",
             "weights, found ", at_start, ": the training loss or the ", spec.curvature,
             " is not finite there");
  if (spec.prior_precision == 0)
    r.prior_steps = post->fit_prior(100, 1e-6, {}, regression && spec.noise == 0);
  if (spec.evidence == "linearized") {
    r.naive_log_marglik = post->log_marglik(), r.naive_prior = post->prior();
    LinearizedOptions o;
    o.batch = spec.batch;
    o.fit_prior = spec.prior_precision == 0;  // δ given: θ̂ for it, δ kept
    o.offset = spec.linearized_model == "affine";
    r.linearized = fit_linearized_evidence(*post, model, split, examples, r.weights, o);
  }
  if (spec.prior_precision == 0) {  // how stationary the fitted prior is, in the evidence used
    const auto grad = post->log_marglik_gradient();
    r.prior_gradient = 0;
    for (std::size_t g = 0; g < G; ++g)
      r.prior_gradient =
          std::max(r.prior_gradient, std::abs(grad[g]) / double(post->groups()[g].size));
    if (regression && spec.noise == 0)
      r.prior_gradient = std::max(r.prior_gradient, std::abs(post->log_marglik_noise_gradient()) /
                                                        (r.n * double(post->outputs())));
  }
  return post;
}

template std::unique_ptr<Posterior> fit_posterior(const Model<float>&, const Split<float>&,
                                                  const std::vector<index_t>&, const LaplaceSpec&,
                                                  FitReport*);
template std::unique_ptr<Posterior> fit_posterior(const Model<double>&, const Split<double>&,
                                                  const std::vector<index_t>&, const LaplaceSpec&,
                                                  FitReport*);

}  // namespace curv::laplace
