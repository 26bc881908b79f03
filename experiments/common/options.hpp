// The command-line options every comparison program shares, over a train/protocol.hpp Protocol:
// --optimizers, --epochs, --steps, --seeds, --eval-every, --examples, --out/--publish
// (common/output.hpp), --target,
// --tuning, --replot, --skip-done, one --NAME-lrs grid per optimizer, and the second-order
// settings --damping, --kfac-damping, --kl-clip, --fallback-lr, --factors, --rescale and
// --unscheduled-clip (kfac and ekfac) and --restart-scaling (ekfac). run_program parses them,
// runs the protocol, and turns every error into one line and an exit code.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "curv/train/protocol.hpp"
#include "output.hpp"

namespace curv::experiments {

struct ProtocolOptions {
  std::map<std::string, std::vector<double>> grids;
  double damping = 0, kl_clip = 0, fallback_lr = 0;  // 0: the program's setting
  std::string factors, rescale, kfac_damping;        // empty: the program's setting
  bool unscheduled_clip = false;  // kfac-pytorch's KL clip (ν from the current rate)
  bool restart_scaling = false;   // ekfac: no scaling carried over to a new basis
  OutputOptions output;           // where p.out points once parsed
};
// NAME: the program's experiments/ folder (for the output paths).
void add_options(CLI::App& app, const std::string& name, Protocol& p, ProtocolOptions& o);
void apply_options(Protocol& p, const ProtocolOptions& o);

// Parses the command line into p (p.out from o.output and NAME), runs the protocol, then `after` on
// its result (a program's own summary), and returns the exit code: 0; 1 with one line "NAME: error"
// on a curv::Error; 2 on a usage error.
int run_program(const std::string& name, CLI::App& app, int argc, char** argv, Protocol& p,
                ProtocolOptions& o, const std::function<void(const ProtocolResult&)>& after = {});

}  // namespace curv::experiments
