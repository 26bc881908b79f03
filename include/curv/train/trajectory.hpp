// Trajectories: a training run recorded so that it can be replayed exactly and revisited —
// TracIn sums over its checkpoints, HYDRA differentiates through its steps. A directory holding
//   trajectory.json             the recipe, the model, the training data's fingerprint and
//                               examples, the batch size, the snapshots and step segments so far
//   step-NNNNNNNN.safetensors   parameters and optimizer state ("optimizer.<buffer>") every
//                               `every` steps, at step 0 and at the end; `curv eval` loads them
//   steps-F-L.npy               int64 (k, B): the example indices of steps F..L
//   draws-F-L.npy               int64 (k, 6): the batch generator's state before each step's fill
//                               (four words, the cached normal's bits, whether it is cached)
//   lr-F-L.npy                  float64 (k): each step's learning rate
// Every file is written to a temporary name and renamed, the manifest last, so a trajectory cut
// short by a crash is still valid up to its last snapshot.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "curv/train/run.hpp"

namespace curv {

template <class T>
class TrajectoryRecorder {
 public:
  // Records into `dir` (created if missing; a directory holding a trajectory already is
  // refused), with a snapshot every `every` steps.
  TrajectoryRecorder(std::string dir, index_t every);
  ~TrajectoryRecorder();

  // Called by run_training: before the first step, after every step, after the last.
  void begin(const Recipe& r, const Task<T>& task, const IndexList& train, TrainLoop<T>& loop);
  void after_step(TrainLoop<T>& loop, double lr);
  void end(TrainLoop<T>& loop);

 private:
  void snapshot(TrainLoop<T>& loop);
  void flush_segment(index_t last_step);
  void write_manifest();
  struct Impl;
  std::unique_ptr<Impl> impl_;  // owns the manifest and the pending segment
};

// A recorded trajectory, read back.
class Trajectory {
 public:
  // Reads dir/trajectory.json; throws curv::Error naming what is missing or malformed.
  explicit Trajectory(std::string dir);
  const Recipe& recipe() const { return recipe_; }
  const std::string& dir() const { return dir_; }
  const std::vector<index_t>& snapshots() const { return snapshots_; }
  index_t steps() const { return steps_; }  // the last step recorded
  std::string snapshot_path(index_t step) const;

  // The batch indices, generator state and learning rate of recorded step s (1-based).
  struct Step {
    std::vector<index_t> indices;
    Rng::State draw;
    double lr;
  };
  Step step(index_t s) const;

  // Throws unless `task`'s training split and examples are those recorded (same fingerprint).
  template <class T>
  void check_data(const Task<T>& task) const;
  // Loads the snapshot at `step` into the model and the optimizer (whose state must be complete
  // unless step is 0).
  template <class T>
  void load(index_t step, Model<T>& model, Optimizer<T>& opt) const;

 private:
  std::string dir_;
  Recipe recipe_;
  std::vector<index_t> snapshots_;
  struct Segment {
    index_t first, last;
  };
  std::vector<Segment> segments_;
  index_t steps_ = 0, batch_ = 0;
  std::string model_, split_, examples_;
  std::uint64_t fingerprint_ = 0, examples_hash_ = 0;
};

// Replays steps from+1 .. to of a recorded run into `model` and `opt`, built from the recipe
// (make_recipe_model/optimizer): loads the snapshot at `from` (a snapshot step), then re-runs each
// recorded batch with its learning rate through a TrainLoop with `hooks`' regularizers and hooks
// — the same steps, bit for bit, on the same build and thread count.
template <class T>
void replay(const Trajectory& t, const Task<T>& task, index_t from, index_t to, Model<T>& model,
            Optimizer<T>& opt, const RunHooks<T>& hooks = {});

}  // namespace curv
