#include <algorithm>
#include <cmath>
#include <limits>

#include "curv/core/error.hpp"
#include "curv/metrics/metrics.hpp"

namespace curv::metrics {

index_t confidence_bin(double c, index_t bins) {
  // (b/B, (b+1)/B] is bin b: ⌈c·B⌉ − 1, with 0 in the first bin and 1.0 in the last.
  const auto b = index_t(std::ceil(c * double(bins))) - 1;
  return std::clamp<index_t>(b, 0, bins - 1);
}

Calibration calibration(const std::vector<double>& probs, index_t classes,
                        const std::vector<std::int64_t>& labels, index_t bins) {
  const auto n = index_t(labels.size());
  CURV_CHECK(classes >= 1 && bins >= 1, "calibration: expected classes and bins >= 1, found ",
             classes, " and ", bins);
  CURV_CHECK(index_t(probs.size()) == n * classes, "calibration: expected ", n, " × ", classes,
             " probabilities (one row per label), found ", probs.size());
  CURV_CHECK(n > 0, "calibration: expected at least one prediction, found none");
  Calibration c;
  c.bins.resize(std::size_t(bins));
  for (index_t b = 0; b < bins; ++b)
    c.bins[std::size_t(b)].lower = double(b) / double(bins),
    c.bins[std::size_t(b)].upper = double(b + 1) / double(bins);
  const double tiny = std::numeric_limits<double>::min();
  for (index_t i = 0; i < n; ++i) {
    const std::int64_t y = labels[std::size_t(i)];
    CURV_CHECK(y >= 0 && y < classes, "calibration: expected labels in [0, ", classes, "), found ",
               y, " at ", i);
    const double* p = probs.data() + i * classes;
    const index_t top = index_t(std::max_element(p, p + classes) - p);
    const double confidence = p[top];
    const bool correct = top == y;
    c.accuracy += correct ? 1 : 0;
    c.nll -= std::log(std::max(p[y], tiny));
    for (index_t k = 0; k < classes; ++k) {
      const double d = p[k] - (k == y ? 1.0 : 0.0);
      c.brier += d * d;
    }
    c.mean_confidence += confidence;
    ReliabilityBin& bin = c.bins[std::size_t(confidence_bin(confidence, bins))];
    bin.count += 1, bin.confidence += confidence, bin.accuracy += correct ? 1 : 0;
  }
  for (ReliabilityBin& b : c.bins) {
    if (b.count == 0) continue;
    const double gap = std::abs(b.accuracy - b.confidence) / double(b.count);
    c.ece += gap * double(b.count) / double(n);
    c.mce = std::max(c.mce, gap);
    b.confidence /= double(b.count), b.accuracy /= double(b.count);
  }
  c.accuracy /= double(n), c.nll /= double(n), c.brier /= double(n), c.mean_confidence /= double(n);
  return c;
}

std::vector<double> one_minus_max_probability(const std::vector<double>& probs, index_t classes) {
  std::vector<double> s(probs.size() / std::size_t(classes));
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto row = probs.begin() + std::ptrdiff_t(i) * classes;
    s[i] = 1 - *std::max_element(row, row + classes);
  }
  return s;
}

std::vector<double> entropy(const std::vector<double>& probs, index_t classes) {
  std::vector<double> s(probs.size() / std::size_t(classes), 0.0);
  for (std::size_t i = 0; i < s.size(); ++i)
    for (index_t k = 0; k < classes; ++k) {
      const double p = probs[i * std::size_t(classes) + std::size_t(k)];
      if (p > 0) s[i] -= p * std::log(p);
    }
  return s;
}

}  // namespace curv::metrics
