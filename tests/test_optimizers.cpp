// Second-order optimizers (optim/second_order.hpp) against dense linear algebra on tiny float64
// models: one K-FAC, EK-FAC or FOOF step is the solve with its damped structured matrix
// materialized; with one example, exact output factors and eigen damping, K-FAC's step is the
// exact damped GGN block solve; M-FAC's is the dense damped-EF solve over its window; large
// damping turns every rule into a scaled gradient step; the KL clip sizes steps as documented;
// the quadratic-model K-FAC trains.
#include <doctest/doctest.h>

#include "curv/check/check.hpp"
#include "curv/curvature/kfac.hpp"
#include "curv/linalg/dense.hpp"
#include "curv/optim/registry.hpp"
#include "support/dense_curvature.hpp"
#include "support/optimizer_steps.hpp"

using namespace curv;
using namespace curv::testing;
using curv::check::relative_error;

namespace {

Matrix identity(index_t n, double scale = 1) {
  Matrix I(static_cast<std::size_t>(n * n), 0.0);
  for (index_t i = 0; i < n; ++i) I[i * n + i] = scale;
  return I;
}

// The KfacOperator with each block's factors replaced by f(block) = {A', G'}.
template <class F>
Matrix structured(KfacOperator& op, F f) {
  std::vector<KroneckerBlock> blocks;
  for (auto& b : op.blocks()) {
    auto [A, G] = f(b);
    blocks.emplace_back(b.layer(), A, G);
  }
  KfacOperator damped("damped", op.subset(), std::move(blocks));
  return materialize(damped);
}

// The damped matrix a variant's step solves with, materialized: factored π-damping
// (A + π√λ I) ⊗ (G + √λ/π I) for "kfac-factored", the EK-FAC matrix plus the same damping terms,
// (A + π√λ I) ⊗ (G + √λ/π I) − A ⊗ G, for "ekfac-factored", FOOF's (A + λI) ⊗ I for "foof", and
// the operator + λI otherwise (eigen-damped K-FAC and EK-FAC). A "-nopi" suffix: π = 1.
Matrix damped_matrix(KfacOperator& op, std::string variant, double lambda) {
  const bool with_pi = !variant.ends_with("-nopi");
  if (!with_pi) variant.resize(variant.size() - 5);
  auto factored = [&](KroneckerBlock& b) {
    const double r = std::sqrt(lambda), pi = with_pi ? b.pi() : 1.0;
    Matrix A = b.A(), G = b.G();
    for (index_t i = 0; i < b.layer().din(); ++i) A[i * b.layer().din() + i] += pi * r;
    for (index_t o = 0; o < b.layer().out; ++o) G[o * b.layer().out + o] += r / pi;
    return std::pair(A, G);
  };
  if (variant == "kfac-factored") return structured(op, factored);
  if (variant == "ekfac-factored") {
    Matrix M = materialize(op);
    const Matrix damped = structured(op, factored),
                 plain = structured(op, [](KroneckerBlock&b) { return std::pair(b.A(), b.G()); });
    for (std::size_t j = 0; j < M.size(); ++j) M[j] += damped[j] - plain[j];
    return M;
  }
  if (variant == "foof")
    return structured(op, [&](KroneckerBlock& b) {
      Matrix A = b.A();
      for (index_t i = 0; i < b.layer().din(); ++i) A[i * b.layer().din() + i] += lambda;
      return std::pair(A, identity(b.layer().out));
    });
  Matrix M = materialize(op);
  const index_t P = op.size();
  for (index_t i = 0; i < P; ++i) M[i * P + i] += lambda;
  return M;
}

// Index of Ŵ's entry (o, i) in the flat parameter vector (i = in is the bias).
index_t flat_index(const KfacLayer& L, index_t o, index_t i) {
  return i < L.in ? L.weight_offset + o * L.in + i : L.bias_offset + o;
}

Matrix negated_solve(const Matrix& M, index_t n, const Matrix& g) {
  Matrix x = linalg::solve_spd(M, n, g);
  for (auto& v : x) v = -v;
  return x;
}

}  // namespace

TEST_CASE("one K-FAC, EK-FAC or FOOF step is the solve with its damped structured matrix") {
  const double lambda = 0.05;
  // Empirical-Fisher factors come from the gradient's own sweep; exact ones from sweeps of their
  // own: both scales are checked on a batch of several examples.
  // The conv model's conv2d layers build their output-adjoint rows only for observers that read
  // them, which FOOF's statistics do not.
  for (const char* which : {"mlp", "conv"})
    for (FactorKind factors : {FactorKind::EF, FactorKind::GGN})
      for (const char* variant : {"kfac-factored", "kfac-factored-nopi", "kfac-eigen",
                                  "ekfac-factored", "ekfac-factored-nopi", "ekfac-eigen", "foof"}) {
        const std::string v = variant, kind = factor_kind_name(factors),
                          name = v.substr(0, v.find('-'));
        CAPTURE(which);
        CAPTURE(v);
        CAPTURE(kind);
        auto model = tiny(which);
        const index_t P = model->params().size();
        CurvatureData<double> data(*model, random_batches(*model, {6}, 21));
        KfacOptions ko;
        ko.factors = factors;
        auto op = name == "ekfac" ? make_ekfac(data, ParamSubset::all(model->params().info()), ko)
                                  : make_kfac(data, ParamSubset::all(model->params().info()), ko);
        const Matrix M = damped_matrix(*op, v, lambda);
        SecondOrderConfig cfg = plain(lambda, factors);
        cfg.kfac_damping = v.ends_with("eigen") ? KfacDamping::Eigen : KfacDamping::Factored;
        cfg.kfac_pi = !v.ends_with("-nopi");
        auto opt = make_kfac_optimizer<double>(name, 1.0, cfg);
        Matrix g;
        const Matrix step = one_step(*model, *opt, random_batches(*model, {6}, 21)[0], &g);
        CHECK(relative_error(step, negated_solve(M, P, g)) <= 1e-10);
      }
}

TEST_CASE(
    "at a new basis EK-FAC's scaling carries the old matrix's diagonal over, averaged with the "
    "re-fit") {
  // Two steps with a basis each: on batch a, then (parameters restored) on batch b. The second
  // step's factors are keep·F_a + (1 − keep)·F_b with keep = min(1 − 1/2, decay); its scaling in
  // their eigenbasis is keep·(a's EK-FAC matrix seen there) + (1 − keep)·(b's empirical Fisher
  // seen there) when carried, and b's part alone when restarted.
  const double lambda = 0.05, decay = 0.8, keep = std::min(0.5, decay);  // keep 0.5: the warm start
  for (const bool carry : {true, false}) {
    CAPTURE(carry);
    auto model = tiny("mlp");
    const index_t P = model->params().size();
    const auto a = random_batches(*model, {6}, 31),
               b = random_batches(*model, {5}, 32);  // the same again below
    const auto all = ParamSubset::all(model->params().info());
    KfacOptions ko;
    ko.factors = FactorKind::EF;
    CurvatureData<double> data_a(*model, random_batches(*model, {6}, 31)),
        data_b(*model, random_batches(*model, {5}, 32));
    auto ekfac_a = make_ekfac(data_a, all, ko);
    auto kfac_b = make_kfac(data_b, all, ko);
    const Dense db = dense_of(*model, b[0], false);

    SecondOrderConfig cfg = plain(lambda, FactorKind::EF);
    cfg.kfac_damping = KfacDamping::Eigen, cfg.inverse_every = 1, cfg.decay = decay,
    cfg.carry_scaling = carry;
    auto opt = make_kfac_optimizer<double>("ekfac", 1.0, cfg);
    const Matrix theta(model->params().data(), model->params().data() + P);
    one_step(*model, *opt, a[0]);
    std::copy(theta.begin(), theta.end(), model->params().data());
    Matrix g;
    const Matrix step = one_step(*model, *opt, b[0], &g);

    Matrix expected(static_cast<std::size_t>(P), 0.0);
    for (std::size_t l = 0; l < ekfac_a->blocks().size(); ++l) {
      KroneckerBlock& old = ekfac_a->blocks()[l];
      const KfacLayer& L = old.layer();
      const index_t din = L.din(), O = L.out;
      Matrix A = old.A(), G = old.G();
      const Matrix &Ab = kfac_b->blocks()[l].A(), &Gb = kfac_b->blocks()[l].G();
      for (std::size_t j = 0; j < A.size(); ++j) A[j] = keep * A[j] + (1 - keep) * Ab[j];
      for (std::size_t j = 0; j < G.size(); ++j) G[j] = keep * G[j] + (1 - keep) * Gb[j];
      KroneckerBlock fresh(L, A, G);
      const Matrix &QA = fresh.eigenvectors_A(), &QG = fresh.eigenvectors_G();
      const Matrix past = old.diagonal_in(fresh);
      Matrix S(static_cast<std::size_t>(O * din)), gl(S.size()), d(S.size());
      for (index_t o = 0; o < O; ++o)
        for (index_t i = 0; i < din; ++i) {
          double ef = 0;  // (1/N) Σₙ (∇ℓₙᵀ v)² for v = q_G,o ⊗ q_A,i
          for (index_t n = 0; n < db.N; ++n) {
            double gv = 0;
            for (index_t p = 0; p < O; ++p)
              for (index_t q = 0; q < din; ++q)
                gv += db.grads[n * P + flat_index(L, p, q)] * QG[p * O + o] * QA[q * din + i];
            ef += gv * gv / double(db.N);
          }
          S[o * din + i] = carry ? keep * past[o * din + i] + (1 - keep) * ef : ef;
          gl[o * din + i] = g[flat_index(L, o, i)];
        }
      fresh.set_refit(S);
      fresh.inverse_mv(gl.data(), lambda, d.data());
      for (index_t o = 0; o < O; ++o)
        for (index_t i = 0; i < din; ++i) expected[flat_index(L, o, i)] = -d[o * din + i];
    }
    CHECK(relative_error(step, expected) <= 1e-10);
  }
}

TEST_CASE(
    "statistics from the batch's first n examples are that sub-batch's factors, the gradient the "
    "batch's") {
  const double lambda = 0.05;
  for (const char* which : {"mlp", "conv"})
    for (FactorKind factors : {FactorKind::EF, FactorKind::GGN})
      for (const char* variant : {"kfac", "ekfac", "foof"}) {
        const std::string v = variant, kind = factor_kind_name(factors), net = which;
        CAPTURE(net);
        CAPTURE(kind);
        CAPTURE(v);
        auto model = tiny(which);
        const index_t P = model->params().size();
        auto parts = random_batches(*model, {2, 4}, 17);
        const Batch<double> batch = concatenate(parts);
        parts.pop_back();
        CurvatureData<double> first_two(*model, std::move(parts));
        KfacOptions ko;
        ko.factors = factors;
        const auto all = ParamSubset::all(model->params().info());
        auto op = v == "ekfac" ? make_ekfac(first_two, all, ko) : make_kfac(first_two, all, ko);
        const Matrix M = damped_matrix(*op, v, lambda);
        SecondOrderConfig cfg = plain(lambda, factors);
        cfg.kfac_damping = KfacDamping::Eigen;
        cfg.stats_examples = 2;
        auto opt = make_kfac_optimizer<double>(v, 1.0, cfg);
        Matrix g;
        const Matrix step = one_step(*model, *opt, batch, &g);
        CHECK(relative_error(step, negated_solve(M, P, g)) <= 1e-10);
      }
}

TEST_CASE(
    "with one example, exact output factors and eigen damping, K-FAC's step is the damped GGN "
    "block solve") {
  const double lambda = 0.02;
  auto model = tiny("mlp");
  const index_t P = model->params().size();
  auto parts = random_batches(*model, {1}, 4);
  const Dense d = dense_of(*model, concatenate(parts), false);
  Matrix blocks = layer_blocks_of(sandwich(d, d.Hout), *model);
  for (index_t i = 0; i < P; ++i) blocks[i * P + i] += lambda;
  Matrix g;
  for (auto damping : {KfacDamping::Eigen, KfacDamping::Factored}) {
    auto m = tiny("mlp");
    SecondOrderConfig cfg = plain(lambda, FactorKind::GGN);
    cfg.kfac_damping = damping;
    auto opt = make_kfac_optimizer<double>("kfac", 1.0, cfg);
    const Matrix step = one_step(*m, *opt, random_batches(*m, {1}, 4)[0], &g);
    const double err = relative_error(step, negated_solve(blocks, P, g));
    if (damping == KfacDamping::Eigen)
      CHECK(err <= 1e-10);
    else
      CHECK(err > 1e-3);  // factored Tikhonov damping is a different matrix, by design
  }
}

TEST_CASE("M-FAC's step is the dense damped empirical-Fisher solve over its window") {
  const double lambda = 0.1, lr = 0.5;
  const index_t window = 3;
  auto model = tiny("mlp");
  const index_t P = model->params().size();
  SecondOrderConfig cfg = plain(lambda, FactorKind::EF);
  cfg.window = window;
  auto opt = make_mfac_optimizer<double>(lr, cfg);
  std::vector<Matrix> grads;
  Matrix step;
  for (index_t k = 0; k < 5; ++k) {
    Matrix g;
    step = one_step(*model, *opt, random_batches(*model, {4}, 30 + std::uint64_t(k))[0], &g);
    grads.push_back(g);
  }
  // F = λI + (1/m) Σ gᵢgᵢᵀ over the last m gradients; the step is −lr F⁻¹ g.
  Matrix F = identity(P, lambda);
  for (std::size_t i = grads.size() - window; i < grads.size(); ++i)
    for (index_t r = 0; r < P; ++r)
      for (index_t c = 0; c < P; ++c) F[r * P + c] += grads[i][r] * grads[i][c] / double(window);
  Matrix expected = negated_solve(F, P, grads.back());
  for (auto& v : expected) v *= lr;
  CHECK(relative_error(step, expected) <= 1e-8);
}

TEST_CASE("as damping grows every update tends to a scaled gradient step") {
  const double lr = 0.3;
  for (const std::string name : {"kfac", "ekfac", "foof", "mfac"}) {
    for (auto damping : {KfacDamping::Factored, KfacDamping::Eigen}) {
      CAPTURE(name);
      // −(λ/lr)·step → ∇L as λ grows: the deviation shrinks like 1/λ, or like 1/√λ for factored
      // damping, which adds √λ to each factor. (Much larger λ would make θ_new − θ_old cancel.)
      std::vector<double> errors;
      for (double lambda : {1e4, 1e6}) {
        auto model = tiny("mlp");
        SecondOrderConfig cfg = plain(lambda, FactorKind::MC);
        cfg.kfac_damping = damping;
        auto opt = make_optimizer<double>(name, lr, 0.0, false, cfg);
        Matrix g;
        Matrix step = one_step(*model, *opt, random_batches(*model, {5}, 8)[0], &g);
        for (auto& v : step) v *= -lambda / lr;
        errors.push_back(relative_error(step, g));
      }
      const bool factored = (name == "kfac" || name == "ekfac") && damping == KfacDamping::Factored;
      CHECK(errors[1] <= errors[0] / (factored ? 8 : 80));
      CHECK(errors[1] <= (factored ? 1e-2 : 1e-4));
    }
  }
}

TEST_CASE(
    "the KL clip bounds the step at √(κ/|Δᵀ∇h|)·Δ, and a scheduled clip follows the schedule") {
  const double lambda = 0.05, lr0 = 0.5;
  auto step_of = [&](const std::string& rescale, double kappa, bool scheduled, double lr) {
    auto model = tiny("mlp");
    SecondOrderConfig cfg = plain(lambda, FactorKind::EF);
    cfg.rescale = rescale, cfg.kl_clip = kappa, cfg.scheduled_clip = scheduled;
    auto opt = make_kfac_optimizer<double>("kfac", lr0, cfg);
    opt->set_lr(lr);  // the schedule's rate at the first step
    Matrix g;
    Matrix d = one_step(*model, *opt, random_batches(*model, {6}, 4)[0], &g);
    return std::pair(d, g);
  };
  // The unclipped step at lr₀ is −lr₀Δ, so |Δᵀ∇h| = |stepᵀg| / lr₀.
  auto [unclipped, g] = step_of("none", 0, true, lr0);
  double vg = 0;
  for (std::size_t i = 0; i < g.size(); ++i) vg += unclipped[i] * g[i];
  vg = std::abs(vg) / lr0;
  REQUIRE(vg > 0);
  auto scaled = [&](double s) {
    Matrix m = unclipped;
    for (auto& v : m) v *= s;
    return m;
  };
  // κ = ¼·lr₀²·|Δᵀ∇h| makes ν = ½ at lr₀: the clipped step is half the unclipped one.
  const double kappa = 0.25 * lr0 * lr0 * vg;
  for (bool scheduled : {true, false}) {
    CAPTURE(scheduled);
    CHECK(relative_error(step_of("kl", kappa, scheduled, lr0).first, scaled(0.5)) <= 1e-12);
    // A loose clip leaves the step alone.
    CHECK(relative_error(step_of("kl", 100 * kappa, scheduled, lr0).first, unclipped) <= 1e-12);
  }
  // At half the rate the scheduled clip halves the clipped step; kfac-pytorch's rule sizes ν
  // with the current rate, finds the clip no longer binds, and gives the same step as before.
  CHECK(relative_error(step_of("kl", kappa, true, lr0 / 2).first, scaled(0.25)) <= 1e-12);
  CHECK(relative_error(step_of("kl", kappa, false, lr0 / 2).first, scaled(0.5)) <= 1e-12);
}

TEST_CASE(
    "K-FAC with the quadratic model and adapted damping trains, never below its damping floor") {
  auto model = tiny("mlp");
  auto batch = random_batches(*model, {32}, 2);
  SecondOrderConfig cfg;
  cfg.damping = 1.0, cfg.damping_min = 1e-3, cfg.adapt_every = 2, cfg.inverse_every = 3;
  auto opt = make_kfac_optimizer<double>("kfac", 1.0, cfg);
  auto loss = make_loss<double>(model->loss());
  Objective<double> obj(*model, *loss);
  const double first = obj.set_batch(batch[0].x.view(), batch[0].targets());
  double last = first;
  for (int k = 0; k < 60; ++k) {
    last = obj.set_batch(batch[0].x.view(), batch[0].targets());
    opt->attach(obj);
    obj.gradient(model->params().grad(), true);
    opt->step(model->params());
    CHECK(opt->damping() >= cfg.damping_min);
  }
  CHECK(last < 0.5 * first);
}

TEST_CASE(
    "the quadratic model on the batch's first n examples sizes the step with their Gauss-Newton "
    "matrix") {
  for (const char* which : {"mlp", "conv"}) {
    CAPTURE(which);
    auto model = tiny(which);
    const index_t P = model->params().size();
    const auto parts = random_batches(*model, {2, 4}, 8);
    const Batch<double> batch = concatenate(parts);
    const Matrix theta0(model->params().data(), model->params().data() + P);
    SecondOrderConfig cfg;
    cfg.damping = 0.1, cfg.factors = FactorKind::EF, cfg.adapt_damping = false;
    auto step_with = [&](index_t n) {
      std::copy(theta0.begin(), theta0.end(), model->params().data());
      cfg.qmodel_examples = n;
      auto opt = make_kfac_optimizer<double>("kfac", 1.0, cfg);
      return one_step(*model, *opt, batch);
    };
    const Matrix full = step_with(0), sub = step_with(2);
    // The first step is α·Δ with α = −∇hᵀΔ / (ΔᵀFΔ + λΔᵀΔ): only F differs, so the two steps
    // are parallel with ratio (δᵀF_batch δ + λδᵀδ) / (δᵀF_first-two δ + λδᵀδ).
    std::copy(theta0.begin(), theta0.end(), model->params().data());
    auto curvature = [&](const Batch<double>& b) {
      auto loss = make_loss<double>(model->loss());
      Objective<double> obj(*model, *loss);
      obj.set_batch(b.x.view(), b.targets());
      Matrix Fd(static_cast<std::size_t>(P));
      obj.ggn_vp(full.data(), Fd.data());
      double q = 0;
      for (index_t i = 0; i < P; ++i) q += full[i] * Fd[i] + cfg.damping * full[i] * full[i];
      return q;
    };
    const double ratio = curvature(batch) / curvature(parts[0]);
    CHECK(std::abs(ratio - 1) > 1e-3);  // the two examples' curvature differs from the batch's
    Matrix expected = full;
    for (auto& v : expected) v *= ratio;
    CHECK(relative_error(sub, expected) <= 1e-10);
  }
}

TEST_CASE("K-FAC covers linear layers of a transformer and leaves norms and embeddings to Adam") {
  auto model =
      make_model<double>("transformer", R"({"context":4,"d":8,"heads":2,"layers":1,"vocab":7})");
  Rng rng(1);
  model->init(rng);
  Batch<double> b;
  b.x = Tensor<double>(Shape{3, 4});
  for (index_t i = 0; i < 12; ++i)
    b.x[i] = double(rng.below(7)), b.labels.push_back(std::int64_t(rng.below(7)));
  for (const char* name : {"kfac", "ekfac", "foof"}) {
    CAPTURE(name);
    auto opt = make_kfac_optimizer<double>(name, 1.0, plain(0.1, FactorKind::MC));
    const Matrix step = one_step(*model, *opt, b);
    const auto& ln = model->params().info(model->params().find("blocks.0.ln1.weight"));
    // Adam's first step moves each parameter by the fallback rate (1e-3), whatever its gradient.
    CHECK(std::abs(step[std::size_t(ln.offset)]) == doctest::Approx(1e-3).epsilon(1e-4));
    for (double v : step) CHECK(std::isfinite(v));
  }
  // The fallback rate follows the schedule: at lr = lr₀/4 it is a quarter of fallback_lr.
  auto opt = make_kfac_optimizer<double>("kfac", 2.0, plain(0.1, FactorKind::MC));
  opt->set_lr(0.5);
  const Matrix step = one_step(*model, *opt, b);
  const auto& ln = model->params().info(model->params().find("blocks.0.ln1.weight"));
  CHECK(std::abs(step[std::size_t(ln.offset)]) == doctest::Approx(2.5e-4).epsilon(1e-4));
}

TEST_CASE("second-order optimizers refuse bad settings with one-line errors") {
  SecondOrderConfig c;
  c.damping = -1;
  CHECK_THROWS_WITH_AS(make_kfac_optimizer<float>("kfac", 1.0, c),
                       doctest::Contains("expected damping > 0"), Error);
  c = {};
  c.rescale = "magic";
  CHECK_THROWS_WITH_AS(make_kfac_optimizer<float>("kfac", 1.0, c),
                       doctest::Contains("rescale qmodel, kl or none"), Error);
  c = {};
  c.qmodel_examples = -5;
  CHECK_THROWS_WITH_AS(make_kfac_optimizer<float>("kfac", 1.0, c),
                       doctest::Contains("expected qmodel_examples >= 0"), Error);
  c.qmodel_examples = 0, c.stats_examples = -1;
  CHECK_THROWS_WITH_AS(make_kfac_optimizer<float>("kfac", 1.0, c),
                       doctest::Contains("expected stats_examples >= 0"), Error);
  CHECK_THROWS_WITH_AS(make_optimizer<float>("lbfgs", 1.0, 0, false, {}),
                       doctest::Contains("found 'lbfgs'"), Error);
}
