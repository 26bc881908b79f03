// Metrics of probabilistic predictions, computed from predicted class probabilities alone, so
// that MAP, Laplace and ensemble predictives are scored by one code path:
//   accuracy, NLL, Brier, ECE and MCE                                   (calibration)
//   AUROC, AUPR and FPR at 95 % TPR of any out-of-distribution score    (detection)
//
// Conventions:
//   probs     (n, C) row-major, each row a distribution over the C classes
//   nll       −(1/n) Σᵢ log p_{i,yᵢ}, natural log; a zero probability counts as log of the smallest
//             positive double (a finite, very large loss rather than infinity)
//   brier     (1/n) Σᵢ Σ_c (p_{i,c} − [c = yᵢ])², summed over classes (0 … 2)
//   ece, mce  confidences maxᶜ p_{i,c} in B equal-width bins (0, 1/B], (1/B, 2/B], …,
//             ((B−1)/B, 1] — the first bin also takes 0, and the last includes a confidence of
//             exactly 1.0 (implementations that bin [lower, upper) drop it). ECE = Σ_b (n_b/n)
//             |acc_b − conf_b|; MCE = max over non-empty bins of |acc_b − conf_b|.
//   OOD       positives are the out-of-distribution inputs and larger scores mean "more OOD"
//             (e.g. 1 − max probability, entropy, a local-ensemble extrapolation score). AUROC is
//             the Mann–Whitney probability that an OOD input outscores an in-distribution one,
//             ties counting ½; AUPR the average precision with OOD positive; FPR95 the share of
//             in-distribution inputs at or above the smallest threshold that flags 95 % of OOD.
// Agreement of predicted and actual values (correlation.cpp), e.g. influence scores against
// retraining:
//   pearson   Σ (xᵢ − x̄)(yᵢ − ȳ) / √(Σ (xᵢ − x̄)² Σ (yᵢ − ȳ)²)
//   spearman  Pearson's r of the ranks, tied values sharing their mean rank
// Regression, from a Gaussian predictive N(μᵢ, Σᵢ) over D outputs per input (regression.cpp):
//   nll       (1/n) Σᵢ ½ [D log 2π + log det Σᵢ + (yᵢ − μᵢ)ᵀ Σᵢ⁻¹ (yᵢ − μᵢ)], nats per input
//   rmse      √((1/(n·D)) Σᵢ ‖yᵢ − μᵢ‖²)
//   mean_std  (1/n) Σᵢ √(tr Σᵢ / D), the predictive's typical standard deviation
#pragma once

#include <cstdint>
#include <vector>

#include "curv/core/shape.hpp"

namespace curv::metrics {

struct ReliabilityBin {
  double lower = 0, upper = 0;          // (lower, upper]
  index_t count = 0;                    // predictions whose confidence falls in the bin
  double confidence = 0, accuracy = 0;  // their means (0 when empty)
};

struct Calibration {
  double accuracy = 0, nll = 0, brier = 0, ece = 0, mce = 0;
  double mean_confidence = 0;
  std::vector<ReliabilityBin> bins;
};

// Throws curv::Error when a label is outside [0, C) or the sizes disagree.
Calibration calibration(const std::vector<double>& probs, index_t classes,
                        const std::vector<std::int64_t>& labels, index_t bins = 15);

// The bin of a confidence c ∈ [0, 1] among `bins` (see above).
index_t confidence_bin(double c, index_t bins);

struct Detection {
  double auroc = 0, aupr = 0, fpr95 = 0;
};

// in_scores: in-distribution inputs; out_scores: OOD inputs (the positives).
Detection detection(const std::vector<double>& in_scores, const std::vector<double>& out_scores);

struct Regression {
  double nll = 0, rmse = 0, mean_std = 0;
};

// mean (n, D), covariance (n, D, D) with every block positive definite, targets (n, D). Throws
// curv::Error when the sizes disagree or a block is not positive definite.
Regression gaussian_regression(const std::vector<double>& mean,
                               const std::vector<double>& covariance, index_t outputs,
                               const std::vector<double>& targets);

// Per-row scores of probabilities (n, C), larger for "less confident": 1 − max p, and the
// entropy −Σ p log p (nats).
std::vector<double> one_minus_max_probability(const std::vector<double>& probs, index_t classes);
std::vector<double> entropy(const std::vector<double>& probs, index_t classes);

// Throws curv::Error when the sizes differ, fewer than two pairs are given, or either side is
// constant (the coefficient is then undefined).
double pearson(const std::vector<double>& x, const std::vector<double>& y);
double spearman(const std::vector<double>& x, const std::vector<double>& y);
// 1-based ranks of x, ties given their mean rank.
std::vector<double> ranks(const std::vector<double>& x);

}  // namespace curv::metrics
