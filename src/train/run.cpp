#include "curv/train/run.hpp"

#include <cmath>

#include "curv/optim/registry.hpp"
#include "curv/train/trajectory.hpp"

namespace curv {

index_t total_steps(const Recipe& r, index_t per_epoch) {
  CURV_CHECK(r.steps > 0 || r.epochs > 0, "train: expected a budget of --epochs >= 1 or --steps ",
             ">= 1, found ", r.epochs, " epochs and ", r.steps, " steps");
  return r.steps > 0 ? r.steps : r.epochs * per_epoch;
}

template <class T>
std::unique_ptr<Model<T>> make_recipe_model(const Recipe& r) {
  auto model = make_model<T>(r.model, r.config);
  Rng rng(r.seed);
  model->init(rng);
  return model;
}

template <class T>
std::unique_ptr<Optimizer<T>> make_recipe_optimizer(const Recipe& r) {
  SecondOrderConfig cfg = r.second_order;
  cfg.seed = r.seed;
  return make_optimizer<T>(r.optimizer, r.lr, r.momentum, r.nesterov, cfg, r.adam, r.large_batch);
}

template <class T>
std::unique_ptr<Task<T>> make_recipe_task(const Recipe& r, const Model<T>& model) {
  auto task = make_task<T>(r.data, model.loss(), r.task);
  task->check_model(model);
  return task;
}

template <class T>
std::pair<IndexList, std::vector<IndexList>> check_recipe(const Recipe& r, const Task<T>& task,
                                                          const Model<T>& model) {
  task.check_model(model);
  CURV_CHECK(r.eval_every >= 0 && r.eval_batch >= 0, "train: expected an evaluation cadence and ",
             "batch >= 0, found ", r.eval_every, " and ", r.eval_batch);
  CURV_CHECK(r.steps > 0 || r.epochs > 0,
             "train: expected a budget of epochs >= 1 or steps >= ", "1, found ", r.epochs,
             " epochs and ", r.steps, " steps");
  IndexList train = parse_index_list(r.examples, task);
  CURV_CHECK(train.split == "train", "train: expected training examples from the train split, ",
             "found '", r.examples, "' (", train.split, ")");
  CURV_CHECK(r.batch > 0 && r.batch <= train.size(), "train: expected a batch size in 1..",
             train.size(), ", found ", r.batch);
  std::vector<IndexList> scored;
  for (const std::string& spec : r.evaluate) scored.push_back(parse_index_list(spec, task));
  return {std::move(train), std::move(scored)};
}

template <class T>
RunSummary run_training(const Recipe& r, const Task<T>& task, Model<T>& model, Optimizer<T>& opt,
                        const RunHooks<T>& hooks) {
  const auto [train, scored] = check_recipe(r, task, model);
  const index_t eval_batch = r.eval_batch > 0 ? r.eval_batch : r.batch;

  TrainLoop<T> loop(model, opt, task.split("train"), train.indices, r.batch, r.data_seed,
                    r.clip_norm);
  if (r.shards != 1 || hooks.exchange) loop.set_shards(r.shards, hooks.exchange);
  for (const Regularizer<T>* reg : hooks.regularizers) loop.add_regularizer(*reg);
  for (TrainHook<T>* h : hooks.hooks) loop.add_hook(*h);
  const index_t per_epoch = loop.steps_per_epoch(), total = total_steps(r, per_epoch);
  Schedule schedule = r.schedule;
  schedule.base_lr = r.lr;
  if (schedule.total_steps == 0) schedule.total_steps = total;

  RunSummary out;
  out.steps_per_epoch = per_epoch;
  double loss_sum = 0, first_loss = 0;
  index_t loss_count = 0;
  auto evaluate = [&](double lr) {
    if (!hooks.evaluate) return;
    Evaluation e;
    e.step = loop.steps();
    e.epoch = double(loop.steps()) / double(per_epoch);
    e.seconds = loop.seconds();
    e.lr = lr;
    if (loss_count > 0) e.batch_loss = loss_sum / double(loss_count);
    e.damping = opt.damping();
    for (const IndexList& list : scored)
      for (const auto& [k, v] : task.evaluate(model, list, eval_batch)) e.metrics[k] = v;
    loss_sum = 0, loss_count = 0;
    out.evaluations.push_back(e);
    if (hooks.on_evaluation) hooks.on_evaluation(e);
  };

  if (hooks.trajectory) hooks.trajectory->begin(r, task, train, loop);
  if (r.eval_at_start) evaluate(schedule.lr(0));
  while (loop.steps() < total) {
    const double scheduled = schedule.lr(loop.steps());
    const double lr = hooks.rate ? hooks.rate->rate(loop, scheduled / schedule.base_lr) : scheduled;
    CURV_CHECK(std::isfinite(lr) && lr > 0, "train: expected a finite learning rate > 0 at step ",
               loop.steps(), ", found ", lr);
    const double loss = loop.step(lr);
    loss_sum += loss, ++loss_count;
    if (loop.steps() == 1) first_loss = loss;
    CURV_CHECK(r.divergence <= 0 || loss <= r.divergence * first_loss, "train: diverged at step ",
               loop.steps(), ": loss ", loss, " exceeds ", r.divergence, " × the first step's ",
               first_loss);
    const index_t s = loop.steps();
    if (hooks.trajectory) hooks.trajectory->after_step(loop, lr);
    if (hooks.on_step && hooks.log_every > 0 && s % hooks.log_every == 0)
      hooks.on_step(s, total, loss_sum / double(loss_count));
    const bool due = r.eval_every > 0 ? s % r.eval_every == 0 : s % per_epoch == 0;
    if (due || s == total) evaluate(lr);
  }
  if (hooks.trajectory) hooks.trajectory->end(loop);
  out.steps = loop.steps();
  out.seconds = loop.seconds();
  out.activation_bytes = loop.activation_bytes();
  out.state_bytes = opt.state_bytes();
  out.profile = opt.profile();
  return out;
}

template std::unique_ptr<Model<float>> make_recipe_model<float>(const Recipe&);
template std::unique_ptr<Model<double>> make_recipe_model<double>(const Recipe&);
template std::unique_ptr<Optimizer<float>> make_recipe_optimizer<float>(const Recipe&);
template std::unique_ptr<Optimizer<double>> make_recipe_optimizer<double>(const Recipe&);
template std::unique_ptr<Task<float>> make_recipe_task(const Recipe&, const Model<float>&);
template std::unique_ptr<Task<double>> make_recipe_task(const Recipe&, const Model<double>&);
template std::pair<IndexList, std::vector<IndexList>> check_recipe(const Recipe&,
                                                                   const Task<float>&,
                                                                   const Model<float>&);
template std::pair<IndexList, std::vector<IndexList>> check_recipe(const Recipe&,
                                                                   const Task<double>&,
                                                                   const Model<double>&);
template RunSummary run_training(const Recipe&, const Task<float>&, Model<float>&,
                                 Optimizer<float>&, const RunHooks<float>&);
template RunSummary run_training(const Recipe&, const Task<double>&, Model<double>&,
                                 Optimizer<double>&, const RunHooks<double>&);

}  // namespace curv
