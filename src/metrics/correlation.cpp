#include <algorithm>
#include <cmath>
#include <numeric>

#include "curv/core/error.hpp"
#include "curv/metrics/metrics.hpp"

namespace curv::metrics {

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  CURV_CHECK(x.size() == y.size(), "correlation: expected two lists of one size, found ", x.size(),
             " and ", y.size());
  CURV_CHECK(x.size() >= 2, "correlation: expected at least 2 pairs, found ", x.size());
  const double n = double(x.size());
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
  const double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  CURV_CHECK(sxx > 0 && syy > 0,
             "correlation: expected values that vary on both sides, found a constant one");
  return sxy / std::sqrt(sxx * syy);
}

std::vector<double> ranks(const std::vector<double>& x) {
  std::vector<std::size_t> order(x.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return x[a] < x[b]; });
  std::vector<double> r(x.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && x[order[j + 1]] == x[order[i]]) ++j;
    const double mean = 0.5 * double(i + j) + 1;  // ranks i+1 … j+1 share their mean
    for (std::size_t k = i; k <= j; ++k) r[order[k]] = mean;
    i = j + 1;
  }
  return r;
}

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
  CURV_CHECK(x.size() == y.size(), "correlation: expected two lists of one size, found ", x.size(),
             " and ", y.size());
  return pearson(ranks(x), ranks(y));
}

}  // namespace curv::metrics
