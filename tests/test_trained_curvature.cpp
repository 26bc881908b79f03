// The curvature a second-order optimizer exports (Optimizer::curvature()) is the matrix it
// estimated: after one step with no averaging (decay 0), K-FAC's and EK-FAC's operators equal
// the ones built fresh on the same batch at the same parameters, FOOF's is A ⊗ I, and M-FAC's is
// (1/m) Σ g gᵀ over the gradients in its window.
#include <doctest/doctest.h>

#include "curv/check/check.hpp"
#include "curv/curvature/kfac.hpp"
#include "curv/linalg/operator.hpp"
#include "support/errors.hpp"
#include "support/optimizer_steps.hpp"

using namespace curv;
using namespace curv::testing;
using curv::check::relative_error;

TEST_CASE("kfac, ekfac and foof export the factors of their step") {
  for (const char* which : {"mlp", "conv"}) {
    for (FactorKind factors : {FactorKind::GGN, FactorKind::EF}) {
      for (const std::string variant : {"kfac", "ekfac", "foof"}) {
        CAPTURE(which);
        CAPTURE(variant);
        CAPTURE(factor_kind_name(factors));
        auto model = tiny(which);
        // The operator built fresh on the batch, at the parameters the step starts from.
        CurvatureData<double> data(*model, random_batches(*model, {6}, 5));
        KfacOptions ko;
        ko.factors = factors;
        const auto all = ParamSubset::all(model->params().info());
        auto fresh = variant == "ekfac" ? make_ekfac(data, all, ko) : make_kfac(data, all, ko);
        if (variant == "foof")
          for (auto& b : fresh->blocks()) {
            const index_t O = b.layer().out;
            std::vector<double> I(std::size_t(O * O), 0.0);
            for (index_t o = 0; o < O; ++o) I[std::size_t(o * O + o)] = 1;
            b = KroneckerBlock(b.layer(), b.A(), std::move(I));
          }
        SecondOrderConfig cfg = plain(0.1, factors);
        cfg.decay = 0;  // the step's own statistics, no average
        auto opt = make_kfac_optimizer<double>(variant, 1.0, cfg);
        CHECK(error_of([&] { opt->curvature(); }) ==
              variant + ": no curvature estimated yet (expected at least one step, found none)");
        one_step(*model, *opt, random_batches(*model, {6}, 5)[0]);
        const std::unique_ptr<LinearOperator> exported = opt->curvature();
        CHECK(exported->name() == variant);
        CHECK(exported->size() == model->params().size());  // both models: linear/conv2d only
        CHECK(relative_error(materialize(*exported), materialize(*fresh)) <= 1e-12);
      }
    }
  }
}

TEST_CASE("mfac exports (1/m) Σ g gᵀ over its window; first-order rules export nothing") {
  auto model = tiny("mlp");
  const index_t P = model->params().size();
  SecondOrderConfig cfg = plain(0.1, FactorKind::EF);
  cfg.window = 5, cfg.weight_decay = 0.01;
  auto opt = make_mfac_optimizer<double>(0.05, cfg);
  CHECK(error_of([&] { opt->curvature(); }) ==
        "mfac: no curvature estimated yet (expected at least one step, found none)");
  Matrix F(std::size_t(P * P), 0.0);
  for (std::uint64_t s = 0; s < 3; ++s) {
    Matrix g;
    const Matrix theta(model->params().data(), model->params().data() + P);
    one_step(*model, *opt, random_batches(*model, {4}, 40 + s)[0], &g);
    for (index_t i = 0; i < P; ++i) g[i] += cfg.weight_decay * theta[i];  // ∇h, as it pushes
    for (index_t i = 0; i < P; ++i)
      for (index_t j = 0; j < P; ++j) F[i * P + j] += g[i] * g[j] / double(cfg.window);
  }
  const auto exported = opt->curvature();
  CHECK(exported->name() == "mfac");
  CHECK(relative_error(materialize(*exported), F) <= 1e-12);

  auto sgd = make_sgd<double>(0.1);
  CHECK(error_of([&] { sgd->curvature(); }) ==
        "sgd: estimates no curvature to export (expected an optimizer among kfac, ekfac, foof "
        "and mfac)");
}
