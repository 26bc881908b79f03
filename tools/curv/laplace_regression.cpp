#include "laplace_regression.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "curv/core/error.hpp"
#include "curv/laplace/predictive.hpp"
#include "curv/metrics/metrics.hpp"
#include "curv/report/plot.hpp"
#include "laplace_flags.hpp"

namespace curv::cli {
namespace {

// Inputs and targets of `idx` of `split`, as double: (n, inputs) and (n, D).
template <class T>
std::pair<std::vector<double>, std::vector<double>> examples_of(const Split<T>& split,
                                                                const std::vector<index_t>& idx) {
  Batch<T> b;
  split.fill(idx, nullptr, b);
  CURV_CHECK(!b.values.empty(), split.name(), ": expected real-valued targets for a regression ",
             "model, found none");
  return {std::vector<double>(b.x.data(), b.x.data() + b.x.numel()),
          std::vector<double>(b.values.data(), b.values.data() + b.values.numel())};
}

// The closed outline of mean ± 2·sd over sorted x (up along the upper edge, back along the lower).
Series band(const std::string& label, const std::vector<double>& x, const std::vector<double>& mean,
            const std::vector<double>& sd, const std::vector<std::size_t>& order) {
  Series s{label, {}, {}};
  for (std::size_t i : order) s.x.push_back(x[i]), s.y.push_back(mean[i] + 2 * sd[i]);
  for (auto i = order.rbegin(); i != order.rend(); ++i)
    s.x.push_back(x[*i]), s.y.push_back(mean[*i] - 2 * sd[*i]);
  s.x.push_back(s.x.front()), s.y.push_back(s.y.front());
  return s;
}

}  // namespace

template <class T>
nlohmann::json regression_scores(laplace::Posterior& post, Model<T>& model, const Task<T>& task,
                                 const IndexList& eval, const IndexList& fit,
                                 const std::string& weights, const std::string& structure,
                                 const std::string& plot) {
  CURV_CHECK(post.gaussian(), "laplace: expected a posterior with a Gaussian likelihood for the ",
             "mse model, found a classification one");
  const Split<T>& split = task.split(eval.split);
  const laplace::Linearized l = laplace::linearize(post, model, split, eval.indices, weights, 64);
  const index_t D = l.classes;
  const auto n = std::size_t(l.n), d = std::size_t(D);
  const auto [inputs, targets] = examples_of(split, eval.indices);
  // σ̂² of the MAP network, from its residuals on the fit examples.
  const double sigma2 = post.noise(),
               map_sigma2 = laplace::residual_noise(post.summed_loss(), post.n_data(), D);
  std::vector<double> laplace_cov = l.covariance, map_cov(n * d * d, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t a = 0; a < d; ++a)
      laplace_cov[(i * d + a) * d + a] += sigma2, map_cov[(i * d + a) * d + a] = map_sigma2;
  const metrics::Regression r = metrics::gaussian_regression(l.logits, laplace_cov, D, targets),
                            m = metrics::gaussian_regression(l.logits, map_cov, D, targets);
  const std::string s = eval.split + "_";
  nlohmann::json j = {{s + "nll", r.nll},
                      {s + "rmse", r.rmse},
                      {s + "std", r.mean_std},
                      {"map_" + s + "nll", m.nll},
                      {"map_" + s + "rmse", m.rmse},
                      {"map_" + s + "std", m.mean_std},
                      {"noise_std", std::sqrt(sigma2)},
                      {"map_noise_std", std::sqrt(map_sigma2)}};
  if (plot.empty()) return j;
  CURV_CHECK(inputs.size() == n && D == 1, "laplace: --plot-out draws one input against one ",
             "output, found ", inputs.size() / std::max<std::size_t>(n, 1), " inputs and ", D,
             " outputs per example");
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t(0));
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return inputs[a] < inputs[b]; });
  std::vector<double> sd(n), map_sd(n, std::sqrt(map_sigma2));
  for (std::size_t i = 0; i < n; ++i) sd[i] = std::sqrt(laplace_cov[i]);
  Series mean{"mean f(x) of both", {}, {}};
  for (std::size_t i : order) mean.x.push_back(inputs[i]), mean.y.push_back(l.logits[i]);
  const auto [fx, fy] = examples_of(task.split(fit.split), fit.indices);
  Series data{"training data (" + fit.spec + ")", fx, fy, true};
  plot_lines(plot, model.name() + " on " + task.name() + " " + eval.spec + ": predictive ± 2 sd",
             "x", "y",
             {data, mean, band("MAP, σ̂ of the residuals", inputs, l.logits, map_sd, order),
              band("Laplace, " + structure + " on " + weights_label(weights), inputs, l.logits, sd,
                   order)});
  j["plot_out"] = plot;
  return j;
}

template nlohmann::json regression_scores(laplace::Posterior&, Model<float>&, const Task<float>&,
                                          const IndexList&, const IndexList&, const std::string&,
                                          const std::string&, const std::string&);
template nlohmann::json regression_scores(laplace::Posterior&, Model<double>&, const Task<double>&,
                                          const IndexList&, const IndexList&, const std::string&,
                                          const std::string&, const std::string&);

}  // namespace curv::cli
