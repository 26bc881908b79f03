// Subnetwork selection for a Laplace posterior over a few chosen weights (Daxberger et al. 2021,
// "Bayesian deep learning via subnetwork inference"): the posterior's covariance is full over
// the k weights kept, the others stay at θ* (a point mass). The k weights are those with
//   magnitude   the largest |θ*ᵢ|
//   variance    the largest marginal variance [P⁻¹]ᵢᵢ under a diagonal Laplace posterior over
//               all weights (the spec's curvature, one prior precision fitted by the marginal
//               likelihood from the spec's start): the weights the data pin down least
// as a subset of single entries (curvature/subset.hpp, "entries:…"), which every Laplace
// computation then takes like a named one. A full structure over it costs k curvature-vector
// products over the fit examples.
#pragma once

#include <string>
#include <vector>

#include "curv/data/split.hpp"
#include "curv/laplace/fit.hpp"
#include "curv/nn/model.hpp"

namespace curv::laplace {

// The flat indices of the k chosen weights, in flat order. Throws for k outside 1..P or an
// unknown `by`.
template <class T>
std::vector<index_t> select_subnetwork(const Model<T>& model, const Split<T>& split,
                                       const std::vector<index_t>& examples, index_t k,
                                       const std::string& by, const LaplaceSpec& spec);

}  // namespace curv::laplace
