#include "commands.hpp"
namespace curv::cli {
Runner add_train(CLI::App& app) {
  app.add_subcommand("train", "todo");
  return [] { return 0; };
}
}  // namespace curv::cli
