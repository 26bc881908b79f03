// The linearized Laplace evidence (laplace/evidence.hpp) against its definition on tiny float64
// models, with every Jacobian taken by central finite differences of the model's outputs (not by
// the JVPs and VJPs the implementation uses): the mode θ̂ is a stationary point of the linearized
// objective E, log Z_lin matches the dense formula with the GGN built from those Jacobians, the
// fitted prior is stationary in log δ with θ̂ re-solved for each δ (the envelope theorem the
// alternation relies on), and on a LayerNorm model θ̂ has no component along the scale-invariant
// groups' θ*.
#include <doctest/doctest.h>

#include <cmath>

#include "curv/curvature/model_operators.hpp"
#include "curv/laplace/evidence.hpp"
#include "curv/laplace/fit.hpp"
#include "curv/linalg/dense.hpp"
#include "curv/nn/objective.hpp"
#include "support/toy_data.hpp"

using namespace curv;
using namespace curv::testing;

namespace {

// Outputs (N, C) of the model at its weights for every fit example of the toy classifier.
std::vector<double> outputs(const Model<double>& m, const ToyClassifier& toy) {
  auto loss = make_loss<double>(m.loss());
  Objective<double> obj(m, *loss);
  Batch<double> b;
  toy.train.fill(toy.fit, nullptr, b);
  obj.record(b.x);
  const View<const double> f = obj.output();
  return {f.data, f.data + f.numel()};
}

// J:(N·C, P) by central differences of the outputs in every weight.
std::vector<double> jacobian(Model<double>& m, const ToyClassifier& toy) {
  const index_t P = m.params().size();
  const std::size_t rows = outputs(m, toy).size();
  std::vector<double> J(rows * std::size_t(P));
  const double h = 1e-5;
  for (index_t p = 0; p < P; ++p) {
    double& w = m.params().data()[p];
    const double w0 = w;
    w = w0 + h;
    const std::vector<double> up = outputs(m, toy);
    w = w0 - h;
    const std::vector<double> down = outputs(m, toy);
    w = w0;
    for (std::size_t r = 0; r < rows; ++r)
      J[r * std::size_t(P) + std::size_t(p)] = (up[r] - down[r]) / (2 * h);
  }
  return J;
}

struct Dense {
  index_t N = 0, C = 0, P = 0;
  std::vector<double> f, J;  // outputs at θ* and their Jacobian
  std::vector<std::int64_t> labels;
};

Dense dense(Model<double>& m, const ToyClassifier& toy) {
  Dense d;
  d.f = outputs(m, toy), d.J = jacobian(m, toy);
  d.N = index_t(toy.fit.size()), d.C = m.outputs(), d.P = m.params().size();
  for (index_t i : toy.fit) d.labels.push_back(toy.train.class_of(i));
  return d;
}

// Softmax cross-entropy at logits z: ℓ, ∇ℓ (p − y) and ∇²ℓ (diag p − p pᵀ).
double cross_entropy(const double* z, index_t C, std::int64_t y, double* grad, double* hess) {
  double top = z[0], sum = 0;
  for (index_t c = 1; c < C; ++c) top = std::max(top, z[c]);
  for (index_t c = 0; c < C; ++c) sum += std::exp(z[c] - top);
  std::vector<double> p(std::size_t(C), 0.0);
  for (index_t c = 0; c < C; ++c) p[std::size_t(c)] = std::exp(z[c] - top) / sum;
  for (index_t c = 0; c < C; ++c) {
    grad[c] = p[std::size_t(c)] - (c == y ? 1 : 0);
    for (index_t k = 0; k < C; ++k)
      hess[c * C + k] = (c == k ? p[std::size_t(c)] : 0) - p[std::size_t(c)] * p[std::size_t(k)];
  }
  return top + std::log(sum) - z[y];
}

// The linearized outputs f + J(θ − θ*), with E's gradient at θ and Σℓ there; `hessian`, if given,
// gets Σ Jₙᵀ ∇²ℓ(fₙ) Jₙ at θ* (the summed GGN, N·C).
double linearized(const Dense& d, const std::vector<double>& step, std::vector<double>& grad,
                  std::vector<double>* hessian = nullptr) {
  const index_t C = d.C, P = d.P;
  grad.assign(std::size_t(P), 0.0);
  if (hessian) hessian->assign(std::size_t(P * P), 0.0);
  double loss = 0;
  std::vector<double> z(static_cast<std::size_t>(C)), g(z.size()), H(z.size() * z.size());
  for (index_t n = 0; n < d.N; ++n) {
    const double* Jn = &d.J[std::size_t(n * C * P)];
    for (index_t c = 0; c < C; ++c) {
      z[std::size_t(c)] = d.f[std::size_t(n * C + c)];
      for (index_t p = 0; p < P; ++p) z[std::size_t(c)] += Jn[c * P + p] * step[std::size_t(p)];
    }
    loss += cross_entropy(z.data(), C, d.labels[std::size_t(n)], g.data(), H.data());
    for (index_t c = 0; c < C; ++c)
      for (index_t p = 0; p < P; ++p) grad[std::size_t(p)] += Jn[c * P + p] * g[std::size_t(c)];
    if (!hessian) continue;
    cross_entropy(&d.f[std::size_t(n * C)], C, d.labels[std::size_t(n)], g.data(), H.data());
    for (index_t c = 0; c < C; ++c)
      for (index_t k = 0; k < C; ++k)
        for (index_t p = 0; p < P; ++p)
          for (index_t q = 0; q < P; ++q)
            (*hessian)[std::size_t(p * P + q)] +=
                Jn[c * P + p] * H[std::size_t(c * C + k)] * Jn[k * P + q];
  }
  return loss;
}

std::unique_ptr<laplace::Posterior> full_posterior(const Model<double>& m, const ToyClassifier& toy,
                                                   const std::string& prior) {
  laplace::LaplaceSpec spec;
  spec.weights = "all", spec.structure = "full", spec.prior = prior;
  spec.prior_precision = 0, spec.prior_start = 1;
  return laplace::fit_posterior(m, toy.train, toy.fit, spec);
}

// θ̂ to where E's rounding shows no decrease (the default stops at 1e-4 nats above E's minimum).
laplace::LinearizedOptions tight() {
  laplace::LinearizedOptions o;
  o.tolerance = 1e-13, o.cg_tolerance = 1e-10;
  return o;
}

double cosine(const std::vector<double>& a, const std::vector<double>& b, index_t begin,
              index_t size) {
  double ab = 0, aa = 0, bb = 0;
  for (index_t i = begin; i < begin + size; ++i)
    ab += a[std::size_t(i)] * b[std::size_t(i)], aa += a[std::size_t(i)] * a[std::size_t(i)],
        bb += b[std::size_t(i)] * b[std::size_t(i)];
  return ab / std::sqrt(aa * bb);
}

}  // namespace

TEST_CASE("linearized evidence: θ̂ is the linearized objective's mode and log Z_lin its formula") {
  for (const bool offset : {true, false}) {
    CAPTURE(offset);
    ToyClassifier toy;
    Dense d = dense(*toy.model, toy);
    auto post = full_posterior(*toy.model, toy, "layer");
    const double naive = post->log_marglik();
    laplace::LinearizedOptions o = tight();
    o.offset = offset;
    const laplace::LinearizedReport r =
        laplace::fit_linearized_evidence(*post, *toy.model, toy.train, toy.fit, "all", o);
    CHECK(r.converged);
    const std::vector<double>& theta = post->theta();
    const std::vector<double>& mode = post->mode();
    if (!offset) {  // the model J θ: outputs J θ* where the affine one has f(θ*)
      for (index_t row = 0; row < d.N * d.C; ++row) {
        double z = 0;
        for (index_t p = 0; p < d.P; ++p)
          z += d.J[std::size_t(row * d.P + p)] * theta[std::size_t(p)];
        d.f[std::size_t(row)] = z;
      }
    }
    std::vector<double> step(mode.size()), grad, summed_ggn;
    for (std::size_t i = 0; i < step.size(); ++i) step[i] = mode[i] - theta[i];
    const double loss = linearized(d, step, grad);
    CHECK(post->mode_loss() == doctest::Approx(loss).epsilon(1e-8));
    // ∇E(θ̂) = Σ Jᵀ∇ℓ(f_lin) + P₀θ̂ = 0, against the size of its two parts.
    std::vector<double> prior_entries(mode.size());
    for (std::size_t g = 0; g < post->groups().size(); ++g)
      for (index_t i = 0; i < post->groups()[g].size; ++i)
        prior_entries[std::size_t(post->groups()[g].begin + i)] = post->prior()[g];
    double residual = 0, scale = 0, quadratic = 0;
    for (std::size_t i = 0; i < grad.size(); ++i) {
      const double prior_part = prior_entries[i] * mode[i];
      residual += std::pow(grad[i] + prior_part, 2), scale += prior_part * prior_part;
      quadratic += prior_part * mode[i];
    }
    CHECK(std::sqrt(residual) <= 1e-6 * std::sqrt(scale));
    // log Z_lin = −Σℓ_lin(θ̂) − ½θ̂ᵀP₀θ̂ − ½ log det(N·C + P₀) + ½ log det P₀, C the GGN at θ*
    // (the trained network's outputs, for both models).
    std::vector<double> unused;
    linearized(dense(*toy.model, toy), step, unused, &summed_ggn);
    double logdet_prior = 0;
    for (double p : prior_entries) logdet_prior += std::log(p);
    for (std::size_t i = 0; i < mode.size(); ++i)
      summed_ggn[i * mode.size() + i] += prior_entries[i];
    const index_t P = index_t(mode.size());
    const double logdet = linalg::cholesky_logdet(linalg::cholesky(summed_ggn, P), P);
    const double expected = -loss - 0.5 * quadratic - 0.5 * logdet + 0.5 * logdet_prior;
    CHECK(post->log_marglik() == doctest::Approx(expected).epsilon(1e-7));
    // The untrained model's θ* is far from the linearized mode: the two evidences differ.
    if (offset) CHECK(post->log_marglik() > naive);
  }
}

TEST_CASE("linearized evidence: the fitted prior is stationary with θ̂ re-solved for each δ") {
  ToyClassifier toy;
  auto post = full_posterior(*toy.model, toy, "layer");
  laplace::fit_linearized_evidence(*post, *toy.model, toy.train, toy.fit, "all", tight());
  const std::vector<double> fitted = post->prior();
  laplace::LinearizedOptions once = tight();
  once.fit_prior = false;  // θ̂ for the posterior's prior, δ left alone
  auto at = [&](std::size_t g, double factor) {
    std::vector<double> delta = fitted;
    delta[g] *= factor;
    post->set_prior(delta);
    laplace::fit_linearized_evidence(*post, *toy.model, toy.train, toy.fit, "all", once);
    return post->log_marglik();
  };
  const double h = 1e-3;
  for (std::size_t g = 0; g < fitted.size(); ++g) {
    const double slope = (at(g, std::exp(h)) - at(g, std::exp(-h))) / (2 * h);
    CAPTURE(post->groups()[g].name);
    CHECK(std::abs(slope) <= 1e-3 * double(post->groups()[g].size));
  }
}

TEST_CASE("linearized evidence: θ̂ has no component along a LayerNorm-invariant group's θ*") {
  // In fc1 (weights and bias), followed by a LayerNorm, f(c·θ₁) = f(θ₁): J θ*₁ = 0, so the data
  // do not see θ̂₁'s component along θ*₁ and only the prior acts on it — it vanishes at the mode.
  // (Up to LayerNorm's ε in √(var + ε): fc1 is scaled by 100 so that ε is negligible against the
  // variance.) Without the norm, fc1 is not invariant and θ̂₁ keeps a component along θ*₁.
  for (const std::string norm : {"layer", "none"}) {
    CAPTURE(norm);
    ToyClassifier toy;
    toy.model = make_model<double>(
        "mlp", R"({"widths":[16,6,3],"activation":"tanh","norm":")" + norm + R"("})");
    Rng rng(4);
    toy.model->init(rng);
    for (const ParamInfo& p : toy.model->params().info())
      if (norm == "layer" && p.name.rfind("fc1.", 0) == 0)
        for (index_t i = 0; i < p.shape.numel(); ++i)
          toy.model->params().data()[p.offset + i] *= 100;
    auto post = full_posterior(*toy.model, toy, "layer");
    const laplace::LinearizedReport r =
        laplace::fit_linearized_evidence(*post, *toy.model, toy.train, toy.fit, "all", tight());
    CHECK(r.converged);
    const laplace::PriorGroup& fc1 = post->groups()[0];
    REQUIRE(fc1.name == "fc1");
    const double c = cosine(post->mode(), post->theta(), fc1.begin, fc1.size);
    if (norm == "layer")
      CHECK(std::abs(c) <= 1e-7);
    else
      CHECK(std::abs(c) > 1e-2);
  }
}
