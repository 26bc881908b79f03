// Retraining a network from scratch by its training recipe: the ground truth of the linear
// datamodeling score for models Newton's method cannot retrain (influence/retrain.hpp is the
// convex one), as TRAK and dattri measure it. For each list of kept training examples the
// recipe's model is initialized from its seed and trained by run_training (train/run.hpp) on
// those examples alone — the recipe's optimizer, batch, schedule and budget (its epochs over the
// kept examples, or its steps) — and the queries' measurement m(z'; θ_kept) is taken.
//
// Training noise is part of such a ground truth. Two things keep it down: `seeds` models per
// list, with initialization and data-order seeds seed + j and data_seed + j (j = 0..seeds−1), are
// averaged; and the j-th seeds are the same for every list, so lists differ by their data and not
// by their draws (common random numbers).
#pragma once

#include <functional>
#include <vector>

#include "curv/curvature/gradients.hpp"
#include "curv/train/run.hpp"

namespace curv::influence {

struct RecipeOutcomes {
  std::vector<std::vector<double>> values;  // [list][query]: m(z'; θ_list), mean over the seeds
  index_t steps = 0;                        // optimizer steps in all
  double seconds = 0;                       // training seconds in all
};

// Throws a one-line curv::Error for seeds < 1, an empty list, or anything run_training refuses
// (a batch larger than a list, say). `on_model(i)` is called before the i-th model (progress).
template <class T>
RecipeOutcomes recipe_outcomes(const Recipe& recipe, const Task<T>& task,
                               const std::vector<std::vector<index_t>>& kept,
                               const Split<T>& query_split, const std::vector<index_t>& queries,
                               const Measurement& measurement, index_t seeds,
                               const std::function<void(index_t)>& on_model = {});

extern template RecipeOutcomes recipe_outcomes(const Recipe&, const Task<float>&,
                                               const std::vector<std::vector<index_t>>&,
                                               const Split<float>&, const std::vector<index_t>&,
                                               const Measurement&, index_t,
                                               const std::function<void(index_t)>&);
extern template RecipeOutcomes recipe_outcomes(const Recipe&, const Task<double>&,
                                               const std::vector<std::vector<index_t>>&,
                                               const Split<double>&, const std::vector<index_t>&,
                                               const Measurement&, index_t,
                                               const std::function<void(index_t)>&);

}  // namespace curv::influence
