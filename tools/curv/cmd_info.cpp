// curv info: what a checkpoint holds — model, configuration, parameter count, tensor table.
#include <cstdio>

#include "commands.hpp"
#include "curv/core/error.hpp"
#include "curv/io/safetensors.hpp"
#include "curv/nn/checkpoint.hpp"

namespace curv::cli {

Runner add_info(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("info", "Describe a checkpoint (or, with --model alone, an architecture)");
  auto path = std::make_shared<std::string>();
  auto model = std::make_shared<std::string>();
  auto config = std::make_shared<std::string>();
  // The same --checkpoint as every other subcommand, or the file alone.
  auto* positional = cmd->add_option("file", *path, "A safetensors file");
  cmd->add_option("--checkpoint", *path, "A safetensors file (or give it alone)")
      ->excludes(positional);
  cmd->add_option("--model", *model,
                  "The architecture (for files without curv metadata, or to describe it)");
  cmd->add_option("--config", *config, "Its JSON configuration");
  return [path, model, config] {
    CURV_CHECK(!path->empty() || !model->empty(),
               "info: expected a checkpoint file or --model, found neither");
    Safetensors st;
    std::unique_ptr<Model<float>> m;
    if (path->empty()) {
      m = make_model<float>(*model, config->empty() ? "{}" : *config);
    } else {
      st = read_safetensors(*path);
      m = load_checkpoint<float>(*path, *model, *config);  // validates names, shapes and dtypes
      std::printf("file:       %s\n", path->c_str());
    }
    std::printf("model:      %s\nconfig:     %s\nparameters: %ld\n", m->name().c_str(),
                m->config().c_str(), long(m->params().size()));
    std::printf("%-28s %-6s %-18s %12s %10s\n", "tensor (flat order)", "dtype", "shape", "offset",
                "count");
    for (const ParamInfo& p : m->params().info())
      std::printf("%-28s %-6s %-18s %12ld %10ld\n", p.name.c_str(),
                  st.tensors.empty() ? "F32" : st.tensors.at(p.name).dtype.c_str(),
                  p.shape.str().c_str(), long(p.offset), long(p.shape.numel()));
    if (m->params().masked()) {  // a pruned checkpoint: its <param>_mask tensors
      std::printf("pruned (masks):\n");
      for (index_t i = 0; i < m->params().count(); ++i)
        if (const index_t z = m->params().masked_count(i); z > 0)
          std::printf("%-28s %ld of %ld zero (%.2f %%)\n",
                      (m->params().info(i).name + "_mask").c_str(), long(z),
                      long(m->params().info(i).shape.numel()),
                      100.0 * double(z) / double(m->params().info(i).shape.numel()));
    }
    return 0;
  };
}

}  // namespace curv::cli
