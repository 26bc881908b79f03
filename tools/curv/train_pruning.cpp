#include "train_pruning.hpp"

#include <cmath>

#include "curv/core/error.hpp"
#include "curv/nn/checkpoint.hpp"
#include "curv/optim/registry.hpp"

namespace curv::cli {

void parse_block(const std::string& text, PruneOptions& p) {
  p.layer_blocks = text == "layer";
  if (p.layer_blocks) return;
  std::size_t used = 0;
  long long b = 0;
  try {
    b = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  CURV_CHECK(used == text.size() && used > 0 && b >= 1,
             "--block: expected a positive number of weights or 'layer', found '", text, "'");
  p.block = index_t(b);
}

void add_train_prune_options(CLI::App* cmd, TrainPruneOptions& o) {
  auto* g = cmd->add_option_group("pruning", "--prune gradual|acdc (docs/methods/pruning.md)");
  g->add_option("--prune", o.kind,
                "gradual (Zhu & Gupta, any --prune-method) or acdc (alternating compressed / "
                "decompressed phases)");
  g->add_option("--sparsity", o.sparsity, "The final sparsity of the prunable weights")
      ->capture_default_str();
  g->add_option("--initial-sparsity", o.initial, "gradual: s_i")->capture_default_str();
  g->add_option("--prune-method", o.method,
                "gradual: magnitude, obd, obs-dense, woodfisher, mfac or kfac-obs")
      ->capture_default_str();
  g->add_option("--prune-start", o.start, "gradual: first pruning step (-1: 10 % of the budget)")
      ->capture_default_str();
  g->add_option("--prune-end", o.end, "gradual: last pruning step (-1: 60 % of the budget)")
      ->capture_default_str();
  g->add_option("--prune-every", o.every,
                "gradual: steps between pruning steps (-1: 1/20 of "
                "the span)")
      ->capture_default_str();
  g->add_option("--grads", o.grads, "OBS: m per-example gradients, drawn at each pruning step")
      ->capture_default_str();
  g->add_option("--block", o.block, "woodfisher: weights per block, or 'layer'")
      ->capture_default_str();
  g->add_option("--prune-damping", o.damping, "OBS: λ of F = λI + (1/m) Σ g gᵀ")
      ->capture_default_str();
  g->add_option("--prune-factors", o.factors,
                "obd: diagonal of the ef or ggn; kfac-obs: G's, or 'optimizer' (the K-FAC "
                "optimizer's running factors)")
      ->capture_default_str();
  g->add_option("--acdc-warmup", o.warmup, "acdc: dense steps first (-1: 10 % of the budget)")
      ->capture_default_str();
  g->add_option("--acdc-phase", o.phase, "acdc: steps per phase (-1: 5 % of the budget)")
      ->capture_default_str();
  g->add_option("--acdc-final", o.last,
                "acdc: least steps of the last compressed phase (-1: 15 % of the budget)")
      ->capture_default_str();
  g->add_flag("--acdc-reset-momentum", o.reset_momentum,
              "acdc: restart the optimizer's momentum at each decompression");
  g->add_flag("--acdc-dense-finish", o.dense_finish,
              "acdc: train the last phase dense (the run ends with the dense twin, fine-tuned)");
  g->add_option("--save-dense", o.save_dense, "acdc: write the dense twin to this file");
}

namespace {

index_t share(index_t given, double fraction, index_t total) {
  return given >= 0 ? given : index_t(std::llround(fraction * double(total)));
}

}  // namespace

TrainPruning::TrainPruning(const TrainPruneOptions& o, Model<float>& model,
                           const Optimizer<float>& opt, const Split<float>& split,
                           std::vector<index_t> train, index_t total, std::uint64_t seed)
    : o_(o), model_(model) {
  CURV_CHECK(o.kind == "gradual" || o.kind == "acdc", "--prune: expected gradual or acdc, found '",
             o.kind, "'");
  CURV_CHECK(o.save_dense.empty() || o.kind == "acdc",
             "--save-dense: expected --prune acdc (the dense twin), found --prune ", o.kind);
  CURV_CHECK(!(o.reset_momentum || o.dense_finish) || o.kind == "acdc",
             "--acdc-reset-momentum, --acdc-dense-finish: expected --prune acdc, found --prune ",
             o.kind);
  CURV_CHECK(o.save_dense.empty() || !o.dense_finish,
             "--save-dense: with --acdc-dense-finish the trained model is the dense twin; expected "
             "--save instead");
  if (o.kind == "acdc") {
    CURV_CHECK(o.method == "magnitude", "--prune acdc: expected --prune-method magnitude (AC/DC's ",
               "masks are global magnitude), found '", o.method, "'");
    AcdcSchedule a = make_acdc_schedule(o.sparsity, total, share(o.warmup, 0.10, total),
                                        std::max<index_t>(1, share(o.phase, 0.05, total)),
                                        share(o.last, 0.15, total));
    a.dense_finish = o.dense_finish;
    acdc_ = std::make_unique<AcdcPruning<float>>(model, split, a, o.reset_momentum);
    return;
  }
  GradualSchedule& s = gradual_schedule_;
  s.initial = o.initial, s.final = o.sparsity;
  s.start = share(o.start, 0.10, total), s.end = share(o.end, 0.60, total);
  s.every = o.every >= 0 ? o.every : std::max<index_t>(1, (s.end - s.start) / 20);
  CURV_CHECK(s.end <= total, "--prune-end: expected a step within the budget of ", total,
             ", found ", s.end);
  PruneOptions p;
  p.method = o.method, p.grads = o.grads, p.damping = o.damping;
  const bool running = o.factors == "optimizer";
  if (!running) p.diagonal = parse_factor_kind(o.factors);
  parse_block(o.block, p);
  gradual_ = std::make_unique<GradualPruning<float>>(model, split, std::move(train), s, p, seed,
                                                     running ? &opt : nullptr);
}

TrainHook<float>& TrainPruning::hook() {
  if (acdc_) return *acdc_;
  return *gradual_;
}

void TrainPruning::begin() {
  if (acdc_) acdc_->at(0);
  if (gradual_) gradual_->at(0);
}

double TrainPruning::sparsity() const { return prunable_sparsity(model_.params()).global; }

nlohmann::json TrainPruning::finish(const Task<float>& task, const std::vector<IndexList>& lists,
                                    index_t eval_batch) {
  const Sparsity s = prunable_sparsity(model_.params());
  nlohmann::json layers = nlohmann::json::object();
  for (const auto& [name, v] : s.layers) layers[name] = v;
  nlohmann::json j = {{"prune", o_.kind},
                      {"target_sparsity", o_.sparsity},
                      {"sparsity", s.global},
                      {"layer_sparsity", layers}};
  if (gradual_) {
    j["prune_method"] = o_.method;
    j["prune_start"] = gradual_schedule_.start, j["prune_end"] = gradual_schedule_.end;
    j["prune_every"] = gradual_schedule_.every;
    j["pruning_steps"] = gradual_->pruning_steps();
    j["pruning_seconds"] = gradual_->seconds();
    return j;
  }
  const AcdcSchedule& a = acdc_->schedule();
  j["acdc"] = {{"warmup", a.warmup},
               {"pairs", a.pairs},
               {"phase", a.length},
               {"last", a.last},
               {"reset_momentum", o_.reset_momentum},
               {"dense_finish", a.dense_finish}};
  if (a.dense_finish) return j;  // the trained model is the twin
  // The dense twin: evaluated (and saved) in the model's place, then the sparse model is back.
  ParamStore<float>& ps = model_.params();
  const std::vector<float> sparse(ps.data(), ps.data() + ps.size());
  const std::vector<std::uint8_t> mask = ps.mask();
  const std::vector<float>& twin = acdc_->dense_twin();
  CURV_CHECK(index_t(twin.size()) == ps.size(), "acdc: expected the dense twin of the last ",
             "decompressed phase, found none");
  ps.set_mask({});
  std::copy(twin.begin(), twin.end(), ps.data());
  for (const IndexList& list : lists)
    for (const auto& [k, v] : task.evaluate(model_, list, eval_batch)) j["dense_twin_" + k] = v;
  if (!o_.save_dense.empty())
    save_checkpoint(model_, o_.save_dense), j["save_dense"] = o_.save_dense;
  std::copy(sparse.begin(), sparse.end(), ps.data());
  ps.set_mask(mask);
  return j;
}

}  // namespace curv::cli
