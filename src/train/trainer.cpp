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
std::vector<EpochReport> train(Model<T>& model, Optimizer<T>& opt, const Task<T>& task, TrainConfig cfg,
                               const std::function<void(const EpochReport&)>& on_epoch,
                               const std::function<void(index_t, index_t, double)>& on_step) {
  task.check_model(model);
  CURV_CHECK(cfg.batch > 0 && cfg.batch <= task.train_size(), "train: expected a batch size in 1..",
             task.train_size(), ", found ", cfg.batch);
  CURV_CHECK(cfg.epochs > 0, "train: expected at least one epoch, found ", cfg.epochs);
  const index_t per_epoch = task.train_size() / cfg.batch;  // full batches only: one loss scale
  const index_t total = per_epoch * cfg.epochs;
  if (cfg.schedule.total_steps == 0) cfg.schedule.total_steps = total;
  if (cfg.eval_batch <= 0) cfg.eval_batch = cfg.batch;
  auto loss = make_loss<T>(task.loss());
  Objective<T> obj(model, *loss);
  Rng rng(cfg.seed);
  std::vector<index_t> order(static_cast<std::size_t>(task.train_size()));
  std::iota(order.begin(), order.end(), 0);
  Tensor<T> x;
  BatchTargets<T> y;
  std::vector<EpochReport> reports;
  index_t step = 0;
  for (index_t epoch = 1; epoch <= cfg.epochs; ++epoch) {
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
    const auto t0 = std::chrono::steady_clock::now();
    double sum = 0;
    for (index_t b = 0; b < per_epoch; ++b) {
      task.train_batch(order.data() + b * cfg.batch, cfg.batch, rng, x, y);
      const double l = obj.set_batch(x, y.view());
      CURV_CHECK(std::isfinite(l), "train: expected a finite loss, found ", l, " at step ", step + 1);
      opt.attach(obj);
      obj.gradient(model.params().grad(), opt.observes_gradient());
      const std::string bad = first_non_finite(model.params());
      CURV_CHECK(bad.empty(), "train: expected finite gradients, found a non-finite one in ", bad, " at step ", step + 1);
      if (cfg.clip_norm > 0) clip_grad_norm(model.params().grad(), model.params().size(), cfg.clip_norm);
      opt.set_lr(cfg.schedule.lr(step));
      opt.step(model.params());
      ++step;
      sum += l;
      if (on_step && cfg.log_every > 0 && step % cfg.log_every == 0) on_step(step, total, l);
    }
    EpochReport r;
    r.epoch = epoch;
    r.steps = step;
    r.train_loss = sum / double(per_epoch);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.activation_bytes = obj.tape().memory_bytes();
    r.metrics = task.evaluate(model, cfg.eval_batch);
    reports.push_back(r);
    if (on_epoch) on_epoch(r);
  }
  return reports;
}

template std::vector<EpochReport> train<float>(Model<float>&, Optimizer<float>&, const Task<float>&, TrainConfig,
                                               const std::function<void(const EpochReport&)>&,
                                               const std::function<void(index_t, index_t, double)>&);
template std::vector<EpochReport> train<double>(Model<double>&, Optimizer<double>&, const Task<double>&, TrainConfig,
                                                const std::function<void(const EpochReport&)>&,
                                                const std::function<void(index_t, index_t, double)>&);

}  // namespace curv
