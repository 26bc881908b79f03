// Training: reproducibility, the NaN guard, budgets and evaluations, optimizers, schedules,
// clipping, tasks, checkpoints.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "curv/data/t2t.hpp"
#include "curv/io/safetensors.hpp"
#include "curv/nn/checkpoint.hpp"
#include "curv/nn/objective.hpp"
#include "curv/optim/registry.hpp"
#include "curv/train/run.hpp"
#include "support/toy_data.hpp"

using namespace curv;
using curv::testing::toy_dataset;
using curv::testing::toy_mlp;
namespace fs = std::filesystem;

TEST_CASE("training: two seeded runs are bitwise identical, and the model learns") {
  const auto task = make_image_task<float>(toy_dataset(256, 1), toy_dataset(128, 2));
  auto run = [&] {
    auto model = make_mlp<float>({16, 12, 3}, "tanh");
    Rng rng(3);
    model->init(rng);
    auto opt = make_sgd<float>(0.2, 0.9);
    Recipe r;
    r.epochs = 5, r.batch = 32, r.data_seed = 4, r.lr = 0.2;
    const RunSummary s = run_training<float>(r, *task, *model, *opt);
    CHECK(s.evaluations.size() == 5);  // one per epoch
    CHECK(s.steps == 5 * (256 / 32));
    return std::make_pair(
        std::vector<float>(model->params().data(), model->params().data() + model->params().size()),
        s.evaluations.back().metrics.at("test_accuracy"));
  };
  const auto [p1, acc1] = run();
  const auto [p2, acc2] = run();
  CHECK(p1 == p2);
  CHECK(acc1 == acc2);
  CHECK(acc1 > 0.9);
}

TEST_CASE("a step budget with evaluations every k steps, at the start and at the end") {
  const auto task = make_image_task<float>(toy_dataset(100, 1), toy_dataset(50, 2));
  auto model = toy_mlp(3);
  auto opt = make_sgd<float>(0.1);
  Recipe r;
  r.steps = 23, r.batch = 16, r.eval_every = 10, r.eval_at_start = true;
  r.evaluate = {"test:all", "train:0-9"};
  r.schedule.kind = Schedule::Kind::Cosine;
  std::vector<index_t> steps;
  RunHooks<float> hooks;
  hooks.on_evaluation = [&](const Evaluation& e) { steps.push_back(e.step); };
  const RunSummary s = run_training<float>(r, *task, *model, *opt, hooks);
  CHECK(steps == std::vector<index_t>{0, 10, 20, 23});
  CHECK(s.steps_per_epoch == 100 / 16);
  const Evaluation& last = s.evaluations.back();
  CHECK(last.metrics.count("test_loss") == 1);
  CHECK(last.metrics.count("train_accuracy") == 1);  // scored on the ten listed examples
  CHECK(last.epoch == doctest::Approx(23.0 / 6.0));
  CHECK(std::isnan(s.evaluations.front().batch_loss));  // nothing trained before step 0
  CHECK(std::isfinite(last.batch_loss));
  CHECK(last.lr < r.lr);  // the cosine schedule spans the 23 steps
}

TEST_CASE("training stops at a non-finite loss or gradient, naming the step and the parameter") {
  const auto task = make_image_task<float>(toy_dataset(64, 1), toy_dataset(64, 1));
  auto model = make_mlp<float>({16, 12, 3}, "tanh");
  Rng rng(3);
  model->init(rng);
  auto opt = make_sgd<float>(0.1);
  Recipe r;
  r.batch = 16;
  model->params().data()[0] = NAN;  // fc1.weight
  CHECK_THROWS_WITH_AS(run_training<float>(r, *task, *model, *opt),
                       "train: expected a finite loss, found nan at step 1", Error);
  model->init(rng);
  // An infinite weight in the last layer: the loss is infinite or NaN at once.
  model->params().data()[model->params().info(model->params().find("fc2.bias")).offset] = INFINITY;
  CHECK_THROWS_AS(run_training<float>(r, *task, *model, *opt), Error);
  r.examples = "0-99";  // outside the 64 training examples
  CHECK_THROWS_WITH_AS(run_training<float>(r, *task, *model, *opt),
                       "index list '0-99': expected indices in 0..63 of split toy/train, found 99 "
                       "(item '0-99')",
                       Error);
}

TEST_CASE("the divergence guard stops a run whose loss exceeds a multiple of its first") {
  // Least squares by gradient descent: stable below 2/λ_max of its Hessian, exponentially
  // diverging far above it, where the loss passes 3× the first step's long before it overflows.
  const auto task = make_task<float>("sine", "mse", TaskOptions{});
  auto model = make_model<float>("mlp", R"({"widths":[1,1],"loss":"mse"})");
  Recipe r;
  r.batch = 16, r.steps = 40, r.divergence = 3;
  for (const double lr : {0.01, 100.0}) {
    CAPTURE(lr);
    Rng rng(3);
    model->init(rng);
    auto opt = make_sgd<float>(lr);
    r.lr = lr;  // the run's schedule sets the optimizer's rate every step
    if (lr < 1) {
      CHECK_NOTHROW(run_training<float>(r, *task, *model, *opt));
    } else {
      const std::string message = [&] {
        try {
          run_training<float>(r, *task, *model, *opt);
        } catch (const Error& e) {
          return std::string(e.what());
        }
        return std::string();
      }();
      CHECK(message.find("train: diverged at step ") == 0);
      CHECK(message.find(" × the first step's ") != std::string::npos);
    }
  }
}

TEST_CASE("adam and adamw follow PyTorch's update on a quadratic") {
  // L = ½‖θ‖²: ∇L = θ. Two steps by hand against the optimizer.
  for (bool decoupled : {false, true}) {
    ParamStore<double> ps;
    ps.add("w", Shape{2});
    ps.data()[0] = 1.0, ps.data()[1] = -2.0;
    auto opt = make_adam<double>(0.1, 0.9, 0.999, 1e-8, 0.01, decoupled);
    double th[2] = {1.0, -2.0}, m[2] = {0, 0}, v[2] = {0, 0};
    for (int t = 1; t <= 2; ++t) {
      for (int i = 0; i < 2; ++i) ps.grad()[i] = ps.data()[i];
      opt->step(ps);
      for (int i = 0; i < 2; ++i) {
        double g = th[i];
        if (decoupled)
          th[i] *= 1 - 0.1 * 0.01;
        else
          g += 0.01 * th[i];
        m[i] = 0.9 * m[i] + 0.1 * g;
        v[i] = 0.999 * v[i] + 0.001 * g * g;
        const double mh = m[i] / (1 - std::pow(0.9, t)), vh = v[i] / (1 - std::pow(0.999, t));
        th[i] -= 0.1 * mh / (std::sqrt(vh) + 1e-8);
      }
    }
    CHECK(ps.data()[0] == doctest::Approx(th[0]).epsilon(1e-12));
    CHECK(ps.data()[1] == doctest::Approx(th[1]).epsilon(1e-12));
  }
}

TEST_CASE("learning-rate schedules and gradient clipping") {
  Schedule s;
  s.base_lr = 1.0;
  s.warmup_steps = 4;
  CHECK(s.lr(0) == doctest::Approx(0.25));
  CHECK(s.lr(3) == doctest::Approx(1.0));
  s.kind = Schedule::Kind::Step;
  s.step_size = 10;
  s.gamma = 0.5;
  CHECK(s.lr(4 + 9) == doctest::Approx(1.0));
  CHECK(s.lr(4 + 10) == doctest::Approx(0.5));
  s.kind = Schedule::Kind::Cosine;
  s.total_steps = 104;
  CHECK(s.lr(4 + 50) == doctest::Approx(0.5));
  CHECK(s.lr(104) == doctest::Approx(0.0));
  CHECK_THROWS_WITH_AS(Schedule::kind_from("linear"),
                       "schedule: expected one of constant, step, cosine, found 'linear'", Error);
  std::vector<double> g{3, 4};
  CHECK(clip_grad_norm(g.data(), 2, 1.0) == doctest::Approx(5.0));
  CHECK(g[0] == doctest::Approx(0.6));
  CHECK(g[1] == doctest::Approx(0.8));
  CHECK(clip_grad_norm(g.data(), 2, 10.0) == doctest::Approx(1.0));
  CHECK(g[0] == doctest::Approx(0.6));
}

TEST_CASE("augmentation is seeded: same draws, same batch; it changes images but not labels") {
  Dataset ds = toy_dataset(8, 3);
  const auto task = make_image_task<float>(ds, ds, false, true);
  const Split<float>& train = task->split("train");
  Batch<float> b1, b2, plain;
  const std::vector<index_t> idx{0, 1, 2, 3, 4, 5, 6, 7};
  Rng a(5), b(5);
  train.fill(idx, &a, b1);
  train.fill(idx, &b, b2);
  CHECK(std::equal(b1.x.data(), b1.x.data() + b1.x.numel(), b2.x.data()));
  CHECK(b1.labels == ds.labels);
  train.fill(idx, nullptr, plain);  // no draws: no augmentation (what evaluations see)
  CHECK_FALSE(std::equal(b1.x.data(), b1.x.data() + b1.x.numel(), plain.x.data()));
  Tensor<float> pixels(Shape{8, 1, 4, 4});
  std::vector<std::int64_t> labels(8);
  ds.gather(idx.data(), 8, pixels.data(), labels.data());
  CHECK(std::equal(plain.x.data(), plain.x.data() + plain.x.numel(), pixels.data()));
}

namespace {
struct TempFile {
  std::string path =
      (fs::temp_directory_path() / ("curv-ckpt-" + std::to_string(::getpid()) + ".safetensors"))
          .string();
  ~TempFile() { fs::remove(path); }
};
std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}
void spit(const std::string& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }
}  // namespace

TEST_CASE("checkpoints: round trip, names in PyTorch order, and every corruption named") {
  TempFile f;
  auto model = make_model<float>("lenet5");
  Rng rng(2);
  model->init(rng);
  save_checkpoint(*model, f.path);
  auto back = load_checkpoint<float>(f.path);
  CHECK(back->name() == "lenet5");
  CHECK(std::equal(back->params().data(), back->params().data() + back->params().size(),
                   model->params().data()));
  const Safetensors st = read_safetensors(f.path);
  CHECK(st.metadata.at("curv.model") == "lenet5");
  CHECK(st.tensors.at("conv2.weight").shape == Shape{16, 6, 5, 5});
  CHECK(st.tensors.at("fc1.weight").shape == Shape{120, 400});

  // Another architecture of the same name: the first mismatching tensor is named.
  auto mlp = make_mlp<float>({784, 100, 10});
  save_checkpoint(*mlp, f.path);
  CHECK_THROWS_WITH_AS(
      load_checkpoint<float>(f.path, "mlp", "{}"),
      (f.path + ": expected 'fc1.weight' of shape [256,784], found [100,784]").c_str(), Error);
  CHECK_THROWS_WITH_AS(load_checkpoint<float>(f.path, "lenet5"),
                       (f.path + ": expected a checkpoint of lenet5, found one of mlp").c_str(),
                       Error);

  save_checkpoint(*model, f.path);
  const std::string good = slurp(f.path);
  spit(f.path, good.substr(0, good.size() - 10));  // truncated data
  CHECK_THROWS_WITH_AS(load_checkpoint<float>(f.path),
                       (f.path + ": tensor 'fc3.bias': expected data_offsets within the 246814 "
                                 "data bytes, found [246784, 246824]")
                           .c_str(),
                       Error);
  spit(f.path, good.substr(0, 5));
  CHECK_THROWS_WITH_AS(
      read_safetensors(f.path),
      (f.path + ": expected at least 8 bytes (the header length), found 5").c_str(), Error);
  std::string bad = good;
  bad[0] = char(0xff), bad[1] = char(0xff), bad[2] = char(0xff);  // header length past the end
  spit(f.path, bad);
  CHECK_THROWS_AS(read_safetensors(f.path), Error);
  bad = good;
  const std::string first = "\"data_offsets\":[0,";
  const std::size_t at = bad.find(first);
  REQUIRE(at != std::string::npos);
  bad.replace(at, first.size(), "\"data_offsets\":[4,");  // a range of the wrong length
  spit(f.path, bad);
  CHECK_THROWS_WITH_AS(read_safetensors(f.path),
                       doctest::Contains("expected 600 bytes for F32 [6,1,5,5], found 596"), Error);
  CHECK(fs::exists(f.path));
}

TEST_CASE("character LM task: windows and next-character targets, bigram baseline") {
  const fs::path dir = fs::temp_directory_path() / ("curv-lm-" + std::to_string(::getpid()));
  fs::create_directories(dir / "text");
  std::string text;
  for (int i = 0; i < 400; ++i) text += "abcab cabé ";  // includes a two-byte character
  spit((dir / "text" / "moby-dick.txt").string(), text);
  ::setenv("CURV_DATA", dir.string().c_str(), 1);
  TaskOptions opt;
  opt.context = 8;
  const auto task = make_task<float>("moby-dick", "cross_entropy", opt);
  CHECK(task->split_names() == std::vector<std::string>{"train", "test"});
  ::unsetenv("CURV_DATA");
  fs::remove_all(dir);
  CHECK(task->outputs() == 5);  // ' ', 'a', 'b', 'c', 'é'
  Batch<float> b;
  Rng rng(1);
  const std::vector<index_t> idx{0, 3};
  task->split("train").fill(idx, &rng, b);
  CHECK(b.x.shape() == Shape{2, 8});
  for (index_t i = 0; i < 2; ++i)
    for (index_t t = 0; t + 1 < 8; ++t)
      CHECK(b.labels[std::size_t(i * 8 + t)] == std::int64_t(b.x[i * 8 + t + 1]));
  auto model =
      make_model<float>("transformer", R"({"vocab":5,"d":8,"context":8,"layers":1,"heads":2})");
  Rng init(2);
  model->init(init);
  const Metrics m = task->evaluate(*model, all_of(*task, "test"), 16);
  // The text repeats with period 11: its bigram model is far better than uniform (log 5).
  CHECK(m.at("test_bigram_loss") < 0.8);
  // An untrained model is near uniform.
  CHECK(m.at("test_loss") == doctest::Approx(std::log(5.0)).epsilon(0.05));
}

TEST_CASE("t2t tasks: encoding, held-out split disjoint from training") {
  Rng rng(3);
  for (std::size_t k = 0; k < 3; ++k)
    for (int i = 0; i < 200; ++i) {
      const auto e = t2t::generate(rng, k, false);
      CHECK_FALSE(t2t::held_out(e.source));
      std::vector<float> x(t2t::kSource + t2t::kTarget);
      std::vector<std::int64_t> y(t2t::kTarget);
      t2t::encode(e, x.data(), y.data());
      CHECK(x[t2t::kSource] == float(t2t::kBos));
      std::string decoded;
      for (std::int64_t id : y) {
        if (id == t2t::kEos) break;
        decoded += t2t::character(id);
      }
      CHECK(decoded == e.target);
      if (k == 2) {  // add: the target is the sum
        const auto plus = e.source.find('+');
        CHECK(std::stol(e.source.substr(5, plus - 5)) + std::stol(e.source.substr(plus + 1)) ==
              std::stol(e.target));
      }
    }
  const auto h = t2t::generate(rng, 0, true);
  CHECK(t2t::held_out(h.source));
}

TEST_CASE("dropout: on while the loop records a step, off elsewhere; seeded and replayed exactly") {
  const auto task = make_image_task<float>(toy_dataset(128, 1), toy_dataset(32, 2));
  const std::string head = R"({"input": [1, 4, 4], "layers": [{"type": "flatten"},
    {"type": "linear", "name": "fc1", "out": 12}, {"type": "tanh"})";
  const std::string tail = R"({"type": "linear", "name": "fc2", "out": 3}]})";
  auto model = [&](bool dropout) {
    auto m = make_model<float>(
        "sequential", head + (dropout ? R"(, {"type": "dropout", "p": 0.5}, )" : ", ") + tail);
    Rng rng(3);
    m->init(rng);
    return m;
  };
  auto params = [](Model<float>& m) {
    return std::vector<float>(m.params().data(), m.params().data() + m.params().size());
  };
  // Outside training the layer is the identity: the same outputs as the list without it.
  auto with = model(true), without = model(false);
  REQUIRE(params(*with) == params(*without));
  auto loss = make_loss<float>("cross_entropy");
  Batch<float> b;
  task->split("test").fill(all_of(*task, "test").indices, nullptr, b);
  auto outputs = [&](Model<float>& m) {
    Objective<float> obj(m, *loss);
    obj.set_batch(b.x, b.targets());
    const View<const float> o = obj.output();
    return std::vector<float>(o.begin(), o.end());
  };
  CHECK(outputs(*with) == outputs(*without));
  CHECK(with->training_rng() == nullptr);

  // In training it acts (the runs part), draws from the seeded batch stream (two runs agree)
  // and leaves the model deterministic again after each step.
  auto train = [&](bool dropout, index_t steps, std::vector<index_t>* idx = nullptr,
                   Rng::State* state = nullptr, std::vector<float>* before = nullptr) {
    auto m = model(dropout);
    auto opt = make_sgd<float>(0.2, 0.0);
    TrainLoop<float> loop(*m, *opt, task->split("train"), all_of(*task, "train").indices, 16, 4);
    for (index_t s = 0; s < steps; ++s) {
      if (before) *before = params(*m);
      loop.step(0.2);
      CHECK(m->training_rng() == nullptr);
    }
    if (idx) *idx = loop.batch().indices, *state = loop.batch_state();
    return params(*m);
  };
  const auto dropped = train(true, 3), again = train(true, 3), plain = train(false, 3);
  CHECK(dropped == again);
  CHECK(dropped != plain);
  // A replayed step (the trajectory tools' path) draws the same masks as the step it replays.
  std::vector<index_t> idx;
  Rng::State state;
  std::vector<float> before;
  const auto after = train(true, 5, &idx, &state, &before);
  auto m = model(true);
  std::copy(before.begin(), before.end(), m->params().data());
  auto opt = make_sgd<float>(0.2, 0.0);
  TrainLoop<float> replay(*m, *opt, task->split("train"), all_of(*task, "train").indices, 16, 9);
  replay.replay_step(idx, state, 0.2);
  CHECK(params(*m) == after);
}
