#include "curv/laplace/subnet.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "curv/core/error.hpp"

namespace curv::laplace {
namespace {

// The indices of the k largest scores, in flat order; ties go to the lower index.
std::vector<index_t> largest(const std::vector<double>& score, index_t k) {
  std::vector<index_t> order(score.size());
  std::iota(order.begin(), order.end(), index_t(0));
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](index_t a, index_t b) {
    return score[std::size_t(a)] > score[std::size_t(b)] ||
           (score[std::size_t(a)] == score[std::size_t(b)] && a < b);
  });
  order.resize(std::size_t(k));
  std::sort(order.begin(), order.end());
  return order;
}

}  // namespace

template <class T>
std::vector<index_t> select_subnetwork(const Model<T>& model, const Split<T>& split,
                                       const std::vector<index_t>& examples, index_t k,
                                       const std::string& by, const LaplaceSpec& spec) {
  const index_t P = model.params().size();
  CURV_CHECK(k >= 1 && k <= P, "laplace: expected a subnetwork of 1..", P, " weights, found ", k);
  check_one_of(by, {"variance", "magnitude"}, "laplace", "a subnetwork selection");
  std::vector<double> score(static_cast<std::size_t>(P));
  if (by == "magnitude") {
    for (index_t i = 0; i < P; ++i)
      score[std::size_t(i)] = std::abs(double(model.params().data()[i]));
    return largest(score, k);
  }
  LaplaceSpec diag;
  diag.weights = "all", diag.structure = "diag", diag.curvature = spec.curvature;
  diag.prior = "scalar", diag.prior_start = spec.prior_start, diag.noise = spec.noise;
  diag.mc_samples = spec.mc_samples, diag.batch = spec.batch, diag.seed = spec.seed;
  if (model.loss() == "mse" && spec.noise == 0) diag.prior_precision = 0;  // σ fitted with δ
  return largest(fit_posterior(model, split, examples, diag)->variances(), k);
}

template std::vector<index_t> select_subnetwork(const Model<float>&, const Split<float>&,
                                                const std::vector<index_t>&, index_t,
                                                const std::string&, const LaplaceSpec&);
template std::vector<index_t> select_subnetwork(const Model<double>&, const Split<double>&,
                                                const std::vector<index_t>&, index_t,
                                                const std::string&, const LaplaceSpec&);

}  // namespace curv::laplace
