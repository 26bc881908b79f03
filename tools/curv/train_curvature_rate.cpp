#include "train_curvature_rate.hpp"

#include "curv/core/error.hpp"

namespace curv::cli {

void CurvatureRateFlags::add(CLI::App* cmd) {
  auto* g = cmd->add_option_group("curvature schedule",
                                  "--schedule curvature: the rate from Lanczos on the batch "
                                  "Hessian (docs/methods/spectra.md)");
  g->add_option("--curvature-every", learner.every, "Steps between measurements (T)")
      ->capture_default_str();
  g->add_option("--curvature-iterations", learner.iterations, "Lanczos iterations per measurement")
      ->capture_default_str();
  g->add_option("--curvature-batch", learner.batch,
                "Examples of the measured batch (default: --batch)");
  g->add_option("--curvature-fraction", learner.fraction,
                "Fraction of heavy ball's optimal rate (1 + sqrt(beta))^2 / lambda_max")
      ->capture_default_str();
  g->add_option("--max-momentum", learner.max_momentum, "Cap on the learned momentum")
      ->capture_default_str();
  g->add_flag("--fixed-momentum", fixed_momentum,
              "Keep --momentum and learn the rate alone (any optimizer)");
  g->add_option("--curvature-peak", peak,
                "latest (each measurement sets the peak rate) or lowest (a measurement never "
                "raises it)")
      ->capture_default_str();
  g->add_option("--curvature-decay", decay,
                "The shape the learned rate is multiplied by: cosine or none")
      ->capture_default_str();
}

void CurvatureRateFlags::check(const CLI::App& cmd, Recipe& r, bool curvature_schedule) {
  on = curvature_schedule;
  for (const char* flag :
       {"--curvature-every", "--curvature-iterations", "--curvature-batch", "--curvature-fraction",
        "--max-momentum", "--fixed-momentum", "--curvature-peak", "--curvature-decay"})
    CURV_CHECK(on || cmd.count(flag) == 0, "train: ", flag,
               " applies to --schedule curvature, found --schedule ",
               Schedule::kind_name(r.schedule.kind));
  if (!on) return;
  CURV_CHECK(learner.every >= 1, "train: expected --curvature-every T >= 1 steps, found ",
             learner.every);
  CURV_CHECK(learner.iterations >= 2, "train: expected --curvature-iterations >= 2, found ",
             learner.iterations);
  CURV_CHECK(learner.fraction > 0, "train: expected --curvature-fraction > 0, found ",
             learner.fraction);
  CURV_CHECK(learner.max_momentum >= 0 && learner.max_momentum < 1,
             "train: expected --max-momentum in [0, 1), found ", learner.max_momentum);
  CURV_CHECK(decay == "cosine" || decay == "none",
             "train: expected --curvature-decay cosine or none, found '", decay, "'");
  CURV_CHECK(peak == "latest" || peak == "lowest",
             "train: expected --curvature-peak latest or lowest, found '", peak, "'");
  CURV_CHECK(fixed_momentum || r.optimizer == "sgd" || r.optimizer == "lars",
             "train: --schedule curvature learns heavy-ball momentum: expected --optimizer sgd "
             "or lars (or --fixed-momentum), found ",
             r.optimizer);
  CURV_CHECK(!cmd.count("--lr"), "train: --schedule curvature learns the rate: expected no --lr");
  if (!cmd.count("--curvature-batch")) learner.batch = r.batch;
  learner.learn_momentum = !fixed_momentum;
  learner.never_raise = peak == "lowest";
  learner.seed = r.seed;
  r.schedule.kind = decay == "cosine" ? Schedule::Kind::Cosine : Schedule::Kind::Constant;
  r.lr = 1;  // the schedule is the shape; the learner gives the peak
}

std::unique_ptr<spectra::LanczosRateLearner<float>> CurvatureRateFlags::make(
    const Split<float>& train, const std::vector<index_t>& examples) const {
  if (!on) return nullptr;
  return std::make_unique<spectra::LanczosRateLearner<float>>(train, examples, learner);
}

}  // namespace curv::cli
