// The subcommands of the `curv` program: each file cmd_NAME.cpp registers one.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace curv::cli {

// Adds the subcommand to the app; the returned function runs it after parsing (exit code).
using Runner = std::function<int()>;
Runner add_check(CLI::App& app);
Runner add_bench(CLI::App& app);
Runner add_train(CLI::App& app);
Runner add_data(CLI::App& app);
Runner add_eval(CLI::App& app);
Runner add_info(CLI::App& app);
Runner add_curvature(CLI::App& app);
Runner add_spectrum(CLI::App& app);
Runner add_gradients(CLI::App& app);
Runner add_prune(CLI::App& app);
Runner add_laplace(CLI::App& app);
Runner add_ood(CLI::App& app);
Runner add_init(CLI::App& app);
Runner add_replay(CLI::App& app);
Runner add_influence(CLI::App& app);
Runner add_influence_eval(CLI::App& app);

}  // namespace curv::cli
