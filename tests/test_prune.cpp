// Optimal Brain Surgeon on random small problems (float64): the dense, block and M-FAC forms of
// the damped empirical Fisher's inverse agree; removing one weight changes the quadratic model
// by exactly its score; the joint update is the constrained minimizer and zeroes its set; the
// WoodFisher rule is the single-weight corrections summed; WoodTaylor at g = 0 is WoodFisher.
#include <doctest/doctest.h>

#include <cmath>

#include "curv/check/check.hpp"
#include "curv/core/rng.hpp"
#include "curv/curvature/kfac.hpp"
#include "curv/io/safetensors.hpp"
#include "curv/linalg/dense.hpp"
#include "curv/nn/checkpoint.hpp"
#include "curv/optim/registry.hpp"
#include "curv/prune/obs.hpp"
#include "curv/prune/prune.hpp"
#include "curv/train/run.hpp"
#include "support/dense_curvature.hpp"
#include "support/errors.hpp"
#include "support/memory_split.hpp"
#include "support/toy_data.hpp"

using namespace curv;
using namespace curv::testing;
using curv::check::relative_error;
using Vec = std::vector<double>;

namespace {

struct Problem {
  index_t m, d;
  double lambda;
  Vec G, w, F;  // gradients (m, d), weights, the dense F = λI + GᵀG/m
};

Problem random_problem(index_t m, index_t d, double lambda, std::uint64_t seed) {
  Problem p{
      m, d, lambda, Vec(std::size_t(m * d)), Vec(std::size_t(d)), Vec(std::size_t(d * d), 0.0)};
  Rng rng(seed);
  for (auto& x : p.G) x = rng.normal();
  for (auto& x : p.w) x = rng.normal();
  for (index_t i = 0; i < m; ++i)
    for (index_t a = 0; a < d; ++a)
      for (index_t b = 0; b < d; ++b)
        p.F[std::size_t(a * d + b)] +=
            p.G[std::size_t(i * d + a)] * p.G[std::size_t(i * d + b)] / double(m);
  for (index_t a = 0; a < d; ++a) p.F[std::size_t(a * d + a)] += lambda;
  return p;
}

double quad(const Vec& F, const Vec& x) {  // ½ xᵀFx
  const auto d = x.size();
  double q = 0;
  for (std::size_t a = 0; a < d; ++a)
    for (std::size_t b = 0; b < d; ++b) q += x[a] * F[a * d + b] * x[b];
  return q / 2;
}

Vec minus(const Vec& a, const Vec& b) {
  Vec c(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) c[i] = a[i] - b[i];
  return c;
}

}  // namespace

TEST_CASE(
    "dense, one-block and M-FAC inverses of the same Fisher agree, and pick the same weights") {
  const Problem p = random_problem(12, 40, 0.1, 1);
  auto dense = dense_fisher_inverse(p.G, p.m, p.d, p.lambda);
  auto block = block_fisher_inverse(p.G, p.m, p.d, p.lambda, p.d);
  auto mfac = mfac_fisher_inverse(p.G, p.m, p.d, p.lambda);
  const Vec ref = dense->inverse_diagonal();
  CHECK(relative_error(block->inverse_diagonal(), ref) <= 1e-10);
  CHECK(relative_error(mfac->inverse_diagonal(), ref) <= 1e-10);
  // The dense reference itself: F · F⁻¹x = x.
  const Vec x = p.w, y = dense->solve(x);
  Vec back(x.size(), 0.0);
  for (index_t a = 0; a < p.d; ++a)
    for (index_t b = 0; b < p.d; ++b)
      back[std::size_t(a)] += p.F[std::size_t(a * p.d + b)] * y[std::size_t(b)];
  CHECK(relative_error(back, x) <= 1e-12);

  const std::vector<std::uint8_t> all(static_cast<std::size_t>(p.d), 1);
  const auto Q = lowest_scores(obs_scores(p.w, *dense), 15, all);
  CHECK(lowest_scores(obs_scores(p.w, *block), 15, all) == Q);
  CHECK(lowest_scores(obs_scores(p.w, *mfac), 15, all) == Q);
  const Vec wd = woodfisher_update(p.w, Q, *dense);
  CHECK(relative_error(woodfisher_update(p.w, Q, *block), wd) <= 1e-8);
  CHECK(relative_error(woodfisher_update(p.w, Q, *mfac), wd) <= 1e-8);
  for (index_t q : Q) CHECK(wd[std::size_t(q)] == 0.0);
}

TEST_CASE("float32 M-FAC is the float64 inverse to float32's precision") {
  const Problem p = random_problem(12, 40, 0.1, 3);
  auto ref = mfac_fisher_inverse(p.G, p.m, p.d, p.lambda);
  auto f32 = mfac_fisher_inverse(std::vector<float>(p.G.begin(), p.G.end()), p.m, p.d, p.lambda);
  // The gradients themselves were rounded to float32: 1e-7 relative, amplified by F's condition
  // number (about 100 here) and the 1 − ΣW² cancellation.
  CHECK(relative_error(f32->inverse_diagonal(), ref->inverse_diagonal()) <= 1e-5);
  CHECK(relative_error(f32->solve(p.w), ref->solve(p.w)) <= 1e-5);
  CHECK(relative_error(f32->inverse_diagonal(), ref->inverse_diagonal()) > 0);  // truly float32
  std::vector<float> bad(static_cast<std::size_t>(p.m * p.d), 1.0f);
  bad[3] = std::nanf("");
  CHECK(error_of([&] { mfac_fisher_inverse(bad, p.m, p.d, p.lambda); }) ==
        "OBS: expected finite gradients, found nan");
}

TEST_CASE("float32 M-FAC split over column ranges is the float64 inverse") {
  // d = 10,000 weights: the O(m·d) passes run in several column ranges (kColumnGrain = 4096).
  const index_t m = 12, d = 10000;
  Rng rng(5);
  Vec G(static_cast<std::size_t>(m * d)), w(static_cast<std::size_t>(d));
  for (double& g : G) g = rng.normal();
  for (double& x : w) x = rng.normal();
  auto ref = mfac_fisher_inverse(G, m, d, 0.1);
  auto f32 = mfac_fisher_inverse(std::vector<float>(G.begin(), G.end()), m, d, 0.1);
  CHECK(relative_error(f32->inverse_diagonal(), ref->inverse_diagonal()) <= 1e-5);
  CHECK(relative_error(f32->solve(w), ref->solve(w)) <= 1e-5);
}

TEST_CASE("blocks invert F restricted to its diagonal blocks") {
  const Problem p = random_problem(10, 30, 0.05, 2);
  const index_t B = 8;  // blocks of 8, 8, 8 and 6
  Vec Fb = p.F;
  for (index_t a = 0; a < p.d; ++a)
    for (index_t b = 0; b < p.d; ++b)
      if (a / B != b / B) Fb[std::size_t(a * p.d + b)] = 0;
  auto block = block_fisher_inverse(p.G, p.m, p.d, p.lambda, B);
  CHECK(relative_error(block->solve(p.w), linalg::solve_spd(Fb, p.d, p.w)) <= 1e-10);
  // Blocks of given sizes (one per layer), narrower and wider than m = 10: 4, 19 and 7.
  const std::vector<index_t> sizes{4, 19, 7};
  Vec Fl = p.F;
  auto layer_of = [&](index_t a) { return a < 4 ? 0 : a < 23 ? 1 : 2; };
  for (index_t a = 0; a < p.d; ++a)
    for (index_t b = 0; b < p.d; ++b)
      if (layer_of(a) != layer_of(b)) Fl[std::size_t(a * p.d + b)] = 0;
  auto layers = block_fisher_inverse(p.G, p.m, p.d, p.lambda, sizes);
  CHECK(relative_error(layers->solve(p.w), linalg::solve_spd(Fl, p.d, p.w)) <= 1e-10);
  Vec diag(static_cast<std::size_t>(p.d));
  for (index_t q = 0; q < p.d; ++q) {
    Vec e(static_cast<std::size_t>(p.d), 0.0);
    e[std::size_t(q)] = 1;
    diag[std::size_t(q)] = linalg::solve_spd(Fl, p.d, e)[std::size_t(q)];
  }
  CHECK(relative_error(layers->inverse_diagonal(), diag) <= 1e-10);
  CHECK(error_of([&] {
          block_fisher_inverse(p.G, p.m, p.d, p.lambda, {4, 19});
        }) == "OBS: expected blocks covering the 30 weights, found 23");
}

TEST_CASE("removing one weight raises ½δᵀFδ by exactly its score; the joint update is optimal") {
  const Problem p = random_problem(8, 25, 0.2, 3);
  auto F = dense_fisher_inverse(p.G, p.m, p.d, p.lambda);
  const Vec scores = obs_scores(p.w, *F);
  for (index_t q : {0, 7, 24}) {
    const Vec after = woodfisher_update(p.w, {q}, *F);
    CHECK(after[std::size_t(q)] == 0.0);
    CHECK(quad(p.F, minus(after, p.w)) == doctest::Approx(scores[std::size_t(q)]).epsilon(1e-10));
    CHECK(relative_error(joint_obs_update(p.w, {q}, *F), after) <= 1e-12);
  }
  // Several at once: w_Q = 0 exactly, and δ is the constrained minimizer: (Fδ)_i = 0 off Q.
  const std::vector<index_t> Q = {1, 4, 9, 16};
  const Vec joint = joint_obs_update(p.w, Q, *F), delta = minus(joint, p.w);
  for (index_t q : Q) CHECK(joint[std::size_t(q)] == 0.0);
  double worst = 0, scale = 0;
  for (index_t i = 0; i < p.d; ++i) {
    double Fd = 0;
    for (index_t j = 0; j < p.d; ++j) Fd += p.F[std::size_t(i * p.d + j)] * delta[std::size_t(j)];
    scale = std::max(scale, std::abs(Fd));
    if (std::find(Q.begin(), Q.end(), i) == Q.end()) worst = std::max(worst, std::abs(Fd));
  }
  CHECK(worst <= 1e-12 * scale);
  // WoodFisher's rule is never better than the joint minimizer.
  const Vec wf = woodfisher_update(p.w, Q, *F);
  CHECK(quad(p.F, minus(wf, p.w)) >= quad(p.F, delta) * (1 - 1e-12));
}

TEST_CASE("WoodTaylor at a zero gradient is WoodFisher; with a gradient it zeroes its weight") {
  const Problem p = random_problem(9, 20, 0.3, 4);
  auto F = mfac_fisher_inverse(p.G, p.m, p.d, p.lambda);
  const Vec zero(static_cast<std::size_t>(p.d), 0.0);
  CHECK(relative_error(woodtaylor_scores(p.w, zero, *F), obs_scores(p.w, *F)) <= 1e-14);
  const std::vector<index_t> Q = {3, 11};
  CHECK(relative_error(woodtaylor_update(p.w, zero, Q, *F), woodfisher_update(p.w, Q, *F)) <=
        1e-14);
  Vec g(static_cast<std::size_t>(p.d));
  Rng rng(5);
  for (auto& x : g) x = 0.1 * rng.normal();
  // One weight: the quadratic model gᵀδ + ½δᵀFδ changes by exactly the WoodTaylor score.
  auto dense = dense_fisher_inverse(p.G, p.m, p.d, p.lambda);
  const Vec s = woodtaylor_scores(p.w, g, *dense);
  const Vec after = woodtaylor_update(p.w, g, {5}, *dense), delta = minus(after, p.w);
  double gd = 0;
  for (index_t i = 0; i < p.d; ++i) gd += g[std::size_t(i)] * delta[std::size_t(i)];
  CHECK(after[5] == 0.0);
  CHECK(gd + quad(p.F, delta) == doctest::Approx(s[5]).epsilon(1e-10));
}

TEST_CASE("bad OBS settings are named") {
  const Vec G(20, 1.0);
  CHECK(error_of([&] { dense_fisher_inverse(G, 0, 20, 0.1); }) ==
        "OBS: expected at least 1 per-example gradient (m), found 0");
  CHECK(error_of([&] { mfac_fisher_inverse(G, 1, 20, 0); }) ==
        "OBS: expected a damping λ > 0, found 0");
  CHECK(error_of([&] { block_fisher_inverse(G, 1, 20, 0.1, 0); }) ==
        "OBS: expected a block size >= 1, found 0");
  CHECK(error_of([&] { dense_fisher_inverse(G, 2, 20, 0.1); }) ==
        "OBS: expected m·d = 40 gradient values, found 20");
}

// ---- Masks in the parameter store, and pruning a model --------------------------------------

TEST_CASE("the parameter store's mask holds through every optimizer for 100 steps") {
  const auto task = make_image_task<float>(toy_dataset(64, 1), toy_dataset(32, 2));
  for (const char* name :
       {"sgd", "adam", "adamw", "lars", "lamb", "kfac", "ekfac", "foof", "mfac"}) {
    CAPTURE(name);
    auto model = toy_mlp(1);
    const index_t P = model->params().size();
    std::vector<std::uint8_t> keep(static_cast<std::size_t>(P));
    Rng rng(7);
    for (auto& k : keep) k = rng.uniform() < 0.5 ? 0 : 1;
    model->params().set_mask(keep);
    SecondOrderConfig cfg;
    cfg.rescale = std::string(name) == "foof" || std::string(name) == "mfac" ? "none" : "kl";
    cfg.factors = FactorKind::EF, cfg.damping = 0.1, cfg.inverse_every = 3, cfg.window = 8;
    auto opt = make_optimizer<float>(name, 0.02, 0.9, false, cfg);
    const std::vector<float> before(model->params().data(), model->params().data() + P);
    TrainLoop<float> loop(*model, *opt, task->split("train"), all_of(*task, "train").indices, 16,
                          3);
    for (int k = 0; k < 100; ++k) loop.step(0.02);
    index_t nonzero = 0, moved = 0;
    const OptimizerState<float> s = opt->state();
    for (index_t i = 0; i < P; ++i) {
      const float v = model->params().data()[i];
      if (keep[std::size_t(i)]) {
        moved += v != before[std::size_t(i)];
        continue;
      }
      nonzero += v != 0.0f;  // exactly zero, not small
      for (const auto& [n, buf] : s.buffers) nonzero += buf[std::size_t(i)] != 0.0f;
    }
    CHECK(nonzero == 0);
    CHECK(moved > P / 4);
  }
}

TEST_CASE("a checkpoint keeps the mask as <param>_mask; bad masks are refused") {
  TempDir dir;
  auto model = toy_mlp(2);
  const index_t P = model->params().size();
  std::vector<std::uint8_t> keep(static_cast<std::size_t>(P), 1);
  for (index_t i = 0; i < 40; i += 3) keep[std::size_t(i)] = 0;  // fc1.weight's first entries
  model->params().set_mask(keep);
  save_checkpoint(*model, dir.file("m.safetensors"));
  const Safetensors st = read_safetensors(dir.file("m.safetensors"));
  CHECK(st.tensors.count("fc1.weight_mask") == 1);
  CHECK(st.tensors.count("fc2.weight_mask") == 0);  // unpruned parameters carry none
  auto back = load_checkpoint<float>(dir.file("m.safetensors"));
  CHECK(back->params().mask() == keep);
  for (index_t i = 0; i < 40; i += 3) CHECK(back->params().data()[i] == 0.0f);
  // A mask of the wrong shape, or with an entry other than 0 and 1.
  std::vector<float> w(static_cast<std::size_t>(P), 0.5f), bad(8, 1.0f);
  std::vector<TensorToWrite> t;
  for (const ParamInfo& p : model->params().info())
    t.push_back({p.name, "F32", p.shape, w.data() + p.offset});
  auto with = [&](TensorToWrite extra) {
    auto all = t;
    all.push_back(extra);
    write_safetensors(dir.file("bad.safetensors"), all,
                      {{"curv.model", "mlp"}, {"curv.config", model->config()}});
    return error_of([&] { load_checkpoint<float>(dir.file("bad.safetensors")); });
  };
  CHECK(with({"fc2.bias_mask", "F32", Shape{8}, bad.data()}) ==
        dir.file("bad.safetensors") + ": expected 'fc2.bias_mask' of shape [3], found [8]");
  bad[1] = 2;
  CHECK(with({"fc1.bias_mask", "F32", Shape{8}, bad.data()}) ==
        dir.file("bad.safetensors") +
            ": expected mask entries 0 or 1 in 'fc1.bias_mask', found 2 at index 1");
}

TEST_CASE("pruning a model: sparsity reached, masks set, OBS forms agree on the same F") {
  auto model = tiny("mlp");
  const index_t N = 16;
  MemorySplit split(concatenate(random_batches(*model, {N}, 3)));
  std::vector<index_t> idx(static_cast<std::size_t>(N));
  for (index_t i = 0; i < N; ++i) idx[std::size_t(i)] = i;
  // Weights: 4·6 + 6·5 + 5·3 = 69 prunable entries; biases never.
  for (bool per_layer : {false, true}) {
    auto m = tiny("mlp");
    PruneOptions o;
    o.sparsity = 0.5, o.per_layer = per_layer;
    const PruneReport r = prune(*m, split, idx, o);
    CHECK(r.sparsity == doctest::Approx(35.0 / 69).epsilon(0.03));
    for (const auto& [name, s] : r.layer_sparsity) {
      CAPTURE(name);
      if (per_layer) CHECK(s == doctest::Approx(0.5).epsilon(0.15));
    }
    CHECK(m->params().masked());
    for (const ParamInfo& p : m->params().info())
      if (p.name.ends_with(".bias")) CHECK(m->params().masked_count(m->params().find(p.name)) == 0);
  }
  // obs-dense, woodfisher with one block of every weight and mfac: the same weights, the same
  // corrected values (1e-8 here; the bar is 1e-6).
  std::vector<std::vector<double>> after;
  std::vector<std::vector<std::uint8_t>> masks;
  for (const char* method : {"obs-dense", "woodfisher", "mfac"}) {
    auto m = tiny("mlp");
    PruneOptions o;
    o.method = method, o.sparsity = 0.6, o.grads = N, o.damping = 1e-3, o.block = 69;
    const PruneReport r = prune(*m, split, idx, o);
    masks.push_back(r.keep);
    after.emplace_back(m->params().data(), m->params().data() + m->params().size());
  }
  CHECK(masks[1] == masks[0]);
  CHECK(masks[2] == masks[0]);
  CHECK(relative_error(after[1], after[0]) <= 1e-8);
  CHECK(relative_error(after[2], after[0]) <= 1e-8);
  // Recomputing in steps reaches the same target.
  auto m = tiny("mlp");
  PruneOptions o;
  o.method = "mfac", o.sparsity = 0.8, o.grads = N, o.damping = 1e-3, o.recomputations = 4;
  CHECK(prune(*m, split, idx, o).sparsity == doctest::Approx(55.0 / 69).epsilon(0.02));
  o.sparsity = 1.0;
  CHECK(error_of([&] { prune(*m, split, idx, o); }) ==
        "pruning: expected a sparsity in [0, 1), found 1");
}

TEST_CASE("OBS with K-FAC blocks reads the weights' part of (K + λI)⁻¹ exactly") {
  auto model = tiny("mlp");
  CurvatureData<double> data(*model, random_batches(*model, {6}, 4));
  const auto all = ParamSubset::all(model->params().info());
  const double lambda = 0.05;
  for (bool refit : {false, true}) {
    CAPTURE(refit);
    KfacOptions ko;
    ko.factors = FactorKind::EF;
    auto K = refit ? make_ekfac(data, all, ko) : make_kfac(data, all, ko);
    const index_t P = K->size();
    Vec D = materialize(*K);
    for (index_t i = 0; i < P; ++i) D[std::size_t(i * P + i)] += lambda;
    Vec inv(static_cast<std::size_t>(P * P), 0.0);
    for (index_t i = 0; i < P; ++i) inv[std::size_t(i * P + i)] = 1;
    linalg::cholesky_solve(linalg::cholesky(D, P), P, inv.data(), P);
    Vec diag(static_cast<std::size_t>(P));
    for (index_t i = 0; i < P; ++i) diag[std::size_t(i)] = inv[std::size_t(i * P + i)];
    CHECK(relative_error(K->inverse_diagonal(lambda), diag) <= 1e-10);
    // The weights of fc1 and fc3 only: the diagonal and F⁻¹x restricted to them.
    std::vector<index_t> weights;
    for (const ParamInfo& p : model->params().info())
      if (p.name == "fc1.weight" || p.name == "fc3.weight")
        for (index_t i = 0; i < p.shape.numel(); ++i) weights.push_back(p.offset + i);
    auto F = kfac_fisher_inverse(*K, weights, lambda);
    Vec x(weights.size()), want(weights.size(), 0.0), wd(weights.size());
    Rng rng(6);
    for (auto& v : x) v = rng.normal();
    for (std::size_t a = 0; a < weights.size(); ++a) {
      wd[a] = diag[std::size_t(weights[a])];
      for (std::size_t b = 0; b < weights.size(); ++b)
        want[a] += inv[std::size_t(weights[a] * P + weights[b])] * x[b];
    }
    CHECK(relative_error(F->inverse_diagonal(), wd) <= 1e-10);
    CHECK(relative_error(F->solve(x), want) <= 1e-10);
  }
  // Through prune(): kfac-obs reaches its target and keeps the biases.
  auto m = tiny("mlp");
  MemorySplit split(concatenate(random_batches(*m, {8}, 5)));
  PruneOptions o;
  o.method = "kfac-obs", o.sparsity = 0.7, o.grads = 8, o.damping = 1e-3;
  const PruneReport r = prune(*m, split, {0, 1, 2, 3, 4, 5, 6, 7}, o);
  CHECK(r.sparsity == doctest::Approx(48.0 / 69).epsilon(0.02));
  // Given blocks (an optimizer's running factors, here fixed ones): the scores are read off them,
  // not off blocks estimated on the pruning examples.
  KfacOptions ko;
  ko.factors = FactorKind::EF;
  auto K = make_kfac(data, all, ko);
  std::vector<index_t> weights;
  Vec w;
  for (const ParamInfo& p : model->params().info())
    if (p.shape.rank() >= 2)
      for (index_t i = 0; i < p.shape.numel(); ++i)
        weights.push_back(p.offset + i), w.push_back(model->params().data()[p.offset + i]);
  const Vec want = obs_scores(w, *kfac_fisher_inverse(*K, weights, 1e-3));
  o.kfac = K.get(), o.sparsity = 0.5;
  MemorySplit other(concatenate(random_batches(*model, {8}, 9)));
  const PruneReport given = prune(*model, other, {0, 1, 2, 3, 4, 5, 6, 7}, o);
  Vec got;
  for (index_t q : weights) got.push_back(given.first_scores[std::size_t(q)]);
  CHECK(relative_error(got, want) <= 1e-12);
}

TEST_CASE("kfac-obs with factored damping scores by the dense (A + √λI) ⊗ (G + √λI)") {
  // The WoodFisher repository's K-FAC pruner (π off): each factor damped by √λ. Reference: the
  // operator materialized (its matrix is checked against the factors in tests/test_kfac.cpp) and
  // inverted densely; OBS scores w_q² / (2 [D⁻¹]_qq) and WoodFisher's summed update from it.
  auto model = tiny("mlp");
  CurvatureData<double> data(*model, random_batches(*model, {8}, 4));
  const auto all = ParamSubset::all(model->params().info());
  KfacOptions ko;
  ko.factors = FactorKind::EF;
  auto K = make_kfac(data, all, ko);
  const double lambda = 1e-3;
  for (bool pi : {false, true}) {
    CAPTURE(pi);
    const index_t P = K->size();
    Vec D = materialize(*factored_damping(*K, lambda, pi));
    Vec inv(static_cast<std::size_t>(P * P), 0.0);
    for (index_t i = 0; i < P; ++i) inv[std::size_t(i * P + i)] = 1;
    linalg::cholesky_solve(linalg::cholesky(D, P), P, inv.data(), P);
    auto m = tiny("mlp");
    std::copy(model->params().data(), model->params().data() + P, m->params().data());
    const Vec w0(m->params().data(), m->params().data() + P);
    std::vector<index_t> weights;
    for (const ParamInfo& p : m->params().info())
      if (p.shape.rank() >= 2)
        for (index_t i = 0; i < p.shape.numel(); ++i) weights.push_back(p.offset + i);
    PruneOptions o;
    o.method = "kfac-obs", o.sparsity = 0.5, o.damping = lambda, o.kfac = K.get();
    o.kfac_damping = KfacDamping::Factored, o.kfac_pi = pi;
    MemorySplit split(concatenate(random_batches(*m, {8}, 9)));
    const PruneReport r = prune(*m, split, {0, 1, 2, 3, 4, 5, 6, 7}, o);
    Vec want, got;
    for (index_t q : weights) {
      want.push_back(w0[std::size_t(q)] * w0[std::size_t(q)] / (2 * inv[std::size_t(q * P + q)]));
      got.push_back(r.first_scores[std::size_t(q)]);
    }
    CHECK(relative_error(got, want) <= 1e-10);
    // The update: every removed weight's single-weight correction −w_q D⁻¹e_q / [D⁻¹]_qq summed
    // over the weights (biases stay), then the removed ones exactly 0.
    Vec after(w0);
    for (index_t q : weights)
      if (!r.keep[std::size_t(q)])
        for (index_t j : weights)
          after[std::size_t(j)] -=
              w0[std::size_t(q)] * inv[std::size_t(j * P + q)] / inv[std::size_t(q * P + q)];
    for (index_t q : weights)
      if (!r.keep[std::size_t(q)]) after[std::size_t(q)] = 0;
    CHECK(relative_error(Vec(m->params().data(), m->params().data() + P), after) <= 1e-10);
  }
  PruneOptions o;
  o.method = "woodfisher", o.kfac_damping = KfacDamping::Factored;
  CHECK(error_of([&] { check_prune_options(o); }) ==
        "pruning: factored damping is kfac-obs's, found 'woodfisher'");
  o.method = "kfac-obs", o.kfac_damping = KfacDamping::Eigen, o.kfac_pi = false;
  CHECK(error_of([&] { check_prune_options(o); }) ==
        "pruning: turning π off needs factored K-FAC damping, found eigen");
}
