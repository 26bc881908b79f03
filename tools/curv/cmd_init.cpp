// curv init: a freshly initialized model written as a checkpoint — the starting point every
// `curv train` run uses for that seed, and a model to ask curvature questions about at
// initialization (Hessian spectra at init, K-FAC factors before training).
#include <cstdio>

#include "commands.hpp"
#include "curv/nn/checkpoint.hpp"

namespace curv::cli {

Runner add_init(CLI::App& app) {
  auto* cmd = app.add_subcommand("init", "Write a freshly initialized model to a checkpoint");
  struct Opts {
    std::string model = "mlp", config = "{}", save;
    std::uint64_t seed = 0;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--model", o->model, "The architecture")->capture_default_str();
  cmd->add_option("--config", o->config, "Its JSON configuration")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Initialization seed (as curv train --seed)")
      ->capture_default_str();
  cmd->add_option("--save", o->save, "The safetensors file to write")->required();
  return [o] {
    auto model = make_model<float>(o->model, o->config);
    Rng rng(o->seed);
    model->init(rng);
    save_checkpoint(*model, o->save);
    std::printf("{\"model\":\"%s\",\"parameters\":%ld,\"save\":\"%s\"}\n", model->name().c_str(),
                long(model->params().size()), o->save.c_str());
    return 0;
  };
}

}  // namespace curv::cli
