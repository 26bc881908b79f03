// Pruning while training (prune/schedule.hpp): Zhu & Gupta's schedule and AC/DC's phases, and
// both as hooks of the training loop — the sparsity they promise, the mask they hold, the dense
// twin AC/DC keeps.
#include <doctest/doctest.h>

#include <cmath>

#include "curv/data/task.hpp"
#include "curv/optim/registry.hpp"
#include "curv/prune/schedule.hpp"
#include "support/errors.hpp"
#include "support/toy_data.hpp"

using namespace curv;
using namespace curv::testing;

namespace {

std::vector<index_t> all(const Split<float>& s) {
  std::vector<index_t> out(static_cast<std::size_t>(s.size()));
  for (index_t i = 0; i < s.size(); ++i) out[std::size_t(i)] = i;
  return out;
}

// Masked entries are exactly zero; returns how many there are.
index_t masked_zeros(const ParamStore<float>& ps) {
  index_t n = 0;
  for (std::size_t i = 0; i < ps.mask().size(); ++i)
    if (!ps.mask()[i]) {
      CHECK(ps.data()[index_t(i)] == 0.0f);
      ++n;
    }
  return n;
}

}  // namespace

TEST_CASE("the gradual schedule is Zhu & Gupta's cubic, due every k steps and at the end") {
  GradualSchedule g;
  g.initial = 0.2, g.final = 0.9, g.start = 10, g.end = 50, g.every = 15;
  CHECK(g.at(0) == 0.2);
  CHECK(g.at(10) == 0.2);
  CHECK(std::abs(g.at(30) - (0.9 + (0.2 - 0.9) * 0.125)) < 1e-15);  // halfway: (1 − ½)³
  CHECK(g.at(50) == 0.9);
  CHECK(g.at(70) == 0.9);
  std::vector<index_t> due;
  for (index_t t = 0; t <= 60; ++t)
    if (g.due(t)) due.push_back(t);
  CHECK(due == std::vector<index_t>{10, 25, 40, 50});
  g.start = g.end = 0;
  CHECK(g.at(0) == 0.9);  // one-shot at the start
  g.initial = 0.5, g.final = 0.4;
  CHECK(error_of([&] { check_gradual_schedule(g); }) ==
        "gradual pruning: expected the initial sparsity 0.5 <= the final 0.4");
}

TEST_CASE("AC/DC's phases: warm-up, n equal compressed/decompressed pairs, a longer last phase") {
  const AcdcSchedule a = make_acdc_schedule(0.9, 1000, 100, 50, 150);
  // 750 steps between warm-up and the last phase: round(750 / 100) = 8 pairs of 46-step phases.
  CHECK(a.pairs == 8);
  CHECK(a.length == 46);
  CHECK(a.last == 100 + 16 * 46);
  CHECK(a.total - a.last >= 150);
  CHECK(!a.compressed(0));
  CHECK(!a.compressed(99));
  CHECK(a.compressed(100));
  CHECK(a.compressed(145));
  CHECK(!a.compressed(146));
  CHECK(a.compressed(192));
  CHECK(a.compressed(999));
  index_t starts = 0;
  for (index_t t = 0; t < 1000; ++t) starts += a.starts(t);
  CHECK(starts == 2 * 8 + 1);
  CHECK(error_of([] { make_acdc_schedule(1.0, 1000, 100, 50, 150); }) ==
        "acdc: expected a sparsity in (0, 1), found 1");
  CHECK(
      error_of([] { make_acdc_schedule(0.9, 300, 100, 50, 150); }) ==
      "acdc: expected warm-up 100 + two phases of 50 + last phase 150 <= the budget of 300 steps");
}

TEST_CASE("gradual pruning in the loop: sparsity grows on schedule and ends at the target") {
  const auto task = make_image_task<float>(toy_dataset(64, 1), toy_dataset(32, 2));
  const Split<float>& train = task->split("train");
  for (const char* method : {"magnitude", "woodfisher", "mfac"}) {
    CAPTURE(method);
    auto model = toy_mlp(1);
    auto opt = make_optimizer<float>("sgd", 0.05, 0.9, false, {});
    GradualSchedule g;
    g.final = 0.75, g.start = 2, g.end = 20, g.every = 3;
    PruneOptions o;
    o.method = method, o.grads = 16, o.block = 32, o.damping = 1e-3;
    GradualPruning<float> hook(*model, train, all(train), g, o, 5);
    TrainLoop<float> loop(*model, *opt, train, all(train), 16, 3);
    loop.add_hook(hook);
    double last = 0;
    for (index_t t = 1; t <= 30; ++t) {
      loop.step(0.05);
      const double s = prunable_sparsity(model->params()).global;
      CHECK(s >= last);  // pruned weights stay pruned
      // Between pruning steps the sparsity is the schedule's at the last one (to a weight).
      index_t pruned_at = 0;
      for (index_t u = 0; u <= t; ++u)
        if (g.due(u)) pruned_at = u;
      CHECK(std::abs(s - g.at(pruned_at)) <= 1.0 / (8 * 16 + 3 * 8) + 1e-12);
      last = s;
    }
    CHECK(hook.pruning_steps() == 7);  // 2, 5, …, 17, 20
    CHECK(prunable_sparsity(model->params()).global == doctest::Approx(0.75).epsilon(0.01));
    CHECK(masked_zeros(model->params()) > 0);
  }
}

TEST_CASE("AC/DC in the loop: masks in compressed phases only, the twin from the last D phase") {
  const auto task = make_image_task<float>(toy_dataset(64, 1), toy_dataset(32, 2));
  const Split<float>& train = task->split("train");
  auto model = toy_mlp(2);
  auto opt = make_optimizer<float>("sgd", 0.05, 0.9, false, {});
  const AcdcSchedule a = make_acdc_schedule(0.8, 60, 6, 6, 10);
  AcdcPruning<float> hook(*model, train, a);
  TrainLoop<float> loop(*model, *opt, train, all(train), 16, 3);
  loop.add_hook(hook);
  hook.at(0);
  std::vector<float> before_last;
  std::vector<std::uint8_t> last_mask;
  for (index_t t = 0; t < a.total; ++t) {
    // Step t runs under the mask set for it.
    const bool masked = model->params().masked();
    CHECK(masked == a.compressed(t));
    if (masked) {
      CHECK(prunable_sparsity(model->params()).global == doctest::Approx(0.8).epsilon(0.02));
      masked_zeros(model->params());
    }
    if (t == a.last - 1) CHECK(hook.dense_twin().empty());
    loop.step(0.05);
    if (t + 1 == a.last) {  // the end of the last decompressed phase
      before_last.assign(model->params().data(), model->params().data() + model->params().size());
      last_mask = model->params().mask();
    }
  }
  // The step's hook took the twin, then pruned it by magnitude in place: the model after that
  // step is the twin with the new mask applied, and the twin is dense where the mask is not.
  const std::vector<float>& twin = hook.dense_twin();
  REQUIRE(twin.size() == before_last.size());
  index_t dense_where_masked = 0;
  for (std::size_t i = 0; i < twin.size(); ++i) {
    CHECK(before_last[i] == (last_mask[i] ? twin[i] : 0.0f));
    dense_where_masked += !last_mask[i] && twin[i] != 0.0f;
  }
  CHECK(dense_where_masked > 0);
  CHECK(prunable_sparsity(model->params()).global == doctest::Approx(0.8).epsilon(0.02));
}

TEST_CASE("AC/DC options: momentum restarts at each decompression; a dense finish has no mask") {
  const auto task = make_image_task<float>(toy_dataset(64, 1), toy_dataset(32, 2));
  const Split<float>& train = task->split("train");
  auto model = toy_mlp(2);
  auto opt = make_optimizer<float>("sgd", 0.05, 0.9, false, {});
  AcdcSchedule a = make_acdc_schedule(0.8, 60, 6, 6, 10);
  a.dense_finish = true;
  AcdcPruning<float> hook(*model, train, a, /*reset_momentum=*/true);
  TrainLoop<float> loop(*model, *opt, train, all(train), 16, 3);
  loop.add_hook(hook);
  hook.at(0);
  index_t resets = 0;
  for (index_t t = 0; t < a.total; ++t) {
    CHECK(model->params().masked() == a.compressed(t));
    CHECK(a.compressed(t) == (t >= a.warmup && t < a.last && (t - a.warmup) / a.length % 2 == 0));
    loop.step(0.05);
    const std::vector<float> b = opt->state().buffers.at("momentum_buffer");
    const bool zero = std::all_of(b.begin(), b.end(), [](float v) { return v == 0.0f; });
    // Zeroed right after the last step of each compressed phase, and nowhere else (not at the
    // dense finish, which follows a decompressed phase).
    CHECK(zero == (a.compressed(t) && !a.compressed(t + 1)));
    resets += zero;
  }
  CHECK(resets == a.pairs);
  CHECK(hook.dense_twin().empty());
  CHECK(prunable_sparsity(model->params()).global < 0.1);
}
