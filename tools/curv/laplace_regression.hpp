// `curv laplace` on a regression model (mean squared error): the linearized Gaussian predictive
// of a Laplace posterior with noise σ² (laplace/posterior.hpp, set_noise),
//   y(x) ~ N(f_θ*(x), J(x) P⁻¹ J(x)ᵀ + σ² I),
// scored against the MAP network with the training residuals' noise, y(x) ~ N(f_θ*(x), σ̂² I),
// σ̂² = Σₙ ‖yₙ − f(xₙ)‖² / (N·D): NLL, RMSE and the mean predictive standard deviation
// (metrics/metrics.hpp).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "curv/data/index_list.hpp"
#include "curv/data/task.hpp"
#include "curv/laplace/posterior.hpp"
#include "curv/nn/model.hpp"

namespace curv::cli {

// The scores on `eval` as "<split>_nll", "<split>_rmse", "<split>_std" and their "map_" twins,
// with "noise_std" (σ) and "map_noise_std" (σ̂). With `plot` (a .png path) and one input per
// example: both predictives' mean ± 2 standard deviations over the eval inputs, drawn with the
// `fit` examples the posterior was fitted on.
template <class T>
nlohmann::json regression_scores(laplace::Posterior& post, Model<T>& model, const Task<T>& task,
                                 const IndexList& eval, const IndexList& fit,
                                 const std::string& weights, const std::string& structure,
                                 const std::string& plot);

}  // namespace curv::cli
