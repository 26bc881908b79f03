// Pruning while training, as hooks of the training loop (train/loop.hpp). A hook counts the
// loop's steps; after the step that ends an interval it changes the parameter store's mask, and
// the loop then holds it: pruned weights and their optimizer state stay at exactly zero.
//   gradual  Zhu & Gupta (2017): after steps t = t₀, t₀ + k, …, t_end (and t_end itself) the
//            model is pruned to s_t = s_f + (s_i − s_f)(1 − (t − t₀)/(t_end − t₀))³ by any
//            one-shot pruner (prune.hpp), once per step (no recomputations inside). OBD and OBS
//            estimate their curvature on m training examples drawn afresh at each pruning step.
//            Weights pruned earlier stay pruned: sparsity only grows.
//   acdc     Peste et al. (2021), alternating compressed / decompressed training: steps [0, W)
//            dense; then compressed (C) and decompressed (D) phases of equal length, C first,
//            n pairs; then a last compressed phase to the end of the budget, at least F steps.
//            A C phase starts with global magnitude pruning of the current weights to s and
//            keeps that mask throughout; a D phase drops it (pruned weights restart from zero).
//            The weights at the start of the last C phase — the end of the last D phase — are
//            the sparse model's dense twin.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "curv/prune/prune.hpp"
#include "curv/train/loop.hpp"

namespace curv {

struct GradualSchedule {
  double initial = 0;                     // s_i
  double final = 0.9;                     // s_f
  index_t start = 0, end = 0, every = 1;  // t₀, t_end, k in steps (t₀ ≤ t_end, k ≥ 1)
  // The sparsity at step t (s_i before t₀, s_f after t_end).
  double at(index_t t) const;
  // Whether the model is pruned after step t.
  bool due(index_t t) const;
};

struct AcdcSchedule {
  double sparsity = 0.9;
  index_t total = 0;                         // the run's budget in steps
  index_t warmup = 0, phase = 0, final = 0;  // W, the phase length asked for, F
  // The phases that fit: W, then n pairs (C, D) of length `length`, then the last C from `last`.
  index_t pairs = 0, length = 0, last = 0;
  // The dense twin's run: from `last` on the model trains dense instead, so the run ends with
  // AC/DC's dense model fine-tuned over the rest of the schedule (the AC/DC paper's dense
  // models), while an identical run without it ends with the sparse one.
  bool dense_finish = false;
  // Whether step t (0-based: the one about to be taken after t steps) is in a compressed
  // phase, and whether a phase starts at t.
  bool compressed(index_t t) const;
  bool starts(index_t t) const;
};

// Checks and fills in the phases: W, F ≥ 0, the phase length ≥ 1 and W + 2·phase + F ≤ total;
// the n = round((total − W − F) / (2·phase)) pairs (at least 1) share total − W − F evenly and
// the last C takes the rest.
AcdcSchedule make_acdc_schedule(double sparsity, index_t total, index_t warmup, index_t phase,
                                index_t final);
void check_gradual_schedule(const GradualSchedule& s);

template <class T>
class GradualPruning final : public TrainHook<T> {
 public:
  // `pruner`: the method and its options (its sparsity and recomputations are set per step);
  // `examples` of `train`: where OBD's and OBS's m examples are drawn from, with `seed`.
  // `factors_from` (kfac-obs only): prune with this optimizer's running K-FAC factors
  // (Optimizer::curvature(): kfac, ekfac, foof) instead of fresh ones at each pruning step.
  GradualPruning(Model<T>& model, const Split<T>& train, std::vector<index_t> examples,
                 GradualSchedule schedule, PruneOptions pruner, std::uint64_t seed,
                 const Optimizer<T>* factors_from = nullptr);
  // Prunes now if step t is due (t = 0: before the first step).
  void at(index_t t);
  void after_step(ParamStore<T>& params, Optimizer<T>& opt) override;
  index_t pruning_steps() const { return pruning_steps_; }
  double seconds() const { return seconds_; }

 private:
  Model<T>& model_;
  const Split<T>& train_;
  std::vector<index_t> examples_;
  GradualSchedule schedule_;
  PruneOptions pruner_;
  std::uint64_t seed_;
  const Optimizer<T>* factors_from_;
  index_t steps_ = 0, pruning_steps_ = 0;
  double seconds_ = 0;
};

template <class T>
class AcdcPruning final : public TrainHook<T> {
 public:
  // `reset_momentum`: at each decompression every per-parameter optimizer buffer (SGD's
  // momentum) restarts from zero, as in the AC/DC reference code, so the pruned weights'
  // return is not steered by a momentum built while the rest of the network adapted to them
  // being gone.
  AcdcPruning(Model<T>& model, const Split<T>& train, AcdcSchedule schedule,
              bool reset_momentum = false);
  // Sets the mask for step t (0-based) if a phase starts there (t = 0: before the first step).
  void at(index_t t);
  void after_step(ParamStore<T>& params, Optimizer<T>& opt) override;
  // The parameters at the start of the last compressed phase (empty before it, and always with
  // dense_finish).
  const std::vector<T>& dense_twin() const { return twin_; }
  const AcdcSchedule& schedule() const { return schedule_; }

 private:
  Model<T>& model_;
  const Split<T>& train_;
  AcdcSchedule schedule_;
  bool reset_momentum_;
  index_t steps_ = 0;
  std::vector<T> twin_;
};

extern template class GradualPruning<float>;
extern template class GradualPruning<double>;
extern template class AcdcPruning<float>;
extern template class AcdcPruning<double>;

}  // namespace curv
