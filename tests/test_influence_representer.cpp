// Representer points (influence/representer.hpp) on a tiny classifier, checked through the
// model's own backward passes: with its last layer set to the fit W*, the L2-regularized mean
// loss has zero gradient over that layer (the representer theorem's condition), and the scores
// are (1/λ) times the dot products of the last layer's per-example gradients of the query's
// scalar and of the training loss (Grad-Dot on the refitted layer); self-influence is their
// diagonal; bad settings.
#include <doctest/doctest.h>

#include <cmath>

#include "curv/influence/representer.hpp"
#include "support/errors.hpp"
#include "support/toy_data.hpp"

using namespace curv;
using namespace curv::testing;

namespace {

// The model's last layer (weight (C, H), then bias (C)) set to W* (C, H + 1) = [W | b].
void set_last_layer(Model<double>& model, const influence::RepresenterFit& fit) {
  const auto& info = model.params().info();
  const ParamInfo& w = info[info.size() - 2];
  const ParamInfo& b = info[info.size() - 1];
  const index_t C = fit.classes, H = fit.features - 1;
  REQUIRE(w.shape.numel() == C * H);
  REQUIRE(b.shape.numel() == C);
  for (index_t c = 0; c < C; ++c) {
    for (index_t j = 0; j < H; ++j)
      model.params().data()[w.offset + c * H + j] = fit.weights[std::size_t(c * (H + 1) + j)];
    model.params().data()[b.offset + c] = fit.weights[std::size_t(c * (H + 1) + H)];
  }
}

// Per-example gradients of `m` over the last layer, (n, d).
std::vector<double> last_layer_gradients(const Model<double>& model, const Split<double>& split,
                                         const std::vector<index_t>& list, const char* m) {
  GradientOptions g;
  g.measurement = Measurement::parse(m), g.subset = "last", g.batch = 5;
  GradientStream<double> stream(model, split, list, g);
  std::vector<double> rows;
  stream.run([&](const GradientBlock<double>& b) {
    rows.insert(rows.end(), b.data, b.data + b.rows * b.columns);
  });
  return rows;
}

}  // namespace

TEST_CASE("representer scores are Grad-Dot over the last layer refitted to ∇F = 0, over λ") {
  ToyClassifier toy;
  influence::RepresenterOptions o;
  o.lambda = 0.05, o.batch = 7;
  for (const char* measurement : {"loss", "margin"}) {
    CAPTURE(measurement);
    o.query = Measurement::parse(measurement);
    influence::RepresenterFit fit;
    const auto s = influence::representer_scores(*toy.model, toy.train, toy.fit, toy.test,
                                                 toy.points, o, &fit);
    CHECK(fit.gradient_norm <= 1e-10);
    CHECK(fit.steps >= 2);
    auto refit = make_mlp<double>({16, 6, 3}, "tanh");
    std::copy(toy.model->params().data(), toy.model->params().data() + toy.model->params().size(),
              refit->params().data());
    set_last_layer(*refit, fit);
    const index_t N = index_t(toy.fit.size()), Q = index_t(toy.points.size());
    const std::vector<double> G = last_layer_gradients(*refit, toy.train, toy.fit, "loss");
    const std::vector<double> Gq = last_layer_gradients(*refit, toy.test, toy.points, measurement);
    const index_t d = index_t(G.size()) / N;
    REQUIRE(d == 3 * 7);
    // ∇F(W*) = (1/N) Σ ∇ℓₙ + λ W* = 0 over the last layer (flat order: weight, then bias).
    const auto& info = refit->params().info();
    const index_t w0 = info[info.size() - 2].offset;
    for (index_t j = 0; j < d; ++j) {
      double mean = 0;
      for (index_t n = 0; n < N; ++n) mean += G[std::size_t(n * d + j)] / double(N);
      CHECK(std::abs(mean + o.lambda * refit->params().data()[w0 + j]) <= 1e-10);
    }
    double big = 0;
    for (index_t q = 0; q < Q; ++q)
      for (index_t n = 0; n < N; ++n) {
        double dot = 0;
        for (index_t j = 0; j < d; ++j)
          dot += Gq[std::size_t(q * d + j)] * G[std::size_t(n * d + j)];
        big = std::max(big, std::abs(dot / o.lambda));
        CHECK(std::abs(s[std::size_t(q * N + n)] - dot / o.lambda) <=
              1e-10 * (1 + std::abs(dot / o.lambda)));
      }
    CHECK(big > 0);
    if (std::string(measurement) == "loss") {
      const auto self = influence::representer_self_scores(*toy.model, toy.train, toy.fit, o);
      for (index_t n = 0; n < N; ++n) {
        double sq = 0;
        for (index_t j = 0; j < d; ++j) sq += G[std::size_t(n * d + j)] * G[std::size_t(n * d + j)];
        CHECK(self[std::size_t(n)] == doctest::Approx(sq / o.lambda).epsilon(1e-10));
      }
    }
  }
}

TEST_CASE("representer's bad settings are one-line errors naming what was expected") {
  ToyClassifier toy;
  influence::RepresenterOptions o;
  CHECK(error_of([&] {
          influence::representer_scores(*toy.model, toy.train, toy.fit, toy.test, toy.points, o);
        }) ==
        "representer: expected the last-layer fit's λ > 0 (weight decay + --damping), "
        "found 0");
  o.lambda = 0.1, o.query = Measurement::parse("margin");
  CHECK(error_of([&] { influence::representer_self_scores(*toy.model, toy.train, toy.fit, o); }) ==
        "representer: self-influence scores the training loss on both sides: expected the "
        "loss, found margin");
  o.query = Measurement::parse("logit:0");
  CHECK(error_of([&] {
          influence::representer_scores(*toy.model, toy.train, toy.fit, toy.test, toy.points, o);
        }) == "representer: expected the loss or the margin as the queries' scalar, found logit:0");
  o.query = Measurement::parse("loss"), o.max_steps = 1;
  CHECK(error_of([&] {
          influence::representer_scores(*toy.model, toy.train, toy.fit, toy.test, toy.points, o);
        }).find("representer: the last-layer fit stopped at") == 0);
}
