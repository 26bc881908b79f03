// The on-the-fly learning-rate and momentum learner of Granziol et al. ("Learning rates as a
// function of batch size"): every T steps a few Lanczos iterations on the Hessian of a training
// batch at the current weights give the extremes of its spectrum, and the rate and momentum come
// from heavy ball's tuning for a quadratic with curvature in [μ, L]:
//
//   β  = ((√L − √μ)/(√L + √μ))²,  capped at max_momentum
//   lr = fraction · (1 + √β)² / L · shape
//
// (1 + √β)²/L is heavy ball's optimal rate, 4/(√L + √μ)² when β is not capped; it lies between
// half of and the stability limit 2(1 + β)/L. L is Lanczos's top Ritz value, μ its smallest
// one above 1e-6·L (below lies a finite batch's null space), so the momentum rises as the
// spectrum widens. The batch's L exceeds the full
// data's (spectra/batch_sweep.hpp), which is the margin a stochastic step needs. `shape` is the
// recipe schedule's factor (warm-up, cosine decay), so the learner replaces the peak rate that a
// grid would otherwise tune, not the decay.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "curv/data/split.hpp"
#include "curv/train/run.hpp"

namespace curv::spectra {

struct RateLearnerOptions {
  // T: steps between measurements once settled. Before step T they come at 0, then at ⌊T/16⌋
  // and doubling up to T (T = 200: 0, 12, 24, 48, 96, 192, 200, 400, …), since the curvature
  // grows fastest from a small λ_max at initialization.
  index_t every = 200;
  index_t iterations = 10;  // Lanczos iterations per measurement
  index_t batch = 128;      // examples of the measured batch (drawn afresh each time)
  // Of heavy ball's optimal rate: the margin for the curvature to grow between measurements.
  // Chosen once on LeNet-5/Fashion-MNIST (2 epochs, 1 epoch of warm-up, seed 0): 1 diverges,
  // 0.25 crawls (72 %), 0.5 trains (86 %); experiments/batch-size says so.
  double fraction = 0.5;
  bool learn_momentum = true;  // else the optimizer's momentum is kept and only the rate learned
  // The peak applied is the lowest rate measured so far, so a measurement never raises it. Set
  // from the current λ_max alone, the rate feeds back on the curvature it is set from: SGD driven
  // by a large rate settles where the batch λ_max is small, which then allows a larger rate.
  bool never_raise = false;
  double max_momentum = 0.9;
  std::uint64_t seed = 0;
  index_t chunk = 256;  // examples per recorded sweep of the products
};

// One measurement.
struct RateMeasurement {
  index_t step = 0;
  double lambda_max = 0, lambda_min_positive = 0;  // L and μ (μ = 0: no positive Ritz value
                                                   // below L; β is then the cap)
  double momentum = 0, lr = 0;                     // the rule's lr, before the schedule's shape
  double peak = 0;  // the peak applied from here on: lr, or the lowest lr so far (never_raise)
  double seconds = 0;
  index_t products = 0;
};

// The rule above for given L, μ: {β, lr at shape 1}.
std::pair<double, double> heavy_ball_rate(double L, double mu, const RateLearnerOptions& o);

template <class T>
class LanczosRateLearner final : public RateController<T> {
 public:
  // Measures on batches drawn from `examples` of `train` (both must outlive the learner).
  // Throws a one-line curv::Error for every < 1, iterations < 2, batch outside 1..|examples|,
  // fraction ≤ 0 or max_momentum outside [0, 1).
  LanczosRateLearner(const Split<T>& train, std::vector<index_t> examples,
                     RateLearnerOptions options);
  double rate(TrainLoop<T>& loop, double shape) override;
  const std::vector<RateMeasurement>& history() const { return history_; }
  double seconds() const;  // spent measuring, in all

 private:
  const Split<T>& train_;
  std::vector<index_t> examples_;
  RateLearnerOptions o_;
  std::vector<RateMeasurement> history_;
  index_t next_ = 0;  // the step of the next measurement
};

extern template class LanczosRateLearner<float>;
extern template class LanczosRateLearner<double>;

}  // namespace curv::spectra
