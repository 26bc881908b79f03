// TracIn (Pruthi et al. 2020, TracInCP): the first-order trace of how training on z moved the
// query's loss, summed over the checkpoints of a recorded run (train/trajectory.hpp):
//
//   s(z, z') = Σₖ ηₖ ∇m(z'; θₖ)ᵀ ∇ℓ(z; θₖ)
//
// with θₖ the parameters saved after step tₖ and ηₖ the learning rate of that step (the snapshot
// at step 0 is not a checkpoint: no step produced it). It shares influence functions' sign (z
// helps the query when s > 0) but not their s/N scale. One checkpoint gives η·Grad-Dot.
#pragma once

#include <string>
#include <vector>

#include "curv/influence/scores.hpp"
#include "curv/train/trajectory.hpp"

namespace curv::influence {

struct TracinCheckpoint {
  std::string path;  // a safetensors snapshot of the model's parameters
  index_t step = 0;
  double lr = 0;  // ηₖ
};

// Every snapshot of the trajectory after step 0 with its step's learning rate; throws a one-line
// curv::Error when there is none.
std::vector<TracinCheckpoint> tracin_checkpoints(const Trajectory& trajectory);

// The (Q, N) TracIn scores; `model` is loaded with each checkpoint in turn and given back its
// own parameters at the end.
template <class T>
std::vector<double> tracin_scores(Model<T>& model, const std::vector<TracinCheckpoint>& checkpoints,
                                  const Split<T>& train_split, std::vector<index_t> train,
                                  const Split<T>& query_split, std::vector<index_t> queries,
                                  const ScoreOptions& options);

// Self-influence Σₖ ηₖ ‖∇ℓ(z; θₖ)‖² of every listed training example.
template <class T>
std::vector<double> tracin_self_scores(Model<T>& model,
                                       const std::vector<TracinCheckpoint>& checkpoints,
                                       const Split<T>& split, std::vector<index_t> train,
                                       const ScoreOptions& options);

extern template std::vector<double> tracin_scores(Model<float>&,
                                                  const std::vector<TracinCheckpoint>&,
                                                  const Split<float>&, std::vector<index_t>,
                                                  const Split<float>&, std::vector<index_t>,
                                                  const ScoreOptions&);
extern template std::vector<double> tracin_scores(Model<double>&,
                                                  const std::vector<TracinCheckpoint>&,
                                                  const Split<double>&, std::vector<index_t>,
                                                  const Split<double>&, std::vector<index_t>,
                                                  const ScoreOptions&);
extern template std::vector<double> tracin_self_scores(Model<float>&,
                                                       const std::vector<TracinCheckpoint>&,
                                                       const Split<float>&, std::vector<index_t>,
                                                       const ScoreOptions&);
extern template std::vector<double> tracin_self_scores(Model<double>&,
                                                       const std::vector<TracinCheckpoint>&,
                                                       const Split<double>&, std::vector<index_t>,
                                                       const ScoreOptions&);

}  // namespace curv::influence
