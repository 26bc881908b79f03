// curv influence-eval's options and its ground truths that retrain or rank (cmd_influence_eval.cpp
// dispatches; influence_eval_truths.cpp holds these).
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "checkpoint_input.hpp"
#include "curv/curvature/gradients.hpp"
#include "curv/data/index_list.hpp"
#include "curv/influence/retrain_warm.hpp"
#include "curv/nn/model.hpp"
#include "progress.hpp"

namespace curv::cli {

struct InfluenceEvalOptions {
  CheckpointInput in;
  bool optimum = false, loo = false, lds = false, mislabel = false, pbrf = false;
  std::string train = "train:all", queries, measurement = "loss", save, pairs, plot, select_by;
  // newton (convex, from θ*), recipe (--lds: from scratch) or warm (networks, from θ*)
  std::string retrain = "newton";
  std::string precision = "float32";  // warm and --pbrf runs
  influence::WarmOptions warm;
  index_t retrain_seeds = 1;
  std::vector<std::string> scores;  // --lds takes several, evaluated on the same retrainings
  double weight_decay = -1, tolerance = 1e-10;
  index_t top = 50, batch = 1024, dense_limit = 10000, subsets = 50;
  double fraction = 0.5;
  std::uint64_t seed = 0;
};

std::string shape_string(const std::vector<std::int64_t>& shape);

// --lds --retrain recipe: m(z'; θ_S) − m(z'; θ*) for each kept list S, θ_S trained from scratch
// by the checkpoint's recorded recipe on S (in float32, as curv train runs it) and θ* the
// checkpoint's parameters.
std::vector<std::vector<double>> recipe_change(const InfluenceEvalOptions& o,
                                               const Model<double>& model,
                                               const Split<double>& query_split,
                                               const std::vector<std::vector<index_t>>& kept,
                                               const IndexList& queries, const Measurement& m,
                                               nlohmann::json& info, Progress& progress);

// --retrain warm and --pbrf: the change of each query for each removed set (indices in the train
// split), in the --precision the runs take.
std::vector<std::vector<double>> warm_change(const InfluenceEvalOptions& o, double wd,
                                             const IndexList& train,
                                             const std::vector<std::vector<index_t>>& removed,
                                             const IndexList& queries, const Measurement& m,
                                             nlohmann::json& info, Progress& progress);

// --mislabel: rank the training examples by each --scores file's self-influence and measure how
// well the top of the ranking finds the examples whose labels the checkpoint's recipe replaced.
// Prints the JSON line; returns the exit code.
int mislabel(const InfluenceEvalOptions& o, const Task<double>& task, const IndexList& train,
             nlohmann::json& info, std::chrono::steady_clock::time_point t0);

}  // namespace curv::cli
