#include <algorithm>
#include <cmath>

#include "curv/core/error.hpp"
#include "curv/metrics/metrics.hpp"

namespace curv::metrics {

Detection detection(const std::vector<double>& in_scores, const std::vector<double>& out_scores) {
  const auto n_in = double(in_scores.size()), n_out = double(out_scores.size());
  CURV_CHECK(n_in > 0 && n_out > 0, "detection: expected in- and out-of-distribution scores, ",
             "found ", in_scores.size(), " and ", out_scores.size());
  for (const auto* v : {&in_scores, &out_scores})
    for (double s : *v)
      CURV_CHECK(std::isfinite(s), "detection: expected finite scores, found ", s);
  // Every score once, descending; `positive` marks the OOD ones.
  struct Scored {
    double score;
    bool positive;
  };
  std::vector<Scored> all;
  all.reserve(in_scores.size() + out_scores.size());
  for (double s : in_scores) all.push_back({s, false});
  for (double s : out_scores) all.push_back({s, true});
  std::sort(all.begin(), all.end(),
            [](const Scored& a, const Scored& b) { return a.score > b.score; });

  Detection d;
  // Walk the thresholds from the highest score down, a group of tied scores at a time: at each,
  // tp and fp count the flagged OOD and in-distribution inputs.
  double tp = 0, fp = 0, auc = 0, ap = 0;
  bool fpr_set = false;
  for (std::size_t i = 0; i < all.size();) {
    std::size_t j = i;
    double dtp = 0, dfp = 0;
    while (j < all.size() && all[j].score == all[i].score) (all[j].positive ? dtp : dfp) += 1, ++j;
    // Mann–Whitney: in-distribution inputs in this group lose to every OOD input above it and
    // tie (½) with those in it.
    auc += dfp * (tp + 0.5 * dtp);
    tp += dtp, fp += dfp;
    if (dtp > 0) ap += dtp / n_out * (tp / (tp + fp));  // precision at this recall step
    if (!fpr_set && tp >= 0.95 * n_out) d.fpr95 = fp / n_in, fpr_set = true;
    i = j;
  }
  d.auroc = auc / (n_in * n_out);  // the (OOD, in) pairs the OOD input wins, ties halved
  d.aupr = ap;
  return d;
}

}  // namespace curv::metrics
