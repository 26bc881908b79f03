// Warm-started retraining of networks from θ*: the leave-out ground truths for models Newton's
// method cannot retrain (influence/retrain.hpp is the convex one). Both run on the training loop
// (train/loop.hpp) with plain SGD at a fixed rate, in one fixed data order (`data_seed`), for a
// fixed number of steps; docs/methods/influence.md derives them.
//
// Leave-out (Koh & Liang 2017's CNN): `steps` steps from θ* on the full objective
// (1/N) Σₙ ℓₙ + (wd/2)‖θ‖², once, and once per removed set R with R's examples weighted 0 in
// every batch that draws them — the batches, their divisor and every other draw unchanged
// (TrainLoop::set_example_weights), so the reduced objective is the full one minus R's terms at
// the same 1/N. The change is m(z'; θ_R) − m(z'; θ_full): the two runs share their order and
// truncation, so the steps' noise cancels as far as it can.
//
// The proximal Bregman response function (Bae et al. 2022), what influence functions compute:
//   θ_R = argmin_θ (1/N) Σₙ D(f(xₙ; θ), f(xₙ; θ*)) + (λ/2)‖θ − θ*‖² − (1/N) Σ_{m∈R} ℓₘ(θ)
// with D the loss's Bregman divergence in output space (loss/adapted.hpp) and λ = wd + damping,
// the estimators' own. Linearized at θ*, θ_R − θ* = (G + λI)⁻¹ Σ_{m∈R} ∇ℓₘ / N, so the change
// m(z'; θ_R) − m(z'; θ*) is s/N with the damped GGN's s. Solved by `steps` SGD steps from θ* on
// mini-batches in the fixed order: the data term's gradient is zero at θ* for every example, so
// its mini-batch noise is proportional to θ − θ* and stays small; R's term is taken in full at
// every step.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "curv/curvature/gradients.hpp"
#include "curv/data/split.hpp"
#include "curv/nn/model.hpp"

namespace curv::influence {

struct WarmOptions {
  index_t steps = 1000;  // SGD steps per run
  index_t batch = 128;
  double lr = 0.01, momentum = 0.9;
  double weight_decay = 0;  // wd of the training objective
  double damping = 0;       // the response function's λ beyond wd
  std::uint64_t data_seed = 0;
  // > 0: each run ends at the mean of its last `average_last` iterates (tail averaging, which
  // damps the mini-batches' noise around where the run settles), not at its last one.
  index_t average_last = 0;
};

struct WarmOutcomes {
  std::vector<std::vector<double>> change;  // [removed set][query]
  index_t steps = 0;                        // SGD steps in all runs
  double seconds = 0;                       // training seconds in all runs
  // ‖θ_end − θ*‖₂ of the full-objective run (leave-out) or the largest over the sets (response
  // function): how far the runs move from where the scores were computed.
  double drift = 0;
};

// `examples`: the training examples (indices in `split`); `removed`: lists of indices in
// `split`, each a subset of `examples`. The model is left at θ*. Throws a one-line curv::Error
// for an empty removed set, an index outside `examples`, a batch larger than the examples or a
// non-finite step. `on_run(i)` is called before run i (progress).
template <class T>
WarmOutcomes warm_leave_out(Model<T>& model, const Split<T>& split,
                            const std::vector<index_t>& examples,
                            const std::vector<std::vector<index_t>>& removed,
                            const Split<T>& query_split, const std::vector<index_t>& queries,
                            const Measurement& measurement, const WarmOptions& options,
                            const std::function<void(index_t)>& on_run = {});

template <class T>
WarmOutcomes bregman_response(Model<T>& model, const Split<T>& split,
                              const std::vector<index_t>& examples,
                              const std::vector<std::vector<index_t>>& removed,
                              const Split<T>& query_split, const std::vector<index_t>& queries,
                              const Measurement& measurement, const WarmOptions& options,
                              const std::function<void(index_t)>& on_run = {});

extern template WarmOutcomes warm_leave_out(Model<float>&, const Split<float>&,
                                            const std::vector<index_t>&,
                                            const std::vector<std::vector<index_t>>&,
                                            const Split<float>&, const std::vector<index_t>&,
                                            const Measurement&, const WarmOptions&,
                                            const std::function<void(index_t)>&);
extern template WarmOutcomes warm_leave_out(Model<double>&, const Split<double>&,
                                            const std::vector<index_t>&,
                                            const std::vector<std::vector<index_t>>&,
                                            const Split<double>&, const std::vector<index_t>&,
                                            const Measurement&, const WarmOptions&,
                                            const std::function<void(index_t)>&);
extern template WarmOutcomes bregman_response(Model<float>&, const Split<float>&,
                                              const std::vector<index_t>&,
                                              const std::vector<std::vector<index_t>>&,
                                              const Split<float>&, const std::vector<index_t>&,
                                              const Measurement&, const WarmOptions&,
                                              const std::function<void(index_t)>&);
extern template WarmOutcomes bregman_response(Model<double>&, const Split<double>&,
                                              const std::vector<index_t>&,
                                              const std::vector<std::vector<index_t>>&,
                                              const Split<double>&, const std::vector<index_t>&,
                                              const Measurement&, const WarmOptions&,
                                              const std::function<void(index_t)>&);

}  // namespace curv::influence
