// A training run, written down once: the recipe (everything that decides the numbers), the one
// driver that carries it out on the training loop — budget, learning-rate schedule, evaluations
// at a cadence on any index lists, trajectory recording — and what it reports. `curv train`,
// every experiment's grid and a replay all run through run_training.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "curv/data/task.hpp"
#include "curv/optim/registry.hpp"
#include "curv/optim/schedule.hpp"
#include "curv/optim/second_order.hpp"
#include "curv/train/loop.hpp"

namespace curv {

struct Recipe {
  // What is learned.
  std::string model = "mlp", config = "{}";
  std::string data = "fashion-mnist";
  TaskOptions task;                               // augmentation, context, validation carve, …
  std::string examples = "all";                   // the training examples, an index list of train
  std::vector<std::string> evaluate{"test:all"};  // index lists scored at every evaluation
  // How.
  std::string optimizer = "sgd";
  double lr = 0.05, momentum = 0.9;
  bool nesterov = false;
  SecondOrderConfig second_order;  // weight_decay for every rule; λ, factors, … for second order
  AdamConfig adam;                 // adam, adamw, lamb: β₁, β₂, ε
  LargeBatchConfig large_batch;    // lars, lamb: trust coefficient, 1-D exclusion
  Schedule schedule;               // kind, warm-up, …; base_lr is lr, total_steps 0 the budget
  double clip_norm = 0;
  // > 0: the run stops with a curv::Error once a step's loss exceeds this times the first
  // step's — divergence short of a non-finite loss (max-stable-rate searches use 3).
  double divergence = 0;
  // How long, and how often it is scored.
  index_t epochs = 1, steps = 0;  // the budget: steps when > 0, else epochs
  index_t batch = 128;
  // Each batch drawn as this many equal shards (TrainLoop::set_shards): a data-parallel run's
  // processes, or one process taking the same steps.
  int shards = 1;
  index_t eval_every = 0;  // steps between evaluations; 0: at every epoch's end
  bool eval_at_start = false;
  index_t eval_batch = 0;  // 0: the training batch size
  // Seeds.
  std::uint64_t seed = 0;       // initialization (and the second-order rules' sampled labels)
  std::uint64_t data_seed = 0;  // shuffling and training draws (augmentation, windows)
};

// One evaluation during a run.
struct Evaluation {
  index_t step = 0;
  double epoch = 0;    // steps / steps per epoch
  double seconds = 0;  // training seconds so far (evaluations and recording excluded)
  double lr = 0;       // the rate of the last step (of the first, at step 0)
  double batch_loss = std::numeric_limits<double>::quiet_NaN();  // mean step loss since the last
  double damping = 0;  // the optimizer's λ (second-order rules; 0 otherwise)
  Metrics metrics;     // "<split>_<metric>" for every evaluated list
};

struct RunSummary {
  std::vector<Evaluation> evaluations;
  index_t steps = 0, steps_per_epoch = 0;
  double seconds = 0;
  std::size_t activation_bytes = 0;                     // the tape's memory for one training batch
  std::size_t state_bytes = 0;                          // the optimizer's
  std::vector<std::pair<std::string, double>> profile;  // the optimizer's seconds by part
};

template <class T>
class TrajectoryRecorder;

// A learning rate decided during the run instead of by the schedule's formula of the step alone:
// before every step the run asks it for the rate, passing the loop (whose model it may measure
// and whose optimizer's momentum it may set) and the schedule's shape at that step, its value
// over its peak (the warm-up ramp, the cosine's decay; 1 throughout for constant). Its
// measurements are training time: it charges their seconds to the loop (TrainLoop::charge).
template <class T>
class RateController {
 public:
  virtual ~RateController() = default;
  virtual double rate(TrainLoop<T>& loop, double shape) = 0;
};

// What a caller adds to a run besides its recipe.
template <class T>
struct RunHooks {
  std::vector<const Regularizer<T>*> regularizers;
  std::vector<TrainHook<T>*> hooks;
  std::function<void(const Evaluation&)> on_evaluation;
  std::function<void(index_t step, index_t total, double loss)> on_step;  // every log_every
  index_t log_every = 0;
  TrajectoryRecorder<T>* trajectory = nullptr;
  RateController<T>* rate = nullptr;  // null: the recipe's schedule alone
  // A data-parallel run: this process computes the exchange's shard of every batch (the
  // recipe's shards must be its processes); evaluations run only where `evaluate` is set.
  GradientExchange<T>* exchange = nullptr;
  bool evaluate = true;
};

// The recipe's model, initialized from its seed, and its optimizer.
template <class T>
std::unique_ptr<Model<T>> make_recipe_model(const Recipe& r);
template <class T>
std::unique_ptr<Optimizer<T>> make_recipe_optimizer(const Recipe& r);
// The recipe's task (make_task with its data and options, for the model's loss).
template <class T>
std::unique_ptr<Task<T>> make_recipe_task(const Recipe& r, const Model<T>& model);

// The recipe's checks against a task and model, all before any work: the model fits the task,
// the index lists parse (training examples from train), the batch fits them, the budget and
// the evaluation cadence are valid. Returns the training list and the evaluated lists.
template <class T>
std::pair<IndexList, std::vector<IndexList>> check_recipe(const Recipe& r, const Task<T>& task,
                                                          const Model<T>& model);

// Trains `model` with `opt` as the recipe says and returns the evaluations. Checks the recipe
// (check_recipe) before the first step; a step that fails (a non-finite loss) throws
// curv::Error.
template <class T>
RunSummary run_training(const Recipe& r, const Task<T>& task, Model<T>& model, Optimizer<T>& opt,
                        const RunHooks<T>& hooks = {});

// The budget in steps for a loop with `per_epoch` steps per epoch; throws on an empty budget.
index_t total_steps(const Recipe& r, index_t per_epoch);

}  // namespace curv
