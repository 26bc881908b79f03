// curv eval: a checkpoint's held-out metrics, as the one-line JSON summary curv train prints.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "curv/data/task.hpp"
#include "curv/nn/checkpoint.hpp"

namespace curv::cli {

Runner add_eval(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval", "Evaluate a checkpoint on a dataset's held-out split");
  struct Opts {
    std::string checkpoint, data, model, config;
    index_t context = 64;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--checkpoint", o->checkpoint, "A safetensors file")->required();
  cmd->add_option("--data", o->data, "mnist, fashion-mnist, cifar10, moby-dick or t2t-synthetic")
      ->required();
  cmd->add_option("--model", o->model, "The architecture, for files without curv metadata");
  cmd->add_option("--config", o->config, "Its JSON configuration (with --model)");
  cmd->add_option("--context", o->context, "moby-dick: characters per window")
      ->capture_default_str();
  return [o] {
    auto model = load_checkpoint<float>(o->checkpoint, o->model, o->config);
    TaskOptions topt;
    topt.context = o->context;
    auto task = make_task<float>(o->data, model->loss(), topt);
    task->check_model(*model);
    nlohmann::json j = {{"model", model->name()}, {"data", o->data}, {"checkpoint", o->checkpoint}};
    for (const auto& [k, v] : task->evaluate(*model, 128)) j[k] = v;
    std::printf("%s\n", j.dump().c_str());
    return 0;
  };
}

}  // namespace curv::cli
