// What every command that reads a trained model takes, with one wording: the checkpoint (with
// --model/--config for files without curv metadata) and its data, by default the data set and
// input options recorded in the checkpoint (provenance.hpp).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "curv/data/task.hpp"

namespace curv::cli {

struct CheckpointInput {
  std::string checkpoint, model, config, data;
  TaskOptions task;

  // --checkpoint (required), --model, --config, --data, --labels, --standardize, --rotate-test.
  void add_checkpoint_options(CLI::App* cmd);
  // The checkpoint readable, and without --data the recorded data set (a warning on stderr when
  // --data names another); `command` names the subcommand in messages.
  void resolve_data(const char* command);
};

}  // namespace curv::cli
