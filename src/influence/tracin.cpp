#include "curv/influence/tracin.hpp"

#include <algorithm>

#include "curv/core/error.hpp"
#include "curv/io/safetensors.hpp"
#include "curv/nn/checkpoint.hpp"

namespace curv::influence {

std::vector<TracinCheckpoint> tracin_checkpoints(const Trajectory& t) {
  std::vector<TracinCheckpoint> out;
  for (index_t step : t.snapshots())
    if (step > 0) out.push_back({t.snapshot_path(step), step, t.step(step).lr});
  CURV_CHECK(!out.empty(), "influence: tracin needs checkpoints after step 0 in ", t.dir(),
             ", found none (record with curv train --record DIR --record-every K)");
  return out;
}

namespace {

// Σₖ ηₖ f(θₖ), accumulated into `sum`, with the model's own parameters restored afterwards.
template <class T, class F>
void over_checkpoints(Model<T>& model, const std::vector<TracinCheckpoint>& checkpoints,
                      std::vector<double>& sum, F&& f) {
  CURV_CHECK(!checkpoints.empty(), "influence: tracin needs at least one checkpoint, found none");
  ParamStore<T>& params = model.params();
  const std::vector<T> own(params.data(), params.data() + params.size());
  try {
    for (const TracinCheckpoint& c : checkpoints) {
      load_parameters(read_safetensors(c.path), c.path, model.name(), params);
      const std::vector<double> s = f();
      if (sum.empty()) sum.assign(s.size(), 0.0);
      for (std::size_t i = 0; i < s.size(); ++i) sum[i] += c.lr * s[i];
    }
  } catch (...) {
    std::copy(own.begin(), own.end(), params.data());
    throw;
  }
  std::copy(own.begin(), own.end(), params.data());
}

}  // namespace

template <class T>
std::vector<double> tracin_scores(Model<T>& model, const std::vector<TracinCheckpoint>& checkpoints,
                                  const Split<T>& train_split, std::vector<index_t> train,
                                  const Split<T>& query_split, std::vector<index_t> queries,
                                  const ScoreOptions& options) {
  IdentityMetric identity(model.params().size());
  std::vector<double> sum;
  over_checkpoints(model, checkpoints, sum, [&] {
    return scores(model, identity, train_split, train, query_split, queries, options);
  });
  return sum;
}

template <class T>
std::vector<double> tracin_self_scores(Model<T>& model,
                                       const std::vector<TracinCheckpoint>& checkpoints,
                                       const Split<T>& split, std::vector<index_t> train,
                                       const ScoreOptions& options) {
  IdentityMetric identity(model.params().size());
  std::vector<double> sum;
  over_checkpoints(model, checkpoints, sum,
                   [&] { return self_scores(model, identity, split, train, options); });
  return sum;
}

template std::vector<double> tracin_scores(Model<float>&, const std::vector<TracinCheckpoint>&,
                                           const Split<float>&, std::vector<index_t>,
                                           const Split<float>&, std::vector<index_t>,
                                           const ScoreOptions&);
template std::vector<double> tracin_scores(Model<double>&, const std::vector<TracinCheckpoint>&,
                                           const Split<double>&, std::vector<index_t>,
                                           const Split<double>&, std::vector<index_t>,
                                           const ScoreOptions&);
template std::vector<double> tracin_self_scores(Model<float>&, const std::vector<TracinCheckpoint>&,
                                                const Split<float>&, std::vector<index_t>,
                                                const ScoreOptions&);
template std::vector<double> tracin_self_scores(Model<double>&,
                                                const std::vector<TracinCheckpoint>&,
                                                const Split<double>&, std::vector<index_t>,
                                                const ScoreOptions&);

}  // namespace curv::influence
