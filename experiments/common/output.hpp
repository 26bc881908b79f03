// Where an experiment program writes its rows, curves, tables and plots. By default a folder of
// the build tree, build/experiments/NAME-out[/SUB], so a trial run never touches the committed
// results; --publish writes experiments/NAME/out[/SUB] in the source tree, the data and plots
// the experiment's README shows; --out DIR anywhere else. Relative paths are the caller's.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace curv::experiments {

struct OutputOptions {
  std::string out;       // --out; empty: the default folder
  bool publish = false;  // --publish
  std::string sub;       // a program's own subfolder (the autoencoder's initialization)
};

void add_output_options(CLI::App& app, OutputOptions& o, const std::string& name);
// The folder to write, from the options and the program's NAME (its experiments/ folder).
std::string output_dir(const std::string& name, const OutputOptions& o);

}  // namespace curv::experiments
