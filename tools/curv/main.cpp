// curv: neural networks and second-order methods. `curv --help` lists the subcommands.
#include <tbb/global_control.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <set>

#include "checks.hpp"
#include "commands.hpp"
#include "curv/core/error.hpp"
#include "curv/core/version.hpp"
#include "curv/distributed/communicator.hpp"
#include "curv/kernels/parallel.hpp"
#include "curv/train/recorder.hpp"
#include "recipes.hpp"

namespace {

// The subcommands that run on several MPI processes (docs/distributed.md).
const std::set<std::string>& distributed_commands() {
  static const std::set<std::string> names{"train", "curvature", "spectrum", "influence"};
  return names;
}

}  // namespace

int main(int argc, char** argv) {
  curv::set_command_line(argc, argv);  // run records carry it
  // Under mpirun, MPI starts here; one line of any error comes from rank 0 (the processes of a
  // data-parallel run fail together: distributed/communicator.hpp), and MPI ends before exit.
  curv::distributed::Communicator* started = nullptr;
  try {
    started = &curv::distributed::Communicator::world();
  } catch (const curv::Error& e) {
    std::cerr << "curv: " << e.what() << "\n";
    return 1;
  }
  curv::distributed::Communicator& world = *started;
  struct Finalize {
    curv::distributed::Communicator& c;
    ~Finalize() { c.finalize(); }
  } finalize{world};
  CLI::App app{std::string("curv ") + curv::version() + " (" + curv::git_commit() +
               "): neural networks and second-order methods — training, exact curvature products, "
               "K-FAC and the curvature toolkit's solvers"};
  app.require_subcommand(1);
  app.set_version_flag("--version",
                       std::string("curv ") + curv::version() + " (" + curv::git_commit() + ")");
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
  reg(curv::cli::add_influence);
  reg(curv::cli::add_influence_eval);
  reg(curv::cli::add_gradients);
  reg(curv::cli::add_prune);
  reg(curv::cli::add_laplace);
  reg(curv::cli::add_ood);
  reg(curv::cli::add_data);
  reg(curv::cli::add_replay);
  // Every subcommand's help ends with examples that run as written (after tools/setup.sh).
  const std::map<std::string, std::string> examples = {
      {"train",
       "  curv train --model lenet5 --data fashion-mnist --epochs 10 --schedule cosine \\\n"
       "      --save l5.safetensors --log l5.jsonl\n"
       "  curv train --model lenet5 --data fashion-mnist --optimizer kfac --epochs 2\n"
       "  curv train --model-file docs/models/vgg-small.json --data cifar10 --epochs 1\n"
       "  curv train --model lenet5 --data fashion-mnist --epochs 10 --prune gradual "
       "--sparsity 0.9"},
      {"eval",
       "  curv eval --checkpoint l5.safetensors\n"
       "  curv eval --checkpoint l5.safetensors --examples test:class:3 --out logits.npy"},
      {"info", "  curv info --checkpoint l5.safetensors\n  curv info --model transformer"},
      {"init", "  curv init --model mlp --config '{\"widths\":[784,32,10]}' --save m.safetensors"},
      {"curvature",
       "  curv curvature --checkpoint l5.safetensors --data fashion-mnist --operator kfac \\\n"
       "      --damping 1e-3 --product inverse --vector v.npy --out x.npy\n"
       "  curv curvature --checkpoint l5.safetensors --data fashion-mnist --operator ggn "
       "--product diagonal --out d.npy"},
      {"spectrum",
       "  curv spectrum --checkpoint l5.safetensors --data fashion-mnist --operator hessian "
       "--top 5\n"
       "  curv spectrum --checkpoint l5.safetensors --data fashion-mnist --operator ggn "
       "--density --out density.csv\n"
       "  curv spectrum --checkpoint l5.safetensors --data fashion-mnist --operator hessian "
       "--batch-sweep 16,64,256,1024,full --batches 10 --plot sweep.png"},
      {"gradients",
       "  curv gradients --checkpoint l5.safetensors --data fashion-mnist --examples 0-9999 "
       "--project 512 --out g.npy\n"
       "  curv gradients --checkpoint l5.safetensors --data fashion-mnist --mean --out grad.npy"},
      {"prune",
       "  curv prune --checkpoint l5.safetensors --data fashion-mnist --method woodfisher "
       "--sparsity 0.9 \\\n      --save l5-sparse.safetensors"},
      {"laplace",
       "  curv laplace --checkpoint l5.safetensors --weights last --structure kron\n"
       "  curv laplace --checkpoint l5.safetensors --weights all --prior layer --ood mnist"},
      {"ood",
       "  curv ood --checkpoint l5.safetensors --ood mnist --score maxprob,local-ensemble,laplace\n"
       "  curv ood --checkpoint no9.safetensors --in test:all-but:class:9 --out test:class:9"},
      {"influence",
       "  curv influence --checkpoint l5.safetensors --operator ggn --train-subset 0-9999 "
       "--queries test:0-9 \\\n      --method cg --damping 0.01 --out scores.npy"},
      {"influence-eval",
       "  curv influence-eval --optimum --checkpoint lr.safetensors --train-subset train:0-4999 "
       "--save opt.safetensors\n"
       "  curv influence-eval --loo --checkpoint opt.safetensors --train-subset train:0-4999 "
       "--queries test:0-2 \\\n      --scores scores.npy --top 50"},
      {"replay", "  curv train … --record traj/ && curv replay traj/ --from 100"},
      {"check", "  curv check\n  curv check --only conv2d"},
      {"bench",
       "  curv bench --model mlp lenet5\n  curv bench --prune --grads 1024\n  curv bench "
       "--laplace"},
      {"data", "  curv data info cifar10\n  curv data info moby-dick"}};
  for (CLI::App* cmd : app.get_subcommands({}))
    if (const auto it = examples.find(cmd->get_name()); it != examples.end())
      cmd->footer("\nExamples:\n" + it->second);

  // --threads on every subcommand that computes (train and bench define their own).
  int threads = 0;
  for (CLI::App* cmd : app.get_subcommands({}))
    if (!cmd->get_option_no_throw("--threads") &&
        std::set<std::string>{"eval", "curvature", "spectrum", "gradients", "prune", "laplace",
                              "ood", "replay", "check", "influence", "influence-eval"}
            .count(cmd->get_name()))
      cmd->add_option("--threads", threads, "Threads for TBB and BLAS (0: all cores)")
          ->capture_default_str();
  std::vector<std::string> names;
  for (const CLI::App* cmd : app.get_subcommands({})) names.push_back(cmd->get_name());
  if (argc > 1 && argv[1][0] != '-' &&
      std::find(names.begin(), names.end(), argv[1]) == names.end()) {
    const std::string near = curv::cli::closest(argv[1], names);
    if (world.root())
      std::cerr << "curv: unknown subcommand '" << argv[1] << "'"
                << (near.empty() ? "" : ": did you mean '" + near + "'?") << " (see curv --help)\n";
    return 2;
  }
  try {
    // `train --recipe NAME` is the recipe's flags, those on the line taking precedence.
    std::vector<std::string> args(argv, argv + argc);
    try {
      curv::cli::expand_recipe(args);
    } catch (const curv::Error& e) {
      if (world.root()) std::cerr << "curv: " << e.what() << "\n";
      return 2;
    }
    std::vector<char*> expanded;
    for (std::string& a : args) expanded.push_back(a.data());
    app.parse(int(expanded.size()), expanded.data());
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    // Usage errors, like every other error, are one line, pointing to the subcommand's help and,
    // for an unknown option, to the closest one it has.
    CLI::App* cmd = nullptr;
    for (CLI::App* c : app.get_subcommands({}))
      if (c->parsed()) cmd = c;
    std::string hint;
    if (cmd && dynamic_cast<const CLI::ExtrasError*>(&e)) {
      std::vector<std::string> options;
      for (const CLI::Option* opt : cmd->get_options())
        for (const std::string& n : opt->get_lnames()) options.push_back("--" + n);
      for (const std::string& extra : cmd->remaining())
        if (extra.rfind("--", 0) == 0) {
          const std::string near = curv::cli::closest(extra.substr(0, extra.find('=')), options);
          if (!near.empty()) hint = ": did you mean " + near + "?";
          break;
        }
    }
    if (world.root())
      std::cerr << "curv: " << e.what() << hint << " (see curv "
                << (cmd ? cmd->get_name() + " " : std::string()) << "--help)\n";
    return 2;
  }
  try {
    for (auto& [cmd, run] : runners)
      if (cmd->parsed() && world.distributed())
        CURV_CHECK(distributed_commands().count(cmd->get_name()), cmd->get_name(),
                   ": expected one process (it has no data-parallel form), found ", world.size(),
                   " MPI processes");
    CURV_CHECK(threads >= 0, "expected --threads >= 0 (0: all cores), found ", threads);
    std::unique_ptr<tbb::global_control> limit;
    if (threads > 0) {
      limit = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                    threads);
      curv::set_blas_threads(threads);
    }
    for (auto& [cmd, run] : runners)
      if (cmd->parsed()) return run();
  } catch (const curv::Error& e) {
    if (!world.root()) return 1;
    if (isatty(fileno(stderr))) std::cerr << "\r" << std::string(100, ' ') << "\r";  // a bar
    std::cerr << "curv: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "curv: internal error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
