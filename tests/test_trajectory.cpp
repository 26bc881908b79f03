// Run records: recipes round-trip through JSON, the run recorder's curve and log, and recorded
// trajectories that replay bit for bit — from the start for every optimizer, from a snapshot
// where the optimizer's state is complete — and refuse data that changed.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "curv/train/recorder.hpp"
#include "curv/train/trajectory.hpp"
#include "support/errors.hpp"
#include "support/toy_data.hpp"

using namespace curv;
using namespace curv::testing;

namespace {

Recipe toy_recipe(const std::string& optimizer) {
  Recipe r;
  r.model = "mlp", r.config = R"({"widths":[16,8,3],"activation":"tanh"})";
  r.optimizer = optimizer, r.lr = 0.05, r.steps = 10, r.batch = 16, r.seed = 3, r.data_seed = 4;
  r.second_order.rescale = "kl", r.second_order.factors = FactorKind::EF;
  r.second_order.damping = 0.1, r.second_order.inverse_every = 3;
  return r;
}

std::vector<float> params_of(const Model<float>& m) {
  return {m.params().data(), m.params().data() + m.params().size()};
}

}  // namespace

TEST_CASE("a recipe round-trips through JSON, and unknown fields are refused") {
  Recipe r = toy_recipe("kfac");
  r.examples = "0-99", r.evaluate = {"test:all", "val:0-9"}, r.task.validation = 0.1;
  r.schedule.kind = Schedule::Kind::Cosine, r.schedule.warmup_steps = 7, r.clip_norm = 2;
  r.second_order.kfac_damping = KfacDamping::Eigen, r.second_order.window = 9;
  const nlohmann::json j = to_json(r);
  CHECK(to_json(recipe_from_json(j)) == j);
  CHECK(recipe_from_json(j).second_order.kfac_damping == KfacDamping::Eigen);
  nlohmann::json bad = j;
  bad["learning_rate"] = 1;
  CHECK(error_of([&] { recipe_from_json(bad); }) ==
        "recipe: expected known recipe fields, found 'learning_rate'");
  bad = j;
  bad["second_order"]["dampign"] = 1;
  CHECK(error_of([&] { recipe_from_json(bad); }) ==
        "second_order: expected known recipe fields, found 'dampign'");
}

TEST_CASE("the run recorder: a curve of every evaluation, a log from start to end") {
  TempDir d;
  Evaluation e;
  e.step = 5, e.seconds = 1.5, e.lr = 0.1, e.batch_loss = 0.7;
  e.metrics = {{"test_loss", 0.6}, {"test_accuracy", 0.8}};
  {
    RunRecorder rec(d.file("c.csv"), d.file("log.jsonl"), toy_recipe("sgd"), {{"note", "x"}});
    rec.evaluation(e);
    CHECK_FALSE(std::filesystem::exists(d.file("c.csv")));  // not before the run ends
    e.step = 10;
    rec.evaluation(e);
    rec.finish({{"done", true}});
  }
  const Curve c = read_curve(d.file("c.csv"));
  CHECK(c.columns == std::vector<std::string>{"step", "epoch", "seconds", "lr", "batch_loss",
                                              "damping", "test_accuracy", "test_loss"});
  CHECK(c.column("step") == std::vector<double>{5, 10});
  CHECK(c.column("test_accuracy") == std::vector<double>{0.8, 0.8});
  CHECK(error_of([&] { c.column("val_loss"); }).find("expected a column 'val_loss'") !=
        std::string::npos);
  std::ifstream log(d.file("log.jsonl"));
  std::vector<nlohmann::json> lines;
  for (std::string l; std::getline(log, l);) lines.push_back(nlohmann::json::parse(l));
  REQUIRE(lines.size() == 4);
  CHECK(lines[0]["event"] == "start");
  CHECK(lines[0]["note"] == "x");
  CHECK(lines[0].contains("git_commit"));
  CHECK(recipe_from_json(lines[0]["recipe"]).optimizer == "sgd");
  CHECK(lines[1]["event"] == "evaluation");
  CHECK(lines[3]["event"] == "end");
  {  // A failed run keeps the rows it had and says why.
    RunRecorder rec(d.file("f.csv"), d.file("f.jsonl"), toy_recipe("sgd"), {});
    rec.evaluation(e);
    rec.failure("train: expected a finite loss");
  }
  CHECK(read_curve(d.file("f.csv")).rows.size() == 1);
}

TEST_CASE("a recorded trajectory replays bit for bit, and refuses data that changed") {
  const auto task = make_image_task<float>(toy_dataset(64, 1), toy_dataset(32, 2));
  for (const char* name : {"sgd", "adam", "kfac"}) {
    CAPTURE(name);
    TempDir d;
    const Recipe r = toy_recipe(name);
    auto model = make_recipe_model<float>(r);
    auto opt = make_recipe_optimizer<float>(r);
    TrajectoryRecorder<float> rec(d.file("t"), 4);
    RunHooks<float> hooks;
    hooks.trajectory = &rec;
    run_training<float>(r, *task, *model, *opt, hooks);
    const Trajectory t(d.file("t"));
    CHECK(t.snapshots() == std::vector<index_t>{0, 4, 8, 10});
    CHECK(t.steps() == 10);
    CHECK(t.step(6).indices.size() == 16);
    // From the start: every optimizer, the same parameters.
    auto again = make_recipe_model<float>(r);
    auto again_opt = make_recipe_optimizer<float>(r);
    replay(t, *task, 0, 10, *again, *again_opt);
    CHECK(params_of(*again) == params_of(*model));
    // From a snapshot: where the optimizer's state is complete.
    auto mid = make_recipe_model<float>(r);
    auto mid_opt = make_recipe_optimizer<float>(r);
    if (std::string(name) == "kfac") {
      CHECK(error_of([&] {
              replay(t, *task, 4, 8, *mid, *mid_opt);
            }).find("expected a complete optimizer state to resume kfac at step 4") !=
            std::string::npos);
    } else {
      replay(t, *task, 4, 8, *mid, *mid_opt);
      auto recorded = make_recipe_model<float>(r);
      auto unused = make_recipe_optimizer<float>(r);
      t.load(8, *recorded, *unused);
      CHECK(params_of(*mid) == params_of(*recorded));
      CHECK(params_of(*mid) != params_of(*model));
    }
    // The same data set with one pixel changed is another data set.
    Dataset changed = toy_dataset(64, 1);
    changed.pixels[5] ^= 1;
    const auto other = make_image_task<float>(changed, toy_dataset(32, 2));
    CHECK(error_of([&] {
            replay(t, *other, 0, 10, *again, *again_opt);
          }).find("expected training data toy/train with fingerprint") != std::string::npos);
    CHECK(error_of([&] { replay(t, *task, 0, 11, *again, *again_opt); }) ==
          "trajectory " + d.file("t") + ": expected steps to replay in 0..10, found 11");
    CHECK(error_of([&] {
            replay(t, *task, 3, 5, *again, *again_opt);
          }).find("expected a snapshot step among those recorded, found 3") != std::string::npos);
    CHECK(error_of([&] { TrajectoryRecorder<float>(d.file("t"), 4); }) ==
          "trajectory: expected a directory without a trajectory, found one in '" + d.file("t") +
              "'");
  }
}
