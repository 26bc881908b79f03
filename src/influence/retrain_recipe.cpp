#include "curv/influence/retrain_recipe.hpp"

#include <string>

#include "curv/core/error.hpp"
#include "curv/influence/retrain.hpp"

namespace curv::influence {

template <class T>
RecipeOutcomes recipe_outcomes(const Recipe& recipe, const Task<T>& task,
                               const std::vector<std::vector<index_t>>& kept,
                               const Split<T>& query_split, const std::vector<index_t>& queries,
                               const Measurement& measurement, index_t seeds,
                               const std::function<void(index_t)>& on_model) {
  CURV_CHECK(seeds >= 1, "retraining by recipe: expected seeds >= 1, found ", seeds);
  RecipeOutcomes out;
  index_t models = 0;
  for (std::size_t i = 0; i < kept.size(); ++i) {
    CURV_CHECK(!kept[i].empty(), "retraining by recipe: kept list ", i, " is empty");
    Recipe r = recipe;
    // The kept examples as an index list of train: "i,j,k,…".
    r.examples.clear();
    for (index_t n : kept[i]) r.examples += (r.examples.empty() ? "" : ",") + std::to_string(n);
    r.evaluate.clear();  // measured below, once
    std::vector<double> mean(queries.size(), 0.0);
    for (index_t j = 0; j < seeds; ++j) {
      if (on_model) on_model(models);
      ++models;
      r.seed = recipe.seed + std::uint64_t(j), r.data_seed = recipe.data_seed + std::uint64_t(j);
      auto model = make_recipe_model<T>(r);
      auto opt = make_recipe_optimizer<T>(r);
      const RunSummary s = run_training(r, task, *model, *opt);
      out.steps += s.steps, out.seconds += s.seconds;
      const std::vector<double> v = measurement_values(*model, query_split, queries, measurement);
      for (std::size_t q = 0; q < v.size(); ++q) mean[q] += v[q] / double(seeds);
    }
    out.values.push_back(std::move(mean));
  }
  return out;
}

template RecipeOutcomes recipe_outcomes(const Recipe&, const Task<float>&,
                                        const std::vector<std::vector<index_t>>&,
                                        const Split<float>&, const std::vector<index_t>&,
                                        const Measurement&, index_t,
                                        const std::function<void(index_t)>&);
template RecipeOutcomes recipe_outcomes(const Recipe&, const Task<double>&,
                                        const std::vector<std::vector<index_t>>&,
                                        const Split<double>&, const std::vector<index_t>&,
                                        const Measurement&, index_t,
                                        const std::function<void(index_t)>&);

}  // namespace curv::influence
