#include "commands.hpp"
namespace curv::cli {
Runner add_bench(CLI::App& app) {
  app.add_subcommand("bench", "todo");
  return [] { return 0; };
}
}  // namespace curv::cli
