// How the K-FAC family sizes its steps, across steps: SGD momentum carries over (two nearly
// identical steps: the second is 1 + μ times the first), and the quadratic model's step
// δ = αΔ + μδ_prev is the minimizer of ½δᵀ(F + (λ+η)I)δ + ∇hᵀδ over span{Δ, δ_prev} with F the
// batch's exact Gauss-Newton matrix, checked by a dense 2×2 solve at every step.
#include <doctest/doctest.h>

#include "curv/check/check.hpp"
#include "curv/curvature/model_operators.hpp"
#include "support/optimizer_steps.hpp"

using namespace curv;
using namespace curv::testing;
using curv::check::relative_error;

TEST_CASE("momentum carries across steps: on one batch with a tiny rate the second step is 1.9×") {
  for (const std::string variant : {"kfac", "ekfac", "foof"}) {
    for (const std::string rescale : {"none", "kl"}) {
      CAPTURE(variant);
      CAPTURE(rescale);
      auto model = tiny("mlp");
      SecondOrderConfig cfg = plain(0.1, FactorKind::EF);
      cfg.rescale = rescale, cfg.momentum = 0.9;
      // θ moves by ~1e-7 per step, so the second step's gradient and factors are the first's to
      // about that relative size, and only momentum tells the steps apart.
      auto opt = make_kfac_optimizer<double>(variant, 1e-7, cfg);
      const auto batch = random_batches(*model, {6}, 3);
      const Matrix first = one_step(*model, *opt, batch[0]);
      const Matrix second = one_step(*model, *opt, batch[0]);
      Matrix expected(first);
      for (double& x : expected) x *= 1.9;
      CHECK(relative_error(second, expected) <= 1e-5);
    }
  }
}

TEST_CASE("the quadratic model's α and μ solve the dense 2×2 model at every step") {
  for (const std::string variant : {"kfac", "ekfac"}) {
    CAPTURE(variant);
    auto model = tiny("mlp");
    const index_t P = model->params().size();
    SecondOrderConfig cfg = plain(0.05, FactorKind::GGN);
    cfg.rescale = "qmodel", cfg.weight_decay = 0.01, cfg.inverse_every = 2;
    const double shift = cfg.damping + cfg.weight_decay;
    auto opt = make_kfac_optimizer<double>(variant, 1.0, cfg);
    Matrix previous;  // δ of the step before
    for (std::uint64_t s = 0; s < 4; ++s) {
      CAPTURE(s);
      // F and ∇h at the parameters the step starts from.
      CurvatureData<double> data(*model, random_batches(*model, {5}, 70 + s));
      ModelOperator<double> ggn(data, ModelCurvature::GGN,
                                ParamSubset::all(model->params().info()));
      const Matrix F = materialize(ggn);
      const Matrix theta(model->params().data(), model->params().data() + P);
      Matrix g;
      const Matrix delta = one_step(*model, *opt, random_batches(*model, {5}, 70 + s)[0], &g);
      for (index_t i = 0; i < P; ++i) g[i] += cfg.weight_decay * theta[i];  // ∇h
      if (previous.empty()) {
        previous = delta;
        continue;
      }
      // Model m(a, b) = ½ dᵀ(F + sI)d + ∇hᵀd at d = a·δ + b·δ_prev. δ is the optimum in its span
      // exactly when (a, b) = (1, 0) solves the 2×2 normal equations.
      auto quad = [&](const Matrix& x, const Matrix& y) {
        double q = 0;
        for (index_t i = 0; i < P; ++i) {
          double Fy = shift * y[i];
          for (index_t j = 0; j < P; ++j) Fy += F[i * P + j] * y[j];
          q += x[i] * Fy;
        }
        return q;
      };
      auto dot_g = [&](const Matrix& x) {
        double d = 0;
        for (index_t i = 0; i < P; ++i) d += g[i] * x[i];
        return d;
      };
      const double a11 = quad(delta, delta), a12 = quad(delta, previous),
                   a22 = quad(previous, previous), b1 = dot_g(delta), b2 = dot_g(previous);
      const double det = a11 * a22 - a12 * a12;
      const double a = (-b1 * a22 + b2 * a12) / det, b = (-b2 * a11 + b1 * a12) / det;
      CHECK(a == doctest::Approx(1.0).epsilon(1e-8));
      CHECK(std::abs(b) <= 1e-8 * std::abs(a));
      // The momentum term is in use: δ is not a multiple of the preconditioned gradient alone,
      // so a rule that dropped μ would give a different δ (checked by its cosine with δ_prev).
      CHECK(std::abs(a12) > 1e-6 * std::sqrt(a11 * a22));
      previous = delta;
    }
  }
}
