// curv prune: one-shot pruning of a checkpoint's linear and conv2d weights to a target sparsity
// by magnitude, OBD or OBS (dense, WoodFisher blocks, static M-FAC), with the test accuracy
// before and after. The last stdout line is JSON; --save writes the pruned checkpoint with its
// masks (<param>_mask), --scores-out the first step's saliency per parameter.
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "checkpoint_input.hpp"
#include "checks.hpp"
#include "commands.hpp"
#include "curv/data/index_list.hpp"
#include "curv/data/task.hpp"
#include "curv/io/npy.hpp"
#include "curv/nn/checkpoint.hpp"
#include "curv/prune/prune.hpp"
#include "kfac_flags.hpp"
#include "progress.hpp"
#include "provenance.hpp"
#include "readable.hpp"
#include "train_pruning.hpp"

namespace curv::cli {

namespace {

struct Opts : CheckpointInput {
  std::string examples = "0-999", eval = "test:all";
  std::string save, scores_out, block = "128";
  KfacFlags kfac;
  PruneOptions prune;
};

int run(Opts o) {
  o.prune.diagonal = o.kfac.factor_kind();
  o.prune.kfac_damping = o.kfac.damping_kind(), o.prune.kfac_pi = o.kfac.pi_adjusted();
  parse_block(o.block, o.prune);
  check_prune_options(o.prune);
  check_writable(o.save, "--save");
  check_writable(o.scores_out, "--scores-out");
  o.resolve_data("prune");
  auto model = load_checkpoint<float>(o.checkpoint, o.model, o.config);
  auto task = make_task<float>(o.data, model->loss(), o.task);
  task->check_model(*model);
  const IndexList curvature = parse_index_list(o.examples, *task);
  const IndexList eval = parse_index_list(o.eval, *task);
  // A terminal sees each step's stage and a bar over its per-example gradients; nothing else does.
  Progress bar;
  std::string stage;
  o.prune.progress = [&bar, &stage](const std::string& what, long done, long total) {
    if (what != stage) stage = what, bar.restart();  // elapsed and ETA per stage
    if (total > 0)
      bar.count(done, total, what);
    else
      bar.note("prune: " + what);
  };
  bar.note("prune: evaluating the dense model on " + o.eval);
  const Metrics dense = task->evaluate(*model, eval, 256);
  const PruneReport r = prune(*model, task->split(curvature.split), curvature.indices, o.prune);
  bar.note("prune: evaluating the pruned model on " + o.eval);
  const Metrics after = task->evaluate(*model, eval, 256);
  bar.clear();
  if (!o.scores_out.empty())
    write_npy(o.scores_out, r.first_scores.data(), {std::int64_t(r.first_scores.size())});
  if (!o.save.empty()) save_checkpoint(*model, o.save, carried_metadata(o.checkpoint));

  nlohmann::json layers = nlohmann::json::object();
  for (const auto& [name, s] : r.layer_sparsity) layers[name] = s;
  nlohmann::json j = {{"model", model->name()},
                      {"method", o.prune.method},
                      {"target_sparsity", o.prune.sparsity},
                      {"sparsity", r.sparsity},
                      {"layer_sparsity", layers},
                      {"per_layer", o.prune.per_layer},
                      {"recomputations", o.prune.recomputations},
                      {"seconds", r.seconds}};
  if (o.prune.method != "magnitude") j["examples"] = curvature.spec;
  if (o.prune.method != "magnitude" && o.prune.method != "obd") {
    j["grads"] = std::min<index_t>(o.prune.grads, index_t(curvature.indices.size()));
    j["damping"] = o.prune.damping;
    j["taylor"] = o.prune.taylor;
    if (o.prune.method == "mfac") j["float32"] = o.prune.float32;
    if (o.prune.method == "kfac-obs") {
      j["kfac_damping"] = o.kfac.damping;
      if (o.prune.kfac_damping == KfacDamping::Factored) j["pi"] = o.prune.kfac_pi;
    }
  }
  if (o.prune.method == "woodfisher")
    j["block"] = o.prune.layer_blocks ? nlohmann::json("layer") : nlohmann::json(o.prune.block);
  for (const auto& [k, v] : after) j[k] = v;
  for (const auto& [k, v] : dense) j["dense_" + k] = v;
  if (!o.save.empty()) j["save"] = o.save;
  std::printf("%s\n", rounded(j).dump().c_str());
  return 0;
}

}  // namespace

Runner add_prune(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "prune",
      "Prune a checkpoint's weights one-shot: magnitude, OBD, or OBS (dense, WoodFisher, M-FAC)");
  auto o = std::make_shared<Opts>();
  o->add_checkpoint_options(cmd);
  cmd->add_option("--method", o->prune.method,
                  "magnitude, obd, obs-dense, woodfisher, mfac or kfac-obs")
      ->capture_default_str();
  cmd->add_option("--sparsity", o->prune.sparsity, "Fraction of the prunable weights set to zero")
      ->required();
  cmd->add_flag("--per-layer", o->prune.per_layer, "The same sparsity in every layer");
  cmd->add_option("--examples", o->examples,
                  "Examples whose gradients (OBS) or curvature diagonal (OBD) are used")
      ->capture_default_str();
  cmd->add_option("--grads", o->prune.grads, "OBS: m, the per-example gradients in F")
      ->capture_default_str();
  cmd->add_option("--block", o->block, "woodfisher: weights per block, or 'layer' (one per layer)")
      ->capture_default_str();
  cmd->add_option("--damping", o->prune.damping, "OBS: λ of F = λI + (1/m) Σ g gᵀ")
      ->capture_default_str();
  cmd->add_option("--recomputations", o->prune.recomputations,
                  "Steps to the target along a cubic schedule, the curvature estimated at each")
      ->capture_default_str();
  cmd->add_flag("--taylor", o->prune.taylor, "OBS: WoodTaylor (includes the gradient)");
  cmd->add_flag("--float32", o->prune.float32,
                "mfac: the Gram matrix and triangular solve in float32 (about twice as fast)");
  o->kfac.add(cmd, "kfac-obs");
  cmd->get_option("--factors")
      ->description(
          "obd: the diagonal of the ef or ggn; kfac-obs: its output factor G from ef, "
          "mc (sampled labels) or ggn");
  cmd->add_option("--eval", o->eval, "Examples the accuracy is reported on")->capture_default_str();
  cmd->add_option("--save", o->save, "Write the pruned checkpoint (with <param>_mask tensors)");
  cmd->add_option("--scores-out", o->scores_out,
                  "Write the first step's saliency per parameter (.npy, +inf where not prunable)");
  return [o] { return run(*o); };
}

}  // namespace curv::cli
