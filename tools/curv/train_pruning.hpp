// Pruning inside `curv train` (--prune gradual|acdc, prune/schedule.hpp): its options, the hook
// it adds to the run, and what it adds to the run's summary. The --block parser is shared with
// `curv prune`.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "curv/data/task.hpp"
#include "curv/prune/schedule.hpp"

namespace curv::cli {

// --block: a positive count of weights, or "layer" (one block per layer).
void parse_block(const std::string& text, PruneOptions& p);

struct TrainPruneOptions {
  std::string kind;  // empty (dense training), gradual or acdc
  double sparsity = 0.9, initial = 0;
  std::string method = "magnitude", block = "128", factors = "ef";
  index_t grads = 100;
  double damping = 1e-5;
  // Steps; -1: gradual from 10 % to 60 % of the budget every 1/20 of that span; acdc's warm-up
  // 10 %, phases 5 %, last compressed phase at least 15 % of the budget.
  index_t start = -1, end = -1, every = -1;
  index_t warmup = -1, phase = -1, last = -1;
  bool reset_momentum = false, dense_finish = false;  // acdc (prune/schedule.hpp)
  std::string save_dense;
};
void add_train_prune_options(CLI::App* cmd, TrainPruneOptions& o);

class TrainPruning {
 public:
  // Checks every option before any work. `train`: the training examples, `total` the budget.
  TrainPruning(const TrainPruneOptions& o, Model<float>& model, const Optimizer<float>& opt,
               const Split<float>& split, std::vector<index_t> train, index_t total,
               std::uint64_t seed);
  TrainHook<float>& hook();
  // The schedule's step 0: pruning due before the first step.
  void begin();
  // The sparsity now, for the evaluations' lines.
  double sparsity() const;
  // The summary's fields: sparsity, layer_sparsity, the schedule; for acdc the dense twin's
  // metrics on `lists` (dense_twin_*), written to --save-dense if asked.
  nlohmann::json finish(const Task<float>& task, const std::vector<IndexList>& lists,
                        index_t eval_batch);

 private:
  TrainPruneOptions o_;
  Model<float>& model_;
  std::unique_ptr<GradualPruning<float>> gradual_;
  std::unique_ptr<AcdcPruning<float>> acdc_;
  GradualSchedule gradual_schedule_;
};

}  // namespace curv::cli
