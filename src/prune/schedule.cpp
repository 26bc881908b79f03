#include "curv/prune/schedule.hpp"

#include <chrono>
#include <cmath>

#include "curv/core/error.hpp"
#include "curv/core/rng.hpp"
#include "curv/curvature/kfac.hpp"

namespace curv {

void check_gradual_schedule(const GradualSchedule& s) {
  CURV_CHECK(s.initial >= 0 && s.initial < 1 && s.final >= 0 && s.final < 1,
             "gradual pruning: expected sparsities in [0, 1), found ", s.initial, " and ", s.final);
  CURV_CHECK(s.initial <= s.final, "gradual pruning: expected the initial sparsity ", s.initial,
             " <= the final ", s.final);
  CURV_CHECK(s.start >= 0 && s.start <= s.end, "gradual pruning: expected 0 <= start <= end, ",
             "found start ", s.start, " and end ", s.end);
  CURV_CHECK(s.every >= 1, "gradual pruning: expected a pruning interval >= 1 step, found ",
             s.every);
}

double GradualSchedule::at(index_t t) const {
  if (t <= start) return start == end ? final : initial;
  if (t >= end) return final;
  const double left = 1.0 - double(t - start) / double(end - start);
  return final + (initial - final) * left * left * left;
}

bool GradualSchedule::due(index_t t) const {
  return t >= start && t <= end && ((t - start) % every == 0 || t == end);
}

AcdcSchedule make_acdc_schedule(double sparsity, index_t total, index_t warmup, index_t phase,
                                index_t final) {
  CURV_CHECK(sparsity > 0 && sparsity < 1, "acdc: expected a sparsity in (0, 1), found ", sparsity);
  CURV_CHECK(warmup >= 0 && final >= 0 && phase >= 1,
             "acdc: expected warm-up and last phase >= 0 steps and phases >= 1 step, found ",
             warmup, ", ", final, " and ", phase);
  CURV_CHECK(warmup + 2 * phase + final <= total, "acdc: expected warm-up ", warmup,
             " + two phases of ", phase, " + last phase ", final, " <= the budget of ", total,
             " steps");
  AcdcSchedule s;
  s.sparsity = sparsity, s.total = total, s.warmup = warmup, s.phase = phase, s.final = final;
  const index_t middle = total - warmup - final;
  s.pairs = std::max<index_t>(1, index_t(std::llround(double(middle) / double(2 * phase))));
  s.length = middle / (2 * s.pairs);
  s.last = warmup + 2 * s.pairs * s.length;
  return s;
}

bool AcdcSchedule::compressed(index_t t) const {
  if (t < warmup) return false;
  if (t >= last) return !dense_finish;
  return (t - warmup) / length % 2 == 0;
}

bool AcdcSchedule::starts(index_t t) const {
  return t >= warmup && (t == last || (t < last && (t - warmup) % length == 0));
}

template <class T>
GradualPruning<T>::GradualPruning(Model<T>& model, const Split<T>& train,
                                  std::vector<index_t> examples, GradualSchedule schedule,
                                  PruneOptions pruner, std::uint64_t seed,
                                  const Optimizer<T>* factors_from)
    : model_(model),
      train_(train),
      examples_(std::move(examples)),
      schedule_(schedule),
      pruner_(std::move(pruner)),
      seed_(seed),
      factors_from_(factors_from) {
  CURV_CHECK(!factors_from_ || pruner_.method == "kfac-obs",
             "gradual pruning: an optimizer's factors are for kfac-obs, found '", pruner_.method,
             "'");
  check_gradual_schedule(schedule_);
  pruner_.sparsity = schedule_.final, pruner_.recomputations = 1;
  check_prune_options(pruner_);
  if (pruner_.method != "magnitude") check_example_indices(train_, examples_);  // m drawn here
}

template <class T>
void GradualPruning<T>::at(index_t t) {
  if (!schedule_.due(t)) return;
  const auto t0 = std::chrono::steady_clock::now();
  pruner_.sparsity = schedule_.at(t);
  // m examples drawn afresh for this step: a partial Fisher–Yates shuffle seeded by (seed, t).
  std::vector<index_t> draw;
  if (pruner_.method != "magnitude") {
    Rng rng(seed_ ^ (0x9e3779b97f4a7c15ULL * std::uint64_t(t + 1)));
    const auto n = index_t(examples_.size());
    for (index_t i : rng.choose(n, std::min(n, index_t(pruner_.grads))))
      draw.push_back(examples_[std::size_t(i)]);
  }
  std::unique_ptr<LinearOperator> running;
  if (factors_from_) {
    running = factors_from_->curvature();  // throws before the optimizer's first step
    pruner_.kfac = dynamic_cast<KfacOperator*>(running.get());
    CURV_CHECK(pruner_.kfac, "kfac-obs: expected an optimizer with K-FAC factors (kfac, ekfac, ",
               "foof), found ", running->name());
  }
  prune(model_, train_, draw, pruner_);
  pruner_.kfac = nullptr;
  ++pruning_steps_;
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

template <class T>
void GradualPruning<T>::after_step(ParamStore<T>& /*params*/, Optimizer<T>& /*opt*/) {
  at(++steps_);
}

template <class T>
AcdcPruning<T>::AcdcPruning(Model<T>& model, const Split<T>& train, AcdcSchedule schedule,
                            bool reset_momentum)
    : model_(model), train_(train), schedule_(schedule), reset_momentum_(reset_momentum) {
  CURV_CHECK(schedule_.length >= 1 && schedule_.pairs >= 1,
             "acdc: expected a schedule from make_acdc_schedule");
}

template <class T>
void AcdcPruning<T>::at(index_t t) {
  if (!schedule_.starts(t)) return;
  ParamStore<T>& ps = model_.params();
  if (!schedule_.compressed(t)) {  // decompressed: every weight trains again, from where it is
    ps.set_mask({});
    return;
  }
  if (t == schedule_.last) twin_.assign(ps.data(), ps.data() + ps.size());
  ps.set_mask({});  // the mask of a C phase comes from the current weights alone
  PruneOptions magnitude;
  magnitude.method = "magnitude", magnitude.sparsity = schedule_.sparsity;
  prune(model_, train_, {}, magnitude);
}

template <class T>
void AcdcPruning<T>::after_step(ParamStore<T>& params, Optimizer<T>& opt) {
  at(++steps_);
  const bool decompressed_now = schedule_.compressed(steps_ - 1) && !schedule_.compressed(steps_);
  if (reset_momentum_ && decompressed_now)
    opt.apply_mask(std::vector<std::uint8_t>(static_cast<std::size_t>(params.size()), 0));
}

template class GradualPruning<float>;
template class GradualPruning<double>;
template class AcdcPruning<float>;
template class AcdcPruning<double>;

}  // namespace curv
