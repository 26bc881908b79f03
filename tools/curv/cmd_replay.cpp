// curv replay: re-runs steps of a trajectory recorded by `curv train --record` — from a snapshot
// (step 0 by default) to a later step — and says whether the parameters match the snapshot
// recorded there, bit for bit. The replayed model can be saved.
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "checks.hpp"
#include "commands.hpp"
#include "curv/io/safetensors.hpp"
#include "curv/nn/checkpoint.hpp"
#include "curv/train/trajectory.hpp"
#include "progress.hpp"
#include "provenance.hpp"

namespace curv::cli {

Runner add_replay(CLI::App& app) {
  auto* cmd = app.add_subcommand("replay", "Replay the steps of a recorded training trajectory");
  struct Opts {
    std::string dir, save;
    index_t from = 0, to = -1;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("trajectory", o->dir, "A directory written by curv train --record")->required();
  cmd->add_option("--from", o->from, "The snapshot step to start from")->capture_default_str();
  cmd->add_option("--to", o->to, "The last step to replay (default: the last recorded)");
  cmd->add_option("--save", o->save, "Write the replayed model to this safetensors file");
  return [o] {
    check_writable(o->save, "--save");
    const Trajectory t(o->dir);
    const index_t to = o->to < 0 ? t.steps() : o->to;
    auto model = make_recipe_model<float>(t.recipe());
    auto task = make_recipe_task<float>(t.recipe(), *model);
    auto opt = make_recipe_optimizer<float>(t.recipe());
    // A terminal sees a bar over the replayed steps; nothing else does.
    struct StepBar final : TrainHook<float> {
      Progress bar;
      long done = 0, total = 0;
      void after_step(ParamStore<float>&, Optimizer<float>&) override {
        bar.count(++done, total, "steps replayed");
      }
    } steps;
    steps.total = long(to - o->from);
    RunHooks<float> hooks;
    hooks.hooks.push_back(&steps);
    replay(t, *task, o->from, to, *model, *opt, hooks);
    steps.bar.clear();
    nlohmann::json j = {{"trajectory", o->dir}, {"from", o->from}, {"to", to}};
    const auto& snaps = t.snapshots();
    if (std::find(snaps.begin(), snaps.end(), to) != snaps.end()) {
      auto recorded = make_model<float>(model->name(), model->config());
      const std::string path = t.snapshot_path(to);
      load_parameters(read_safetensors(path), path, model->name(), recorded->params());
      const auto& p = model->params();
      j["matches_snapshot"] = std::memcmp(p.data(), recorded->params().data(),
                                          std::size_t(p.size()) * sizeof(float)) == 0;
    }
    if (!o->save.empty())
      save_checkpoint(*model, o->save, training_metadata(t.recipe())), j["save"] = o->save;
    std::printf("%s\n", j.dump().c_str());
    return 0;
  };
}

}  // namespace curv::cli
