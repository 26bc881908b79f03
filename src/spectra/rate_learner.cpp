#include "curv/spectra/rate_learner.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <tuple>

#include "curv/core/error.hpp"
#include "curv/curvature/data.hpp"
#include "curv/curvature/factory.hpp"
#include "curv/linalg/eigensolvers.hpp"
#include "curv/spectra/batch_sweep.hpp"

namespace curv::spectra {

std::pair<double, double> heavy_ball_rate(double L, double mu, const RateLearnerOptions& o) {
  CURV_CHECK(std::isfinite(L) && L > 0, "rate learner: expected a positive largest eigenvalue of ",
             "the batch Hessian, found ", L, " (the weights are not near a minimum's basin)");
  double beta = o.max_momentum;
  if (mu > 0 && mu < L) {
    const double r = (std::sqrt(L) - std::sqrt(mu)) / (std::sqrt(L) + std::sqrt(mu));
    beta = std::min(beta, r * r);
  }
  const double root = 1 + std::sqrt(beta);
  return {beta, o.fraction * root * root / L};
}

template <class T>
LanczosRateLearner<T>::LanczosRateLearner(const Split<T>& train, std::vector<index_t> examples,
                                          RateLearnerOptions options)
    : train_(train), examples_(std::move(examples)), o_(options) {
  CURV_CHECK(o_.every >= 1, "rate learner: expected a measurement every T >= 1 steps, found ",
             o_.every);
  CURV_CHECK(o_.iterations >= 2, "rate learner: expected >= 2 Lanczos iterations (the spectrum's ",
             "two ends), found ", o_.iterations);
  CURV_CHECK(o_.batch >= 1 && o_.batch <= index_t(examples_.size()),
             "rate learner: expected a measured batch of 1..", examples_.size(),
             " examples, found ", o_.batch);
  CURV_CHECK(o_.fraction > 0, "rate learner: expected a fraction > 0 of the optimal rate, found ",
             o_.fraction);
  CURV_CHECK(o_.max_momentum >= 0 && o_.max_momentum < 1,
             "rate learner: expected a momentum cap in [0, 1), found ", o_.max_momentum);
}

template <class T>
double LanczosRateLearner<T>::rate(TrainLoop<T>& loop, double shape) {
  if (loop.steps() >= next_) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto measured = index_t(history_.size());
    CurvatureData<T> data(loop.model(), train_, draw_batch(examples_, o_.batch, measured, o_.seed),
                          std::min(o_.chunk, o_.batch));
    OperatorSpec spec;
    spec.name = "hessian";
    const auto op = make_operator(data, spec);
    linalg::KrylovOptions k;
    k.iterations = std::min(o_.iterations, op->size());
    k.wanted = k.iterations, k.which = linalg::Which::largest_algebraic;
    k.seed = o_.seed + std::uint64_t(measured);
    const linalg::Eigensolution e = linalg::lanczos(*op, k);
    RateMeasurement m;
    m.step = loop.steps(), m.products = e.iterations;
    m.lambda_max = e.values.front();
    // Best first: the last one above the floor is the smallest. Below 1e-6·L lies the null
    // space a finite batch leaves (a batch of B gives a GGN of rank ≤ B·outputs), not curvature.
    for (double v : e.values)
      if (v > 1e-6 * m.lambda_max && v < m.lambda_max) m.lambda_min_positive = v;
    if (!o_.learn_momentum) {
      RateLearnerOptions fixed = o_;
      fixed.max_momentum = loop.optimizer().momentum();
      std::tie(m.momentum, m.lr) = heavy_ball_rate(m.lambda_max, 0, fixed);
    } else {
      std::tie(m.momentum, m.lr) = heavy_ball_rate(m.lambda_max, m.lambda_min_positive, o_);
      loop.optimizer().set_momentum(m.momentum);
    }
    m.peak = o_.never_raise && !history_.empty() ? std::min(m.lr, history_.back().peak) : m.lr;
    m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    loop.charge(m.seconds);
    history_.push_back(m);
    // Early on the curvature grows fastest (from a small λ_max at initialization), so the first
    // measurements come at ⌊T/16⌋ and doubling up to T before settling to every T.
    const index_t s = loop.steps();
    next_ = s == 0         ? std::max<index_t>(1, o_.every / 16)
            : s < o_.every ? std::min(2 * s, o_.every)
                           : s + o_.every;
  }
  CURV_CHECK(!history_.empty(), "rate learner: the first rate is asked at step ", loop.steps(),
             ", expected step 0 (a measurement every ", o_.every, " steps from the run's start)");
  return history_.back().peak * shape;
}

template <class T>
double LanczosRateLearner<T>::seconds() const {
  double s = 0;
  for (const auto& m : history_) s += m.seconds;
  return s;
}

template class LanczosRateLearner<float>;
template class LanczosRateLearner<double>;

}  // namespace curv::spectra
