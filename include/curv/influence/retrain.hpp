// Retraining, the ground truth influence estimates are measured against
// (docs/methods/influence.md). Removing a set R from the N training examples leaves the objective
//
//   L₋R(θ) = (1/N) Σ_{n∉R} ℓₙ(θ) + (wd/2) ‖θ‖²
//
// with the same 1/N weight on every remaining example — the ε = −1/N up-weighting that
// influence functions linearize, so s(z, z')/N predicts m(z'; θ₋z) − m(z'; θ*) to first order.
// (Re-normalizing by N − 1 would also change the effective weight decay by a relative 1/N, a
// shift of θ as large as the one being measured.)
//
// For convex models (logistic regression) θ₋R is found by Newton's method from θ*: each step
// solves (∇²L₋R + ... ) d = −∇L₋R by conjugate gradient on exact Hessian-vector products
// (optionally preconditioned, e.g. by a dense Cholesky factor of ∇²L at θ*, which makes every
// leave-out solve take a few iterations), with a backtracking line search, until ‖∇L₋R‖ is
// below the tolerance.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "curv/curvature/gradients.hpp"
#include "curv/data/split.hpp"
#include "curv/linalg/linear_solvers.hpp"
#include "curv/nn/model.hpp"

namespace curv::influence {

struct NewtonOptions {
  double weight_decay = 0;            // wd
  index_t total = 0;                  // N, the full training set's size (0: the examples given)
  double gradient_tolerance = 1e-10;  // stop when ‖∇L₋R‖₂ is at most this
  index_t max_steps = 50;             // Newton steps
  double cg_tolerance = 1e-8;         // each step's relative residual
  index_t cg_iterations = 2000;       // per step
  index_t batch = 1024;               // examples per recorded batch
  // z = P⁻¹ r with P ≈ ∇²L₋R (the whole objective's Hessian, weight decay included); empty: none.
  linalg::Preconditioner preconditioner{};
};

struct NewtonReport {
  index_t steps = 0;
  index_t products = 0;  // Hessian-vector products
  double gradient_norm = 0;
  double objective = 0;
  bool converged = false;
};

// Minimizes L₋R over `examples` (the kept ones) from the model's current parameters, in place.
// Does not throw when it stops unconverged: the report says so (the caller decides).
template <class T>
NewtonReport newton_minimize(Model<T>& model, const Split<T>& split, std::vector<index_t> examples,
                             const NewtonOptions& options);

// m(z; θ) for the listed examples at the model's parameters: each one's loss ℓ (not divided by
// N), or its margin z_y − log Σ_{c≠y} exp z_c — what the estimators' scores predict the change of.
template <class T>
std::vector<double> measurement_values(const Model<T>& model, const Split<T>& split,
                                       const std::vector<index_t>& examples,
                                       const Measurement& measurement, index_t batch = 1024);

// The common step of every retraining ground truth: for each list of kept examples (indices in
// `split`), the model is set back to its current parameters θ*, retrained by newton_minimize, and
// the queries' change m(z'; θ_kept) − m(z'; θ*) recorded. The model is left at θ*. Throws a
// one-line curv::Error naming the first list whose retraining did not converge. `on_list(i)` is
// called before list i (progress).
struct RetrainOutcomes {
  std::vector<std::vector<double>> change;  // [list][query]
  index_t steps = 0, products = 0;          // Newton steps and Hessian products in all
  index_t worst_steps = 0;
  double worst_gradient_norm = 0;
};
template <class T>
RetrainOutcomes retrain_outcomes(Model<T>& model, const Split<T>& split,
                                 const std::vector<std::vector<index_t>>& kept,
                                 const Split<T>& query_split, const std::vector<index_t>& queries,
                                 const Measurement& measurement, const NewtonOptions& options,
                                 const std::function<void(index_t)>& on_list = {});

// `count` subsets of `size` of the positions 0..n−1, each drawn uniformly without replacement
// (Rng::choose, one seeded stream): the linear datamodeling score's training subsets.
std::vector<std::vector<index_t>> random_subsets(index_t n, index_t size, index_t count,
                                                 std::uint64_t seed);

extern template RetrainOutcomes retrain_outcomes(Model<float>&, const Split<float>&,
                                                 const std::vector<std::vector<index_t>>&,
                                                 const Split<float>&, const std::vector<index_t>&,
                                                 const Measurement&, const NewtonOptions&,
                                                 const std::function<void(index_t)>&);
extern template RetrainOutcomes retrain_outcomes(Model<double>&, const Split<double>&,
                                                 const std::vector<std::vector<index_t>>&,
                                                 const Split<double>&, const std::vector<index_t>&,
                                                 const Measurement&, const NewtonOptions&,
                                                 const std::function<void(index_t)>&);
extern template std::vector<double> measurement_values(const Model<float>&, const Split<float>&,
                                                       const std::vector<index_t>&,
                                                       const Measurement&, index_t);
extern template std::vector<double> measurement_values(const Model<double>&, const Split<double>&,
                                                       const std::vector<index_t>&,
                                                       const Measurement&, index_t);
extern template NewtonReport newton_minimize(Model<float>&, const Split<float>&,
                                             std::vector<index_t>, const NewtonOptions&);
extern template NewtonReport newton_minimize(Model<double>&, const Split<double>&,
                                             std::vector<index_t>, const NewtonOptions&);

}  // namespace curv::influence
