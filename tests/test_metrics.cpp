// Calibration and detection metrics against cases computed by hand (docs of the conventions in
// include/curv/metrics/metrics.hpp), including a confidence of exactly 1.0 and tied scores.
#include <doctest/doctest.h>

#include <cmath>

#include "curv/metrics/metrics.hpp"
#include "support/errors.hpp"

using namespace curv;
using namespace curv::metrics;
using curv::testing::error_of;

TEST_CASE("calibration of four predictions, by hand, with a confidence of exactly 1.0") {
  // Two bins, (0, ½] and (½, 1]. Confidences 1.0 (right), 0.6 (wrong), 0.7 (right), 0.5 (a tie:
  // the first class, right). Bin 1 holds 1.0, 0.6 and 0.7: mean 0.7667, accuracy 2/3, gap 0.1;
  // bin 0 holds 0.5: accuracy 1, gap 0.5. ECE = ¼·0.5 + ¾·0.1 = 0.2; MCE = 0.5.
  const std::vector<double> probs = {1.0, 0.0, 0.6, 0.4, 0.3, 0.7, 0.5, 0.5};
  const std::vector<std::int64_t> labels = {0, 1, 1, 0};
  const Calibration c = calibration(probs, 2, labels, 2);
  CHECK(c.accuracy == doctest::Approx(0.75).epsilon(1e-15));
  CHECK(c.ece == doctest::Approx(0.2).epsilon(1e-14));
  CHECK(c.mce == doctest::Approx(0.5).epsilon(1e-14));
  CHECK(c.nll ==
        doctest::Approx(-(std::log(1.0) + std::log(0.4) + std::log(0.7) + std::log(0.5)) / 4)
            .epsilon(1e-14));
  CHECK(c.brier == doctest::Approx((0 + 0.72 + 0.18 + 0.5) / 4).epsilon(1e-14));
  CHECK(c.mean_confidence == doctest::Approx(2.8 / 4).epsilon(1e-14));
  REQUIRE(c.bins.size() == 2);
  CHECK(c.bins[0].count == 1);
  CHECK(c.bins[1].count == 3);  // 1.0 is counted, not dropped
  CHECK(c.bins[1].accuracy == doctest::Approx(2.0 / 3).epsilon(1e-14));
  CHECK(c.bins[1].confidence == doctest::Approx(2.3 / 3).epsilon(1e-14));

  // Fifteen bins: the edges. 0 → the first bin, 1.0 → the last, just above 1/15 → the second.
  CHECK(confidence_bin(0.0, 15) == 0);
  CHECK(confidence_bin(1.0 / 15, 15) == 0);
  CHECK(confidence_bin(1.0 / 15 + 1e-9, 15) == 1);
  CHECK(confidence_bin(1.0, 15) == 14);
  // A perfectly confident, always right predictor has ECE 0 in the default 15 bins.
  CHECK(calibration({0.0, 1.0, 1.0, 0.0}, 2, {1, 0}).ece == 0.0);
}

TEST_CASE("calibration refuses labels out of range and sizes that disagree") {
  CHECK(error_of([] {
          calibration({0.5, 0.5}, 2, {2});
        }) == "calibration: expected labels in [0, 2), found 2 at 0");
  CHECK(error_of([] {
          calibration({0.5, 0.5, 1.0}, 2, {0});
        }) == "calibration: expected 1 × 2 probabilities (one row per label), found 3");
}

TEST_CASE("detection: AUROC with ties, average precision and FPR at 95 % TPR, by hand") {
  const std::vector<double> in = {0.1, 0.4, 0.35, 0.8}, out = {0.9, 0.4, 0.7};
  // (OOD, in) pairs won: 0.9 beats all 4; 0.4 beats 0.1 and 0.35 and ties 0.4 (½); 0.7 beats 3.
  double pairs = 0;
  for (double o : out)
    for (double i : in) pairs += o > i ? 1 : o == i ? 0.5 : 0;
  const Detection d = detection(in, out);
  CHECK(pairs == 9.5);
  CHECK(d.auroc == doctest::Approx(9.5 / 12).epsilon(1e-15));
  // Thresholds from the top: 0.9 (recall ⅓, precision 1), 0.7 (⅔, ⅔), 0.4 (1, ⅗).
  CHECK(d.aupr == doctest::Approx((1.0 + 2.0 / 3 + 3.0 / 5) / 3).epsilon(1e-14));
  // 95 % of the OOD inputs are first flagged at 0.4, where 2 of 4 in-distribution ones are too.
  CHECK(d.fpr95 == 0.5);
  // Separated scores: a perfect detector; reversed: the worst.
  CHECK(detection({0.1, 0.2}, {0.3, 0.4}).auroc == 1.0);
  CHECK(detection({0.3, 0.4}, {0.1, 0.2}).auroc == 0.0);
  CHECK(detection({0.3, 0.4}, {0.1, 0.2}).fpr95 == 1.0);
}

TEST_CASE("uncertainty scores of probability rows") {
  const std::vector<double> p = {0.5, 0.5, 1.0, 0.0};
  CHECK(one_minus_max_probability(p, 2) == std::vector<double>{0.5, 0.0});
  const auto h = entropy(p, 2);
  CHECK(h[0] == doctest::Approx(std::log(2.0)).epsilon(1e-15));
  CHECK(h[1] == 0.0);
}

TEST_CASE("Gaussian regression scores by hand: one output, and two correlated outputs") {
  // One output: N(0, 1) at y = 1 and N(1, 4) at y = 1.
  const double log2pi = std::log(2 * M_PI);
  Regression r = gaussian_regression({0, 1}, {1, 4}, 1, {1, 1});
  CHECK(r.nll ==
        doctest::Approx((0.5 * (log2pi + 1) + 0.5 * (log2pi + std::log(4.0))) / 2).epsilon(1e-14));
  CHECK(r.rmse == doctest::Approx(std::sqrt(0.5)).epsilon(1e-14));
  CHECK(r.mean_std == doctest::Approx(1.5).epsilon(1e-14));
  // Two outputs, Σ = [[2, 1], [1, 2]], error (1, 0): Σ⁻¹ = [[2, −1], [−1, 2]]/3, so the
  // Mahalanobis term is 2/3 and log det Σ = log 3.
  r = gaussian_regression({0, 0}, {2, 1, 1, 2}, 2, {1, 0});
  CHECK(r.nll == doctest::Approx(0.5 * (2 * log2pi + std::log(3.0) + 2.0 / 3)).epsilon(1e-14));
  CHECK(r.rmse == doctest::Approx(std::sqrt(0.5)).epsilon(1e-14));
  CHECK(r.mean_std == doctest::Approx(std::sqrt(2.0)).epsilon(1e-14));
  CHECK(error_of([] {
          gaussian_regression({0, 0}, {1, 2, 2, 1}, 2, {1, 0});
        }).find("positive definite") != std::string::npos);
  CHECK(error_of([] {
          gaussian_regression({0, 0}, {1, 1}, 1, {1});
        }).find("expected means") != std::string::npos);
}

TEST_CASE("pearson and spearman against hand-computed values; ties share their mean rank") {
  // x = 1..4, y = 2, 4, 5, 9: x̄ = 2.5, ȳ = 5; Σ dx·dy = 11, Σ dx² = 5, Σ dy² = 26.
  const std::vector<double> x{1, 2, 3, 4}, y{2, 4, 5, 9};
  CHECK(metrics::pearson(x, y) == doctest::Approx(11.0 / std::sqrt(5.0 * 26.0)).epsilon(1e-14));
  CHECK(metrics::spearman(x, y) == doctest::Approx(1.0).epsilon(1e-14));
  CHECK(metrics::spearman(x, {9, 5, 4, 2}) == doctest::Approx(-1.0).epsilon(1e-14));
  const std::vector<double> r = metrics::ranks({3, 1, 3, 2});
  CHECK(r == std::vector<double>{3.5, 1, 3.5, 2});
  // Ranks (1, 2, 3.5, 3.5) against (1, 2, 3, 4): Pearson of those.
  CHECK(metrics::spearman({1, 2, 5, 5}, {1, 2, 3, 4}) ==
        doctest::Approx(metrics::pearson({1, 2, 3.5, 3.5}, {1, 2, 3, 4})).epsilon(1e-14));
  CHECK(error_of([] {
          metrics::pearson({1, 1, 1}, {1, 2, 3});
        }) == "correlation: expected values that vary on both sides, found a constant one");
  CHECK(error_of([] {
          metrics::pearson({1}, {1, 2});
        }) == "correlation: expected two lists of one size, found 1 and 2");
}
