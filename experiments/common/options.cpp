#include "options.hpp"

#include <cstdio>

#include "curv/train/recorder.hpp"

namespace curv::experiments {

void add_options(CLI::App& app, const std::string& name, Protocol& p, ProtocolOptions& o) {
  app.add_option("--optimizers", p.optimizers, "Which to run")->capture_default_str();
  app.add_option("--epochs", p.base.epochs, "Epochs per run")->capture_default_str();
  app.add_option("--steps", p.base.steps, "Steps per run (when > 0, instead of --epochs)")
      ->capture_default_str();
  app.add_option("--seeds", p.seeds, "Seeds (with --tuning first, the first tunes the rate)")
      ->capture_default_str();
  app.add_option("--eval-every", p.base.eval_every, "Steps between evaluations")
      ->capture_default_str();
  app.add_option("--examples", p.base.examples, "Training examples (an index list, docs/data.md)")
      ->capture_default_str();
  add_output_options(app, o.output, name);
  app.add_option("--target", p.target, "Level of " + p.metric + " whose steps are counted")
      ->capture_default_str();
  app.add_option("--tuning", p.tuning,
                 "first: the grid on the first seed, the best rate on the others; median: every "
                 "rate on every seed, the best median wins")
      ->capture_default_str();
  app.add_flag("--replot", p.replot, "Rebuild the summary and plots from earlier runs' curves");
  app.add_flag("--skip-done", p.skip_done,
               "Read back runs whose curves are already in the output directory; train the rest");
  for (const auto& name : p.optimizers) {
    std::string grid;
    for (double lr : p.grids.at(name)) {
      char v[32];
      std::snprintf(v, sizeof v, "%s%g", grid.empty() ? "" : " ", lr);
      grid += v;
    }
    app.add_option("--" + name + "-lrs", o.grids[name],
                   name + " learning-rate grid (" + grid + ")");
  }
  app.add_option("--damping", o.damping, "kfac/ekfac damping λ, both (0: the program's)");
  app.add_option("--kfac-damping", o.kfac_damping,
                 "kfac/ekfac damping form: eigen or factored (empty: the program's)");
  app.add_option("--kl-clip", o.kl_clip, "kfac/ekfac KL clip κ, both (0: the program's)");
  app.add_option("--fallback-lr", o.fallback_lr,
                 "kfac/ekfac: Adam's rate for parameters outside linear/conv layers");
  app.add_option("--factors", o.factors,
                 "kfac/ekfac output factor: ef, mc or ggn (empty: the program's)");
  app.add_option("--rescale", o.rescale,
                 "kfac/ekfac step sizing: kl, none or qmodel (empty: the program's)");
  app.add_flag("--unscheduled-clip", o.unscheduled_clip,
               "kfac/ekfac: kfac-pytorch's KL clip, ν from the current rate");
  app.add_flag("--restart-scaling", o.restart_scaling,
               "ekfac: restart the scaling at each new basis (no carry-over)");
}

void apply_options(Protocol& p, const ProtocolOptions& o) {
  for (const auto& [name, grid] : o.grids)
    if (!grid.empty()) p.grids[name] = grid;
  for (const char* name : {"kfac", "ekfac"}) {
    auto it = p.settings.find(name);
    if (it == p.settings.end()) continue;
    if (o.damping > 0) it->second.damping = o.damping;
    if (o.kl_clip > 0) it->second.kl_clip = o.kl_clip;
    if (!o.kfac_damping.empty()) it->second.kfac_damping = parse_kfac_damping(o.kfac_damping);
    if (o.fallback_lr > 0) it->second.fallback_lr = o.fallback_lr;
    if (!o.factors.empty()) it->second.factors = parse_factor_kind(o.factors);
    if (!o.rescale.empty()) it->second.rescale = o.rescale;
    if (o.unscheduled_clip) it->second.scheduled_clip = false;
    if (o.restart_scaling) it->second.carry_scaling = false;
  }
}

int run_program(const std::string& name, CLI::App& app, int argc, char** argv, Protocol& p,
                ProtocolOptions& o, const std::function<void(const ProtocolResult&)>& after) {
  set_command_line(argc, argv);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    std::fprintf(stderr, "%s: %s (see %s --help)\n", name.c_str(), e.what(), name.c_str());
    return 2;
  }
  try {
    apply_options(p, o);  // throws on an unknown --factors
    p.out = output_dir(name, o.output);
    const ProtocolResult r = run_protocol(p);
    if (after) after(r);
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), e.what());
    return 1;
  }
}

}  // namespace curv::experiments
