#include "commands.hpp"
namespace curv::cli {
Runner add_data(CLI::App& app) {
  app.add_subcommand("data", "todo");
  return [] { return 0; };
}
}  // namespace curv::cli
