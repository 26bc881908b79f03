// curv: neural networks and second-order methods. `curv --help` lists the subcommands.
#include <iostream>
#include <map>

#include "commands.hpp"
#include "curv/core/error.hpp"
#include "curv/core/version.hpp"
#include "curv/train/recorder.hpp"

int main(int argc, char** argv) {
  curv::set_command_line(argc, argv);  // run records carry it
  CLI::App app{std::string("curv ") + curv::version() + " (" + curv::git_commit() +
               "): neural networks and second-order methods — training, exact curvature products, "
               "K-FAC and the curvature toolkit's solvers"};
  app.require_subcommand(1);
  std::map<CLI::App*, curv::cli::Runner> runners;
  auto reg = [&](curv::cli::Runner (*add)(CLI::App&)) {
    const std::size_t before = app.get_subcommands({}).size();
    curv::cli::Runner r = add(app);
    runners[app.get_subcommands({})[before]] = std::move(r);
  };
  reg(curv::cli::add_check);
  reg(curv::cli::add_bench);
  reg(curv::cli::add_train);
  reg(curv::cli::add_eval);
  reg(curv::cli::add_info);
  reg(curv::cli::add_init);
  reg(curv::cli::add_curvature);
  reg(curv::cli::add_spectrum);
  reg(curv::cli::add_gradients);
  reg(curv::cli::add_prune);
  reg(curv::cli::add_data);
  reg(curv::cli::add_replay);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    // Usage errors, like every other error, are one line.
    std::cerr << "curv: " << e.what() << " (see curv --help)\n";
    return 2;
  }
  try {
    for (auto& [cmd, run] : runners)
      if (cmd->parsed()) return run();
  } catch (const curv::Error& e) {
    std::cerr << "curv: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "curv: internal error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
