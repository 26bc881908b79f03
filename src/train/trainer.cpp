#include "curv/train/trainer.hpp"

#include <chrono>
#include <cmath>
#include <numeric>

#include "curv/loss/loss.hpp"
#include "curv/nn/objective.hpp"

namespace curv {
namespace {

Shape batch_shape(const Dataset& ds, index_t n) {
  Shape s{n};
  for (int i = 0; i < ds.example.rank(); ++i) s.push_back(ds.example[i]);
  return s;
}

// The first parameter whose gradient has a NaN or an infinity, by name.
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
Evaluation evaluate(const Model<T>& model, const Dataset& ds, index_t batch) {
  auto loss = make_loss<T>("cross_entropy");
  Objective<T> obj(model, *loss);
  Tensor<T> x(batch_shape(ds, batch));
  std::vector<std::int64_t> y(static_cast<std::size_t>(batch));
  std::vector<index_t> idx(static_cast<std::size_t>(batch));
  double total = 0;
  index_t correct = 0;
  for (index_t start = 0; start < ds.size(); start += batch) {
    const index_t n = std::min(batch, ds.size() - start);
    std::iota(idx.begin(), idx.begin() + n, start);
    ds.gather(idx.data(), n, x.data(), y.data());
    const View<const T> xv(x.data(), batch_shape(ds, n));
    total += obj.set_batch(xv, Targets<T>{y.data(), {}}) * double(n);
    const View<const T> out = obj.output();
    const index_t C = out.row_size();
    for (index_t i = 0; i < n; ++i) {
      const T* row = out.data + i * C;
      correct += std::max_element(row, row + C) - row == y[static_cast<std::size_t>(i)];
    }
  }
  return {total / double(ds.size()), double(correct) / double(ds.size())};
}

template <class T>
std::vector<EpochReport> train(Model<T>& model, Optimizer<T>& opt, const Dataset& train, const Dataset& test,
                               const TrainConfig& cfg, const std::function<void(const EpochReport&)>& on_epoch,
                               const std::function<void(index_t, double)>& on_step) {
  CURV_CHECK(cfg.batch > 0 && cfg.batch <= train.size(), "train: expected a batch size in 1..", train.size(),
             ", found ", cfg.batch);
  auto loss = make_loss<T>("cross_entropy");
  Objective<T> obj(model, *loss);
  Rng rng(cfg.seed);
  std::vector<index_t> order(static_cast<std::size_t>(train.size()));
  std::iota(order.begin(), order.end(), 0);
  Tensor<T> x(batch_shape(train, cfg.batch));
  std::vector<std::int64_t> y(static_cast<std::size_t>(cfg.batch));
  std::vector<EpochReport> reports;
  index_t step = 0;
  for (index_t epoch = 1; epoch <= cfg.epochs; ++epoch) {
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
    const auto t0 = std::chrono::steady_clock::now();
    double sum = 0;
    index_t batches = 0;
    // Full batches only, so every step sees the same batch size (and the same loss scale).
    for (index_t start = 0; start + cfg.batch <= train.size(); start += cfg.batch) {
      train.gather(order.data() + start, cfg.batch, x.data(), y.data());
      const double l = obj.set_batch(x, Targets<T>{y.data(), {}});
      ++step;
      CURV_CHECK(std::isfinite(l), "train: expected a finite loss, found ", l, " at step ", step);
      obj.gradient(model.params().grad());
      const std::string bad = first_non_finite(model.params());
      CURV_CHECK(bad.empty(), "train: expected finite gradients, found a non-finite one in ", bad, " at step ", step);
      opt.step(model.params());
      sum += l;
      ++batches;
      if (on_step && cfg.log_every > 0 && step % cfg.log_every == 0) on_step(step, l);
    }
    EpochReport r;
    r.epoch = epoch;
    r.steps = step;
    r.train_loss = sum / double(std::max<index_t>(1, batches));
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.test = evaluate(model, test, cfg.eval_batch);
    reports.push_back(r);
    if (on_epoch) on_epoch(r);
  }
  return reports;
}

template Evaluation evaluate<float>(const Model<float>&, const Dataset&, index_t);
template Evaluation evaluate<double>(const Model<double>&, const Dataset&, index_t);
template std::vector<EpochReport> train<float>(Model<float>&, Optimizer<float>&, const Dataset&, const Dataset&,
                                               const TrainConfig&, const std::function<void(const EpochReport&)>&,
                                               const std::function<void(index_t, double)>&);
template std::vector<EpochReport> train<double>(Model<double>&, Optimizer<double>&, const Dataset&, const Dataset&,
                                                const TrainConfig&, const std::function<void(const EpochReport&)>&,
                                                const std::function<void(index_t, double)>&);

}  // namespace curv
