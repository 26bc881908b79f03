#include "curv/train/trainer.hpp"

#include <chrono>
#include <cmath>
#include <numeric>

#include "curv/nn/objective.hpp"

namespace curv {
namespace {

// The first parameter whose gradient has a NaN or an infinity, by name ("" if none).
template <class T>
std::string first_non_finite(const ParamStore<T>& p) {
  // x·0 is 0 for finite x and NaN otherwise, so one vectorizable sum screens the whole vector.
  const T* g = p.grad();
  T screen = 0;
  for (index_t i = 0; i < p.size(); ++i) screen += g[i] * T(0);
  if (screen == T(0)) return "";
  for (const ParamInfo& info : p.info())
    for (index_t i = 0, n = info.shape.numel(); i < n; ++i)
      if (!std::isfinite(double(g[info.offset + i]))) return info.name;
  return "";
}

}  // namespace

template <class T>
TrainLoop<T>::TrainLoop(Model<T>& model, Optimizer<T>& opt, const Task<T>& task, index_t batch,
                        std::uint64_t seed, double clip_norm)
    : model_(model),
      opt_(opt),
      task_(task),
      batch_(batch),
      per_epoch_(0),
      clip_norm_(clip_norm),
      rng_(seed) {
  task.check_model(model);
  CURV_CHECK(batch > 0 && batch <= task.train_size(), "train: expected a batch size in 1..",
             task.train_size(), ", found ", batch);
  per_epoch_ = task.train_size() / batch;
  loss_ = make_loss<T>(task.loss());
  obj_ = std::make_unique<Objective<T>>(model, *loss_);
  order_.resize(static_cast<std::size_t>(task.train_size()));
  std::iota(order_.begin(), order_.end(), 0);
}

template <class T>
TrainLoop<T>::~TrainLoop() = default;

template <class T>
std::size_t TrainLoop<T>::activation_bytes() const {
  return obj_->tape().memory_bytes();
}

template <class T>
double TrainLoop<T>::step(double lr) {
  const auto t0 = std::chrono::steady_clock::now();
  const index_t b = step_ % per_epoch_;
  if (b == 0)
    for (std::size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[rng_.below(i)]);
  task_.train_batch(order_.data() + b * batch_, batch_, rng_, x_, y_);
  const double l = obj_->set_batch(x_, y_.view());
  CURV_CHECK(std::isfinite(l), "train: expected a finite loss, found ", l, " at step ", step_ + 1);
  opt_.attach(*obj_);
  obj_->gradient(model_.params().grad(), opt_.observes_gradient());
  const std::string bad = first_non_finite(model_.params());
  CURV_CHECK(bad.empty(), "train: expected finite gradients, found a non-finite one in ", bad,
             " at step ", step_ + 1);
  if (clip_norm_ > 0) clip_grad_norm(model_.params().grad(), model_.params().size(), clip_norm_);
  opt_.set_lr(lr);
  opt_.step(model_.params());
  ++step_;
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return l;
}

template <class T>
std::vector<EpochReport> train(Model<T>& model, Optimizer<T>& opt, const Task<T>& task,
                               TrainConfig cfg,
                               const std::function<void(const EpochReport&)>& on_epoch,
                               const std::function<void(index_t, index_t, double)>& on_step) {
  CURV_CHECK(cfg.epochs > 0, "train: expected at least one epoch, found ", cfg.epochs);
  TrainLoop<T> loop(model, opt, task, cfg.batch, cfg.seed, cfg.clip_norm);
  const index_t total = loop.steps_per_epoch() * cfg.epochs;
  if (cfg.schedule.total_steps == 0) cfg.schedule.total_steps = total;
  if (cfg.eval_batch <= 0) cfg.eval_batch = cfg.batch;
  std::vector<EpochReport> reports;
  for (index_t epoch = 1; epoch <= cfg.epochs; ++epoch) {
    const double seconds_before = loop.seconds();
    double sum = 0;
    for (index_t b = 0; b < loop.steps_per_epoch(); ++b) {
      const double l = loop.step(cfg.schedule.lr(loop.steps()));
      sum += l;
      if (on_step && cfg.log_every > 0 && loop.steps() % cfg.log_every == 0)
        on_step(loop.steps(), total, l);
    }
    EpochReport r;
    r.epoch = epoch;
    r.steps = loop.steps();
    r.train_loss = sum / double(loop.steps_per_epoch());
    r.seconds = loop.seconds() - seconds_before;
    r.activation_bytes = loop.activation_bytes();
    r.metrics = task.evaluate(model, cfg.eval_batch);
    reports.push_back(r);
    if (on_epoch) on_epoch(r);
  }
  return reports;
}

template class TrainLoop<float>;
template class TrainLoop<double>;
template std::vector<EpochReport> train<float>(
    Model<float>&, Optimizer<float>&, const Task<float>&, TrainConfig,
    const std::function<void(const EpochReport&)>&,
    const std::function<void(index_t, index_t, double)>&);
template std::vector<EpochReport> train<double>(
    Model<double>&, Optimizer<double>&, const Task<double>&, TrainConfig,
    const std::function<void(const EpochReport&)>&,
    const std::function<void(index_t, index_t, double)>&);

}  // namespace curv
