// curv eval: a checkpoint's metrics on any examples (the test split by default), as the one-line
// JSON summary curv train prints.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "checkpoint_input.hpp"
#include "checks.hpp"
#include "commands.hpp"
#include "curv/data/batch_source.hpp"
#include "curv/data/task.hpp"
#include "curv/io/npy.hpp"
#include "curv/nn/checkpoint.hpp"
#include "curv/nn/objective.hpp"
#include "provenance.hpp"
#include "readable.hpp"

namespace curv::cli {

Runner add_eval(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("eval", "Evaluate a checkpoint on a data set (its test split by default)");
  struct Opts : CheckpointInput {
    std::string examples = "test:all", out;
    index_t batch = 128;
  };
  auto o = std::make_shared<Opts>();
  o->add_checkpoint_options(cmd);
  cmd->add_option("--examples", o->examples, "Which examples: an index list (docs/data.md)")
      ->capture_default_str();
  cmd->add_option("--batch", o->batch, "Examples per batch")->capture_default_str();
  cmd->add_option("--context", o->task.context, "moby-dick: characters per window")
      ->capture_default_str();
  cmd->add_option("--out", o->out,
                  "Write the model's outputs (logits) as .npy float32 [rows, C], one row per "
                  "example (per position for sequence models), in --examples order");
  return [o] {
    CURV_CHECK(o->batch >= 1, "eval: expected --batch >= 1, found ", o->batch);
    check_writable(o->out, "--out");
    o->resolve_data("eval");
    auto model = load_checkpoint<float>(o->checkpoint, o->model, o->config);
    auto task = make_task<float>(o->data, model->loss(), o->task);
    task->check_model(*model);
    const IndexList list = parse_index_list(o->examples, *task);
    nlohmann::json j = {{"model", model->name()},
                        {"data", o->data},
                        {"checkpoint", o->checkpoint},
                        {"examples", o->examples}};
    for (const auto& [k, v] : task->evaluate(*model, list, o->batch)) j[k] = v;
    if (!o->out.empty()) {  // the outputs, batch by batch in list order
      auto loss = make_loss<float>(model->loss());
      Objective<float> obj(*model, *loss);
      std::vector<float> logits;
      index_t columns = 0;
      for_each_batch<float>(task->split(list.split), list.indices, o->batch,
                            [&](const Batch<float>& b) {
                              obj.record(b.x);
                              const View<const float> y = obj.output();
                              columns = y.row_size();
                              logits.insert(logits.end(), y.data, y.data + y.numel());
                            });
      const auto rows = std::int64_t(logits.size()) / std::max<std::int64_t>(columns, 1);
      write_npy(o->out, logits.data(), {rows, std::int64_t(columns)});
      j["out"] = o->out;
    }
    std::printf("%s\n", rounded(j).dump().c_str());
    return 0;
  };
}

}  // namespace curv::cli
