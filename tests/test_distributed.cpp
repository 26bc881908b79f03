// Data parallelism on MPI (distributed/). Run as one process (the fast suite), under
// `mpirun -np 2` and, for the collectives and K-FAC, `-np 4` (the mpi suite): every check holds
// for any number of processes R, comparing the R-process run with one process drawing the same
// R shards (TrainLoop::set_shards).
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "curv/curvature/model_operators.hpp"
#include "curv/data/task.hpp"
#include "curv/distributed/data_parallel.hpp"
#include "curv/distributed/kfac_exchange.hpp"
#include "curv/distributed/sharded_columns.hpp"
#include "curv/distributed/sharded_operator.hpp"
#include "curv/linalg/eigensolvers.hpp"
#include "curv/nn/model.hpp"
#include "curv/optim/registry.hpp"
#include "curv/train/loop.hpp"
#include "support/dense_curvature.hpp"
#include "support/errors.hpp"

using curv::testing::error_of;
using curv::testing::range;

using namespace curv;
using distributed::BucketedAllreduce;
using distributed::Communicator;

namespace {

Communicator& world() { return Communicator::world(); }

// Random 28×28 images of ten classes (what LeNet-5 takes); the labels carry no signal, the
// steps only have to be the same.
Dataset random_images(index_t n, std::uint64_t seed) {
  Dataset ds;
  ds.name = "random/train";
  ds.example = Shape{1, 28, 28};
  ds.classes = 10;
  Rng rng(seed);
  for (index_t i = 0; i < n; ++i) {
    ds.labels.push_back(std::int64_t(rng.below(10)));
    for (index_t j = 0; j < 28 * 28; ++j) ds.pixels.push_back(std::uint8_t(rng.below(256)));
  }
  return ds;
}

template <class T>
std::unique_ptr<Model<T>> lenet(std::uint64_t seed) {
  auto m = make_model<T>("lenet5", "{}");
  Rng rng(seed);
  m->init(rng);
  return m;
}

// 50 steps of LeNet-5 (seed 7) with `opt` at batch 32 and rate lr, on random images: on this
// process's shard with the gradient sums in buckets of `bucket_bytes` (R processes), or on all
// R shards here (not distributed). Returns the parameters; `started_in_sweep` gets the sums
// started during backward sweeps.
template <class T>
std::vector<T> fifty_steps(Optimizer<T>& opt, double lr, bool distributed,
                           std::size_t bucket_bytes = BucketedAllreduce<T>::kDefaultBucketBytes,
                           std::size_t* started_in_sweep = nullptr) {
  const auto task = make_image_task<T>(random_images(256, 1), random_images(8, 2));
  auto model = lenet<T>(7);
  TrainLoop<T> loop(*model, opt, task->split("train"), range(256), 32, 5);
  BucketedAllreduce<T> exchange(world(), model->params(), bucket_bytes);
  loop.set_shards(world().size(), distributed ? &exchange : nullptr);
  for (int s = 0; s < 50; ++s) loop.step(lr);
  if (started_in_sweep) *started_in_sweep = exchange.stats().started_in_sweep;
  const ParamStore<T>& p = model->params();
  return std::vector<T>(p.data(), p.data() + p.size());
}

// fifty_steps with SGD (momentum 0.9) or Adam, at rate 0.05.
template <class T>
std::vector<T> train(const std::string& optimizer, std::size_t bucket_bytes, bool distributed,
                     std::size_t* started_in_sweep = nullptr) {
  auto opt = make_optimizer<T>(optimizer, 0.05, 0.9, false, {});
  return fifty_steps(*opt, 0.05, distributed, bucket_bytes, started_in_sweep);
}

template <class T>
double relative_difference(const std::vector<T>& a, const std::vector<T>& b) {
  double d = 0, n = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    d = std::max(d, std::abs(double(a[i]) - double(b[i]))), n = std::max(n, std::abs(double(b[i])));
  return d / n;
}

// Whether every process holds the same vector, bit for bit.
template <class T>
bool same_everywhere(std::vector<T> v) {
  std::vector<T> root = v;
  world().broadcast(root.data(), root.size());
  int differs = root != v;
  double any = world().sum(double(differs));
  return any == 0;
}

}  // namespace

TEST_CASE("collectives: sums, broadcasts, gathers and agreement over the processes") {
  const int R = world().size(), r = world().rank();
  std::vector<double> x{double(r + 1), 1.0};
  world().allreduce_sum(x.data(), x.size());
  CHECK(x[0] == R * (R + 1) / 2.0);
  CHECK(x[1] == R);
  std::vector<float> y{float(r)};
  auto req = world().iallreduce_sum(y.data(), 1);
  world().wait(req);
  CHECK(!req.active());
  CHECK(y[0] == float(R * (R - 1) / 2));
  std::string s = r == 0 ? "from rank 0" : "";
  world().broadcast(s);
  CHECK(s == "from rank 0");
  const std::vector<float> mine(std::size_t(r + 1), float(r));
  std::vector<std::size_t> counts;
  for (int k = 0; k < R; ++k) counts.push_back(std::size_t(k + 1));
  std::vector<float> all(std::size_t(R * (R + 1) / 2), -1.0f);
  world().gather(mine.data(), counts, all.data());
  if (world().root()) {
    std::size_t at = 0;
    for (int k = 0; k < R; ++k)
      for (int i = 0; i <= k; ++i) CHECK(all[at++] == float(k));
  }
  // An error met by one process only is thrown by all, the same one.
  const int last = R - 1;
  CHECK(error_of([&] {
          world().agree(r == last ? "shard " + std::to_string(last) + " unreadable" : "");
        }) == "shard " + std::to_string(last) + " unreadable");
  world().agree("");  // none: nothing thrown
  // Groups split by parity: each sums its own ranks.
  const auto parity = world().split(r % 2, r);
  CHECK(parity->size() == (R - r % 2 + 1) / 2);
  CHECK(parity->rank() == r / 2);
  double ranks = parity->sum(double(r)), expected = 0;
  for (int k = r % 2; k < R; k += 2) expected += k;
  CHECK(ranks == expected);
}

TEST_CASE(
    "KAISA's grid: a layer's gradient workers are the fraction f of the processes that holds "
    "its owner, and each serves 1/f processes") {
  using distributed::GradientWorkerGrid;
  for (const int R : {1, 2, 4, 6, 12}) {
    for (int c = 1; c <= R; ++c) {
      if (R % c != 0) continue;
      CAPTURE(R);
      CAPTURE(c);
      const auto grid = GradientWorkerGrid::of(R, 1.0 / c);
      CHECK(grid.served == c);
      for (int owner = 0; owner < R; ++owner) {
        CHECK(grid.preconditions(owner, owner));
        // The column, ranks owner % c + i·c: the owner is number refresh_root(owner).
        CHECK(owner % c + grid.refresh_root(owner) * c == owner);
        std::vector<int> served(std::size_t(R), 0);
        int workers = 0;
        for (int p = 0; p < R; ++p) {
          workers += grid.preconditions(p, owner);
          const int w = grid.worker_of(p, owner);
          CHECK(grid.preconditions(w, owner));
          CHECK(w / c == p / c);  // a process's worker is in its row
          if (grid.preconditions(p, owner)) CHECK(w == p);
          ++served[std::size_t(w)];
        }
        CHECK(workers == R / c);
        for (int p = 0; p < R; ++p)
          CHECK(served[std::size_t(p)] == (grid.preconditions(p, owner) ? c : 0));
      }
    }
  }
  CHECK(GradientWorkerGrid::of(6, 0.333).served == 3);  // a typed 1/3
  CHECK(error_of([] { GradientWorkerGrid::of(4, 0.3); }) ==
        "distributed kfac: expected a gradient-worker fraction 1/c with c dividing the 4 "
        "processes (1, 1/2, 1/4), found 0.3");
  CHECK(!error_of([] { GradientWorkerGrid::of(4, 1.0 / 3); }).empty());
  CHECK(!error_of([] { GradientWorkerGrid::of(4, 0); }).empty());
  CHECK(!error_of([] { GradientWorkerGrid::of(4, 2); }).empty());
}

TEST_CASE(
    "data-parallel LeNet-5 in float64: R processes take the steps one process takes on "
    "the same R shards, to 1e-10") {
  for (const std::string opt : {"sgd", "adam"}) {
    CAPTURE(opt);
    std::size_t started = 0;
    // Buckets of 4 KiB: many sums, most started while the backward sweep runs.
    const auto parallel = train<double>(opt, 4 << 10, true, &started);
    const auto one = train<double>(opt, 4 << 10, false);
    CHECK(relative_difference(parallel, one) <= 1e-10);
    CHECK(same_everywhere(parallel));
    if (world().distributed()) {
      CHECK(started > 0);
    } else {  // one process: the exchange is the identity and the run the unsharded one
      CHECK(parallel == one);
    }
  }
}

// 50 K-FAC steps (KL-clipped, inverses every 10 steps, lr 0.01) with `factors`, distributed
// with gradient-worker fraction f, or on all shards here (f = 0). `broadcast_bytes` gets what
// this process broadcast or received during the steps.
std::vector<double> kfac_run(FactorKind factors, double f,
                             std::uint64_t* broadcast_bytes = nullptr) {
  SecondOrderConfig cfg;
  cfg.rescale = "kl", cfg.damping = 0.03, cfg.inverse_every = 10, cfg.factors = factors;
  auto opt = make_optimizer<double>("kfac", 0.01, 0.9, false, cfg);
  std::unique_ptr<distributed::KfacExchange> statistics;
  if (f > 0) {
    statistics = std::make_unique<distributed::KfacExchange>(world(), f);
    opt->distribute(*statistics);
  }
  const std::uint64_t before = distributed::traffic().broadcast_bytes;
  auto params = fifty_steps(*opt, 0.01, f > 0);
  if (broadcast_bytes) *broadcast_bytes = distributed::traffic().broadcast_bytes - before;
  return params;
}

TEST_CASE(
    "distributed K-FAC (KAISA) equals one process's K-FAC on the same shards to 1e-10, "
    "for every gradient-worker fraction and empirical-Fisher or GGN factors") {
  for (const FactorKind factors : {FactorKind::EF, FactorKind::GGN}) {
    const auto one = kfac_run(factors, 0);
    const int R = world().size();
    std::vector<std::uint64_t> bytes(std::size_t(R + 1));  // by c
    for (int c = 1; c <= R; ++c) {                         // f = 1/c, c dividing R
      if (R % c != 0) continue;
      const double f = 1.0 / c;
      CAPTURE(f);
      const auto many = kfac_run(factors, f, &bytes[std::size_t(c)]);
      CHECK(relative_difference(many, one) <= 1e-10);
      CHECK(same_everywhere(many));
    }
    if (R == 1) continue;
    // What the grid sends. LeNet-5's K-FAC layers, (din, out) = (26, 6), (151, 16), (401, 120),
    // (121, 84), (85, 10), hold every parameter (P = 61,706). A step shares the whole
    // preconditioned gradient (float64); a refresh (at steps 1, 11, …, 41) each layer's two
    // damped inverses (factored damping, the default), Σ din² + out² = 227,992 values.
    const std::uint64_t steps = 50 * 8 * 61706, refreshes = 5 * 8 * 227992;
    CHECK(bytes[1] == refreshes);           // f = 1: refreshes to every process, no step shared
    CHECK(bytes[std::size_t(R)] == steps);  // f = 1/R: the owner alone holds its refresh
    for (int c = 2; c < R; ++c)  // between: the steps, and the refreshes of this process's column
      if (R % c == 0)
        CHECK((bytes[std::size_t(c)] > steps && bytes[std::size_t(c)] < steps + refreshes));
  }
  // What cannot be summed across processes is refused by name.
  auto model = lenet<double>(7);
  SecondOrderConfig cfg;
  cfg.rescale = "qmodel";
  distributed::KfacExchange statistics(world(), 1.0);
  auto qmodel = make_optimizer<double>("kfac", 0.01, 0.0, false, cfg);
  CHECK(error_of([&] { qmodel->distribute(statistics); }) ==
        "kfac: expected --rescale kl or none on several processes, found qmodel (its quadratic "
        "model is not summed across processes)");
  cfg.rescale = "kl";
  auto ekfac = make_optimizer<double>("ekfac", 0.01, 0.0, false, cfg);
  CHECK(error_of([&] { ekfac->distribute(statistics); }) ==
        "ekfac: expected kfac or foof on several processes, found ekfac (its re-fitted scaling "
        "is not summed across processes)");
  // A fraction the processes cannot be grouped by, refused before any collective.
  CHECK(error_of([] {
          distributed::KfacExchange bad(world(), 0.3);
        }).starts_with("distributed kfac: expected a gradient-worker fraction 1/c"));
}

TEST_CASE("data-parallel LeNet-5 in float32 (two-process sums are exact in either order): 1e-5") {
  const auto parallel = train<float>("sgd", 64 << 10, true);
  const auto one = train<float>("sgd", 64 << 10, false);
  CHECK(relative_difference(parallel, one) <= 1e-5);
  CHECK(same_everywhere(parallel));
}

TEST_CASE(
    "buckets tile the parameters, last tensor first, and start once their layers are "
    "done") {
  const auto task = make_image_task<double>(random_images(64, 1), random_images(8, 2));
  auto model = lenet<double>(7);
  auto opt = make_optimizer<double>("sgd", 0.05, 0.0, false, {});
  const std::vector<index_t> all = range(64);
  TrainLoop<double> loop(*model, *opt, task->split("train"), all, 8 * world().size(), 5);
  BucketedAllreduce<double> exchange(world(), model->params(), 1);  // one tensor per bucket
  loop.set_shards(world().size(), &exchange);
  loop.step(0.05);
  const auto& b = exchange.buckets();
  REQUIRE(b.size() == std::size_t(model->params().count()));
  index_t end = model->params().size();
  for (std::size_t k = 0; k < b.size(); ++k) {
    CHECK(b[k].end == end);
    end = b[k].begin;
    if (k > 0) CHECK(b[k].ready_after <= b[k - 1].ready_after);
  }
  CHECK(end == 0);
  // The first tensor (conv1's weight) is read by the first node: ready only at the sweep's end.
  CHECK(b.back().ready_after == 0);
}

TEST_CASE(
    "data-parallel bad input: a batch the shards cannot split, no shards, an optimizer "
    "with batch statistics") {
  const auto task = make_image_task<double>(random_images(64, 1), random_images(8, 2));
  auto model = lenet<double>(7);
  const std::vector<index_t> all = range(64);
  auto sgd = make_optimizer<double>("sgd", 0.05, 0.0, false, {});
  TrainLoop<double> odd(*model, *sgd, task->split("train"), all, 9, 5);
  CHECK(error_of([&] { odd.set_shards(2); }) ==
        "train: expected a batch divisible by the 2 shards (processes), found --batch 9");
  CHECK(error_of([&] { odd.set_shards(0); }) == "train: expected at least one shard, found 0");
  auto kfac = make_optimizer<double>("kfac", 0.01, 0.0, false, {});
  TrainLoop<double> k(*model, *kfac, task->split("train"), all, 8, 5);
  BucketedAllreduce<double> exchange(world(), model->params());
  if (world().distributed())
    CHECK(error_of([&] { k.set_shards(world().size(), &exchange); }) ==
          "train: expected an optimizer that reads only the gradient, or one distributed "
          "(Optimizer::distribute), in a data-parallel run, found kfac, whose statistics of the "
          "batch are not summed across processes");
}

TEST_CASE(
    "sharded curvature: GGN·v, H·v and the GGN's diagonal over R processes equal one "
    "process's over all the examples to 1e-12, and Lanczos finds the same top eigenvalue") {
  // 41 examples: shards of unequal size, weighed by their counts.
  const auto task = make_image_task<double>(random_images(41, 3), random_images(8, 2));
  auto model = lenet<double>(7);
  const Split<double>& split = task->split("train");
  const std::vector<index_t> all = range(41);
  const std::vector<index_t> mine = distributed::shard_of(all, world().rank(), world().size());
  CurvatureData<double> full(*model, split, all, 16), part(*model, split, mine, 16);
  const ParamSubset subset = ParamSubset::all(model->params().info());
  const index_t P = model->params().size();
  std::vector<double> v(static_cast<std::size_t>(P)), one(v.size()), many(v.size());
  Rng rng(11);
  for (double& x : v) x = rng.normal();
  for (const ModelCurvature kind : {ModelCurvature::GGN, ModelCurvature::Hessian}) {
    ModelOperator<double> reference(full, kind, subset);
    distributed::ShardedOperator sharded(
        world(), std::make_unique<ModelOperator<double>>(part, kind, subset), index_t(mine.size()),
        41);
    reference.mv(v.data(), one.data());
    sharded.mv(v.data(), many.data());
    CHECK(relative_difference(many, one) <= 1e-12);
    CHECK(same_everywhere(many));
    linalg::KrylovOptions k;
    k.iterations = 20, k.wanted = 1, k.seed = 4;
    const double top = linalg::lanczos(reference, k).values.at(0);
    const double sharded_top = linalg::lanczos(sharded, k).values.at(0);
    CHECK(std::abs(sharded_top - top) <= 1e-10 * std::abs(top));
    if (kind == ModelCurvature::GGN)
      CHECK(relative_difference(sharded.diagonal(), reference.diagonal()) <= 1e-12);
  }
  CHECK(error_of([&] { distributed::shard_of(std::vector<index_t>(1, 0), 1, 2); }) ==
        "shard: expected at least one example per process (2 processes), found 1 examples");
}

TEST_CASE("column shards: whole blocks per process, gathered on rank 0 in the examples' order") {
  // 10 examples in blocks of 3: four blocks (the last of one), split over the processes.
  std::vector<index_t> examples;
  for (index_t i = 0; i < 10; ++i) examples.push_back(100 + i);
  index_t covered = 0;
  for (int r = 0; r < world().size(); ++r) {
    const auto [b, e] = distributed::block_range(10, 3, r, world().size());
    CHECK(b == covered);
    CHECK((b % 3 == 0 || b == 10));
    covered = e;
  }
  CHECK(covered == 10);
  // Two rows: row q, column j holds 1000·q + examples[j], computed by whichever process has j.
  const auto out = distributed::gather_columns(world(), examples, 3, 2, [](std::vector<index_t> p) {
    std::vector<double> block;
    for (index_t q = 0; q < 2; ++q)
      for (index_t i : p) block.push_back(double(1000 * q + i));
    return block;
  });
  if (world().root()) {
    REQUIRE(out.size() == 20);
    for (index_t q = 0; q < 2; ++q)
      for (index_t j = 0; j < 10; ++j) CHECK(out[std::size_t(q * 10 + j)] == 1000.0 * q + 100 + j);
  } else {
    CHECK(out.empty());
  }
}
