#include "curv/laplace/tune.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "curv/core/error.hpp"
#include "curv/laplace/predictive.hpp"

namespace curv::laplace {

std::vector<double> log_grid(double lo, double hi, index_t n) {
  CURV_CHECK(n >= 2 && lo > 0 && hi > lo, "laplace: expected a prior grid of n >= 2 values with ",
             "0 < lo < hi, found n = ", n, " from ", lo, " to ", hi);
  std::vector<double> g(static_cast<std::size_t>(n));
  const double a = std::log(lo), step = (std::log(hi) - a) / double(n - 1);
  for (index_t i = 0; i < n; ++i) g[std::size_t(i)] = std::exp(a + step * double(i));
  g.back() = hi;
  return g;
}

template <class T>
std::vector<PriorTrial> tune_prior_by_nll(Posterior& posterior, Model<T>& model,
                                          const Split<T>& split,
                                          const std::vector<index_t>& examples,
                                          const std::string& subset,
                                          const std::vector<double>& grid, const std::string& kind,
                                          index_t samples, std::uint64_t seed, double temperature) {
  CURV_CHECK(!grid.empty() && !examples.empty(),
             "laplace: expected a prior grid and validation examples, found ", grid.size(),
             " values and ", examples.size(), " examples");
  std::vector<std::int64_t> labels;
  for (index_t i : examples) {
    labels.push_back(split.class_of(i));
    CURV_CHECK(labels.back() >= 0, "laplace: expected labelled validation examples, found ",
               split.name(), " example ", i, " without a class");
  }
  const std::size_t G = posterior.groups().size();
  std::vector<PriorTrial> trials;
  std::size_t best = 0;
  for (double delta : grid) {
    posterior.set_prior(std::vector<double>(G, delta));
    const auto p = predict(linearize(posterior, model, split, examples, subset), kind, samples,
                           seed, temperature);
    // The mean negative log-probability of the labels (as metrics/calibration.cpp scores it).
    const auto C = std::size_t(model.outputs());
    double nll = 0;
    for (std::size_t i = 0; i < labels.size(); ++i)
      nll -=
          std::log(std::max(p[i * C + std::size_t(labels[i])], std::numeric_limits<double>::min()));
    trials.push_back({delta, nll / double(labels.size())});
    if (trials.back().nll < trials[best].nll) best = trials.size() - 1;
  }
  posterior.set_prior(std::vector<double>(G, trials[best].delta));
  return trials;
}

template std::vector<PriorTrial> tune_prior_by_nll(Posterior&, Model<float>&, const Split<float>&,
                                                   const std::vector<index_t>&, const std::string&,
                                                   const std::vector<double>&, const std::string&,
                                                   index_t, std::uint64_t, double);
template std::vector<PriorTrial> tune_prior_by_nll(Posterior&, Model<double>&, const Split<double>&,
                                                   const std::vector<index_t>&, const std::string&,
                                                   const std::vector<double>&, const std::string&,
                                                   index_t, std::uint64_t, double);

}  // namespace curv::laplace
