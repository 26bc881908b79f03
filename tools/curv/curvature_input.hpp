// What `curv curvature` and `curv spectrum` share: a checkpoint, the examples the curvature is
// defined on (an index list of --data, which may be inputs.npy with --labels), and the
// operator's name and settings.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "checkpoint_input.hpp"
#include "curv/curvature/factory.hpp"
#include "curv/data/task.hpp"
#include "curv/nn/model.hpp"
#include "kfac_flags.hpp"

namespace curv::cli {

struct CurvatureInput : CheckpointInput {
  std::string examples = "0-999";
  index_t batch = 128;
  std::size_t cache_mb = 512;
  std::string op, subset = "all", precision = "float64";
  KfacFlags kfac;
  index_t mc_samples = 1;
  std::uint64_t seed = 0;
  double damping = 0;

  void add_options(CLI::App* cmd);
  // Damping, names and the labels file, checked before any work (the checkpoint is checked by
  // resolve_data, which runs first); without an operator (with_operator false) the rest alone.
  void validate(bool with_operator = true) const;
  OperatorSpec spec() const;
  // --operator kfac --kfac-damping factored: λ is part of the operator's matrix,
  // (A + π√λI) ⊗ (G + √λ/π I), as in the optimizer and the pruner given the same flags.
  bool factored() const;
  // The λ every product and inverse adds as λI: --damping, or 0 where it is inside the matrix.
  double added_damping() const { return factored() ? 0.0 : damping; }
};

// A loaded model, its examples (streamed batch by batch, recordings cached up to --cache-mb) and
// the operator on them.
template <class T>
struct CurvatureSetup {
  std::unique_ptr<Model<T>> model;
  std::unique_ptr<Task<T>> task;
  std::unique_ptr<CurvatureData<T>> data;
  std::unique_ptr<LinearOperator> op;
  std::string examples;
  index_t total_examples = 0;  // on every process (data holds this process's part under mpirun)
  double seconds_setup = 0;
  nlohmann::json describe() const;
  // Memory at the end of a command: peak resident set, the recordings cached and made.
  nlohmann::json memory() const;
};

// Under mpirun with `shard`, each process records its consecutive part of the examples and the
// operator sums the parts' products (distributed/sharded_operator.hpp); without, every process
// builds the whole operator (what a metric applied per process needs).
template <class T>
CurvatureSetup<T> load_curvature(const CurvatureInput& in, bool shard = true);

}  // namespace curv::cli
