// The prior precision chosen by validation NLL instead of the marginal likelihood (what
// laplace-torch calls the grid search): for every δ of a grid, set on every prior group of the
// posterior, the predictive on held-out labelled examples is scored by its negative
// log-likelihood; the posterior keeps the δ with the lowest. Each trial is one predictive over
// the validation examples (linearize, laplace/predictive.hpp), so its cost is the grid's size
// times that — cheap for a last-layer Kronecker posterior, whose predictive is about a forward
// pass.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "curv/data/split.hpp"
#include "curv/laplace/posterior.hpp"
#include "curv/nn/model.hpp"

namespace curv::laplace {

struct PriorTrial {
  double delta = 0, nll = 0;
};

// n values from lo to hi, evenly spaced in log δ (n >= 2, 0 < lo < hi).
std::vector<double> log_grid(double lo, double hi, index_t n);

// Every (δ, NLL) of the grid, in grid order, for the predictive `kind` (predict()'s names, with
// its samples, seed and temperature) on `examples` of `split`; the posterior is left with the
// δ of the lowest NLL (the first of equals).
template <class T>
std::vector<PriorTrial> tune_prior_by_nll(Posterior& posterior, Model<T>& model,
                                          const Split<T>& split,
                                          const std::vector<index_t>& examples,
                                          const std::string& subset,
                                          const std::vector<double>& grid,
                                          const std::string& kind = "probit", index_t samples = 100,
                                          std::uint64_t seed = 0, double temperature = 1);

}  // namespace curv::laplace
