// The data service: index lists in their one grammar (every form, every error), the validation
// carve, batch sources (training draws and in-order walks), .npy data sets, and batches without
// targets recorded for predictions.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "curv/data/batch_source.hpp"
#include "curv/data/task.hpp"
#include "curv/io/npy.hpp"
#include "curv/nn/objective.hpp"
#include "support/errors.hpp"
#include "support/toy_data.hpp"

using namespace curv;
using namespace curv::testing;

namespace {

std::unique_ptr<Task<float>> toy_task(index_t train = 40, index_t test = 20) {
  return make_image_task<float>(toy_dataset(train, 1), toy_dataset(test, 2, "toy/test"));
}

std::vector<index_t> range(index_t a, index_t b) {
  std::vector<index_t> v(std::size_t(b - a + 1));
  std::iota(v.begin(), v.end(), a);
  return v;
}

}  // namespace

TEST_CASE("index lists: every form of the grammar") {
  const auto task = toy_task();
  const Split<float>& train = task->split("train");
  auto parse = [&](const std::string& s) { return parse_index_list(s, *task); };
  CHECK(parse("all").indices == range(0, 39));
  CHECK(parse("7").indices == std::vector<index_t>{7});
  CHECK(parse("3-6").indices == range(3, 6));
  CHECK(parse("test:0-4").split == "test");
  CHECK(parse("test:0-4").indices == range(0, 4));
  CHECK(parse("1,5-6,0").indices == std::vector<index_t>{1, 5, 6, 0});  // in the order written
  const IndexList c = parse("class:2");
  CHECK(c.size() > 0);
  for (index_t i : c.indices) CHECK(train.class_of(i) == 2);
  index_t twos = 0;
  for (index_t i = 0; i < train.size(); ++i) twos += train.class_of(i) == 2;
  CHECK(c.size() == twos);
  const IndexList others = parse("all-but:class:2");
  CHECK(others.size() == train.size() - twos);
  for (index_t i : others.indices) CHECK(train.class_of(i) != 2);
  const IndexList r = parse("random:10@3");
  CHECK(r.size() == 10);
  CHECK(std::set<index_t>(r.indices.begin(), r.indices.end()).size() == 10);  // distinct
  CHECK(r.indices == parse("random:10@3").indices);                           // seeded
  CHECK(r.indices != parse("random:10@4").indices);
  CHECK(parse("random:10").indices == parse("random:10@0").indices);

  TempDir d;
  const std::vector<std::int64_t> picked{4, 2, 2};
  write_npy(d.file("p.npy"), picked.data(), {3});
  CHECK(parse(d.file("p.npy")).indices == std::vector<index_t>{4, 2, 2});
  const IndexList rest = parse("all-but:" + d.file("p.npy"));
  CHECK(rest.size() == 38);
  CHECK(std::find(rest.indices.begin(), rest.indices.end(), 2) == rest.indices.end());
  CHECK(std::find(rest.indices.begin(), rest.indices.end(), 4) == rest.indices.end());
  CHECK(all_of(*task, "test").indices == range(0, 19));
}

TEST_CASE("index lists: every malformed or out-of-range list is a one-line error") {
  const auto task = toy_task();
  auto err = [&](const std::string& s) { return error_of([&] { parse_index_list(s, *task); }); };
  CHECK(err("40") ==
        "index list '40': expected indices in 0..39 of split toy/train, found 40 (item '40')");
  CHECK(err("test:5-20") ==
        "index list 'test:5-20': expected indices in 0..19 of split toy/test, found 20 (item "
        "'5-20')");
  CHECK(err("6-3") == "index list '6-3': expected a range N-M with N <= M, found 6-3 (item '6-3')");
  CHECK(err("a-3") == "index list 'a-3': expected a range N-M of whole numbers (item 'a-3')");
  CHECK(err("-1") == "index list '-1': expected a range N-M of whole numbers (item '-1')");
  CHECK(err("x") ==
        "index list 'x': expected all, N, N-M, class:K, random:N[@SEED], FILE.npy, "
        "all-but:FILE.npy or all-but:class:K (item 'x')");
  CHECK(err("1,,2") == "index list '1,,2': expected an item between commas, found an empty one");
  CHECK(err("val:0") ==
        "index list 'val:0': expected a split among train, test of toy, found 'val'");
  CHECK(err("test:") == "index list 'test:': expected indices after the split, found none");
  CHECK(err("class:7") ==
        "index list 'class:7': expected examples of class 7 in toy/train, found none (item "
        "'class:7')");
  CHECK(err("all-but:class:7") ==
        "index list 'all-but:class:7': expected examples of class 7 in toy/train, found none "
        "(item 'all-but:class:7')");
  CHECK(err("random:41") ==
        "index list 'random:41': expected at most 40 examples of toy/train, found 41 (item "
        "'random:41')");
  CHECK(err("all,3") ==
        "index list 'all,3': expected 'all' and 'all-but:' to stand alone (item 'all')");
  TempDir d;
  const std::vector<double> floats{1, 2};
  write_npy(d.file("f.npy"), floats.data(), {2});
  CHECK(err(d.file("f.npy"))
            .find("expected int64 indices in " + d.file("f.npy") + ", found dtype <f8") !=
        std::string::npos);
  const std::vector<std::int64_t> far{1, 99};
  write_npy(d.file("far.npy"), far.data(), {2});
  CHECK(err("all-but:" + d.file("far.npy"))
            .find("expected indices in 0..39 of split toy/train, found 99") != std::string::npos);
  CHECK(err(d.file("none.npy")).find("none.npy: expected a readable .npy file, found none") !=
        std::string::npos);
}

TEST_CASE("the validation carve: a seeded, disjoint split of train, renumbered from 0") {
  auto a = toy_task(), b = toy_task();
  a->carve_validation(0.25, 7);
  b->carve_validation(0.25, 7);
  CHECK(a->split_names() == std::vector<std::string>{"train", "val", "test"});
  const Split<float>& tr = a->split("train");
  const Split<float>& val = a->split("val");
  CHECK(val.size() == 10);
  CHECK(tr.size() == 30);
  CHECK(val.name() == "toy/val");
  // Together the two splits hold each original example once: compare their images.
  const auto whole = toy_task();
  Batch<float> all, t, v;
  for_each_batch<float>(whole->split("train"), range(0, 39), 40, [&](const Batch<float>& x) {
    all.x.resize(x.x.shape());
    std::copy(x.x.view().begin(), x.x.view().end(), all.x.view().begin());
  });
  tr.fill(range(0, 29), nullptr, t);
  val.fill(range(0, 9), nullptr, v);
  std::multiset<std::vector<float>> original, carved;
  for (index_t i = 0; i < 40; ++i)
    original.insert({all.x.data() + i * 16, all.x.data() + (i + 1) * 16});
  for (index_t i = 0; i < 30; ++i) carved.insert({t.x.data() + i * 16, t.x.data() + (i + 1) * 16});
  for (index_t i = 0; i < 10; ++i) carved.insert({v.x.data() + i * 16, v.x.data() + (i + 1) * 16});
  CHECK(original == carved);
  CHECK(v.indices == range(0, 9));  // the carved split's own numbering
  CHECK(a->split("val").fingerprint() == b->split("val").fingerprint());
  auto c = toy_task();
  c->carve_validation(0.25, 8);
  CHECK(c->split("val").fingerprint() != a->split("val").fingerprint());
  CHECK(error_of([&] { toy_task()->carve_validation(1.5, 0); }) ==
        "toy: expected a validation fraction in (0, 1), found 1.5");
  CHECK(error_of([&] { a->carve_validation(0.1, 0); }) ==
        "toy: expected one validation carve, found a second");
}

TEST_CASE("batch sources: reshuffled epochs with full batches, and in-order walks") {
  const auto task = toy_task(10);
  const Split<float>& train = task->split("train");
  BatchSource<float>::Options o;
  o.batch = 3, o.shuffle = true, o.drop_last = true, o.seed = 5;
  BatchSource<float> s(train, range(0, 9), o);
  CHECK(s.batches_per_epoch() == 3);
  std::multiset<index_t> epoch;
  for (int b = 0; b < 3; ++b) {
    const Batch<float>& x = s.next();
    CHECK(x.size() == 3);
    epoch.insert(x.indices.begin(), x.indices.end());
  }
  CHECK(epoch.size() == 9);
  CHECK(std::set<index_t>(epoch.begin(), epoch.end()).size() == 9);  // no example twice per epoch
  const std::vector<index_t> second_epoch_first = s.next().indices;
  CHECK(s.epoch() == 1);
  // The same seed draws the same batches.
  BatchSource<float> again(train, range(0, 9), o);
  for (int b = 0; b < 3; ++b) again.next();
  CHECK(again.next().indices == second_epoch_first);

  // With training draws (augmentation here), a batch's indices and the generator's state before
  // its fill draw the same batch again; another state draws another one.
  const auto augmented = make_image_task<float>(toy_dataset(10, 1), toy_dataset(5, 2), false, true);
  o.draw = true;
  BatchSource<float> drawn(augmented->split("train"), range(0, 9), o);
  drawn.next();
  const Batch<float>& x = drawn.next();
  const std::vector<float> pixels(x.x.view().begin(), x.x.view().end());
  Batch<float> refilled, other;
  drawn.fill(x.indices, drawn.last_fill_state(), refilled);
  CHECK(std::vector<float>(refilled.x.view().begin(), refilled.x.view().end()) == pixels);
  drawn.fill(x.indices, Rng(99).state(), other);
  CHECK(std::vector<float>(other.x.view().begin(), other.x.view().end()) != pixels);
  o.draw = false;

  std::vector<index_t> sizes, seen;
  for_each_batch<float>(train, range(2, 8), 3, [&](const Batch<float>& b) {
    sizes.push_back(b.size());
    seen.insert(seen.end(), b.indices.begin(), b.indices.end());
  });
  CHECK(sizes == std::vector<index_t>{3, 3, 1});  // the last batch keeps the remainder
  CHECK(seen == range(2, 8));
  CHECK(collect_batches<float>(train, range(0, 9), 4).size() == 3);
  CHECK(error_of([&] {
          BatchSource<float>(train, {0, 10}, o);
        }) == "toy/train: expected example indices in 0..9, found 10");
  o.batch = 11;
  CHECK(error_of([&] { BatchSource<float>(train, range(0, 9), o); }) ==
        "toy/train: expected a batch size in 1..10, found 11");
}

TEST_CASE(".npy data sets: inputs with labels or targets, without them, and every mismatch named") {
  TempDir d;
  const std::vector<float> x{0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f};  // three examples of [2]
  const std::vector<std::int64_t> labels{1, 0, 2};
  write_npy(d.file("x.npy"), x.data(), {3, 2});
  write_npy(d.file("y.npy"), labels.data(), {3});
  TaskOptions opt;
  opt.labels = d.file("y.npy");
  const auto task = make_task<double>(d.file("x.npy"), "cross_entropy", opt);
  CHECK(task->split_names() == std::vector<std::string>{"train"});
  const Split<double>& s = task->split("train");
  CHECK(s.size() == 3);
  CHECK(s.labelled());
  CHECK(s.class_of(2) == 2);
  Batch<double> b;
  s.fill(std::vector<index_t>{2, 0}, nullptr, b);
  CHECK(b.x.shape() == Shape{2, 2});
  CHECK(b.x[0] == doctest::Approx(0.5));
  CHECK(b.labels == std::vector<std::int64_t>{2, 1});
  auto mlp = make_mlp<double>({2, 3});
  task->check_model(*mlp);
  CHECK(task->evaluate(*mlp, all_of(*task, "train"), 2).count("train_accuracy") == 1);
  auto two = make_mlp<double>({2, 2});
  CHECK(error_of([&] { task->check_model(*two); }) ==
        d.file("x.npy") + ": expected class labels below 2 (the outputs of mlp), found 2");
  auto wide = make_mlp<double>({3, 3});
  CHECK(error_of([&] { task->check_model(*wide); }) ==
        d.file("x.npy") + ": expected inputs [N,3] for mlp, found [N,2]");

  // Without labels: predictions only.
  const auto bare = make_task<double>(d.file("x.npy"), "cross_entropy", {});
  CHECK_FALSE(bare->split("train").labelled());
  CHECK(error_of([&] { bare->evaluate(*mlp, all_of(*bare, "train"), 2); }) ==
        d.file("x.npy") + "/train: expected targets to score the model on, found inputs alone");

  // Labels of the wrong length, real targets of the wrong rank, a labels file without .npy data.
  write_npy(d.file("short.npy"), labels.data(), {2});
  opt.labels = d.file("short.npy");
  CHECK(error_of([&] { make_task<double>(d.file("x.npy"), "cross_entropy", opt); }) ==
        d.file("short.npy") + ": expected 3 targets, one per input of " + d.file("x.npy") +
            ", found shape [2]");
  opt.labels = d.file("y.npy");
  CHECK(error_of([&] { make_task<double>(d.file("x.npy"), "mse", opt); }) ==
        d.file("y.npy") + ": expected float targets [3, C] for mse, found shape [3]");
  CHECK(error_of([&] { make_task<double>("mnist", "cross_entropy", opt); }) ==
        "dataset: labels files go with .npy inputs, found labels '" + d.file("y.npy") +
            "' for mnist");
}

TEST_CASE(
    "a batch without targets is recorded for predictions: Jacobian products work, the loss does "
    "not") {
  auto m = make_mlp<double>({2, 3, 2}, "tanh");
  Rng rng(1);
  m->init(rng);
  auto loss = make_loss<double>("cross_entropy");
  Objective<double> obj(*m, *loss);
  Tensor<double> x(Shape{4, 2});
  for (index_t i = 0; i < 8; ++i) x[i] = rng.uniform();
  obj.record(x);
  CHECK_FALSE(obj.has_targets());
  CHECK(std::isnan(obj.loss()));
  CHECK(obj.output().shape == Shape{4, 2});
  const index_t P = m->params().size();
  std::vector<double> v(static_cast<std::size_t>(P), 0.5), jv(8), u(8, 1.0),
      g(static_cast<std::size_t>(P));
  obj.jvp(v.data(), jv.data());
  obj.vjp(u.data(), g.data());
  // ⟨u, J v⟩ = ⟨Jᵀ u, v⟩: the two products are adjoint.
  double a = 0, b = 0;
  for (double t : jv) a += t;
  for (double t : g) b += 0.5 * t;
  CHECK(a == doctest::Approx(b).epsilon(1e-12));
  CHECK(error_of([&] { obj.gradient(g.data()); }) ==
        "mlp: expected a batch with targets for the gradient, found inputs alone (recorded for "
        "predictions)");
  CHECK(error_of([&] { obj.hvp(v.data(), g.data()); }).find("for the Hessian") !=
        std::string::npos);
}

TEST_CASE("standardized image inputs: the training split's mean and deviation, targets raw") {
  const auto raw =
      make_image_task<double>(toy_dataset(40, 1), toy_dataset(20, 2, "toy/test"), true);
  const auto st = make_image_task<double>(toy_dataset(40, 1), toy_dataset(20, 2, "toy/test"), true,
                                          false, true);
  Batch<double> a, b;
  const std::vector<index_t> idx = range(0, 39);
  raw->split("train").fill(idx, nullptr, a);
  st->split("train").fill(idx, nullptr, b);
  double mean = 0, sq = 0;
  for (index_t j = 0; j < a.x.numel(); ++j) mean += a.x[j] / double(a.x.numel());
  for (index_t j = 0; j < a.x.numel(); ++j) sq += (a.x[j] - mean) * (a.x[j] - mean);
  const double sd = std::sqrt(sq / double(a.x.numel()));
  for (index_t j = 0; j < b.x.numel(); ++j) CHECK(b.x[j] == doctest::Approx((a.x[j] - mean) / sd));
  for (index_t j = 0; j < b.values.numel(); ++j) CHECK(b.values[j] == a.x[j]);  // bce targets
  // The test split is measured against the training split's statistics, not its own.
  Batch<double> ta, tb;
  raw->split("test").fill(range(0, 19), nullptr, ta);
  st->split("test").fill(range(0, 19), nullptr, tb);
  CHECK(tb.x[5] == doctest::Approx((ta.x[5] - mean) / sd));
  CHECK(st->split("train").fingerprint() != raw->split("train").fingerprint());
  TaskOptions o;
  o.standardize = true;
  CHECK(error_of([&] { make_task<float>("moby-dick", "cross_entropy", o); }) ==
        "--standardize: expected image data (mnist, fashion-mnist or cifar10), found 'moby-dick'");
}

TEST_CASE("rotated test images: quarter turns move pixels exactly, other angles interpolate") {
  const Shape ex{2, 4, 4};
  std::vector<double> x(32);
  for (std::size_t j = 0; j < x.size(); ++j) x[j] = double(j % 7) + 0.25 * double(j / 16);
  auto turned = [&](double degrees) {
    std::vector<double> y = x;
    rotate_images(y.data(), 1, ex, degrees);
    return y;
  };
  // 90° counter-clockwise: out[h][w] = in[w][3 − h] in every channel; 0° and 360° change nothing.
  const std::vector<double> q = turned(90), full = turned(360);
  for (index_t c = 0; c < 2; ++c)
    for (index_t h = 0; h < 4; ++h)
      for (index_t w = 0; w < 4; ++w) {
        CHECK(q[std::size_t((c * 4 + h) * 4 + w)] ==
              doctest::Approx(x[std::size_t((c * 4 + w) * 4 + 3 - h)]).epsilon(1e-12));
        CHECK(full[std::size_t((c * 4 + h) * 4 + w)] ==
              doctest::Approx(x[std::size_t((c * 4 + h) * 4 + w)]).epsilon(1e-12));
      }
  CHECK(turned(0) == x);
  // 45°: pixel (h, w) takes the bilinear mix, black outside the image, at its source
  // (s·dw + c·dh + 1.5, c·dw − s·dh + 1.5) with (dh, dw) = (h − 1.5, w − 1.5), c = s = √½:
  // pixel (0, 0)'s source (1.5 − 1.5·√2, 1.5) lies 0.62 above the top row, so it takes 0.38 of
  // row 0; pixel (0, 1)'s (1.5 − √2, 1.5 + √½) lies inside.
  const std::vector<double> d = turned(45);
  auto bilinear = [&](double sh, double sw) {
    auto at = [&](double hh, double ww) {
      return hh < 0 || ww < 0 || hh > 3 || ww > 3 ? 0.0 : x[std::size_t(hh * 4 + ww)];
    };
    const double fh = std::floor(sh), fw = std::floor(sw), ah = sh - fh, aw = sw - fw;
    return (1 - ah) * (1 - aw) * at(fh, fw) + (1 - ah) * aw * at(fh, fw + 1) +
           ah * (1 - aw) * at(fh + 1, fw) + ah * aw * at(fh + 1, fw + 1);
  };
  const double r = std::sqrt(0.5);
  CHECK(d[0] == doctest::Approx(bilinear(1.5 - 3 * r, 1.5)).epsilon(1e-12));
  CHECK(d[0] == doctest::Approx((2.5 - 3 * r) * 0.5 * (x[1] + x[2])).epsilon(1e-12));
  CHECK(d[1] == doctest::Approx(bilinear(1.5 - 2 * r, 1.5 + r)).epsilon(1e-12));
  // Through a task: only the test split turns, and its fingerprint says so.
  const auto upright = make_image_task<double>(toy_dataset(8, 1), toy_dataset(6, 2, "toy/test"));
  const auto rotated = make_image_task<double>(toy_dataset(8, 1), toy_dataset(6, 2, "toy/test"),
                                               false, false, false, 90);
  Batch<double> a, b;
  upright->split("test").fill(range(0, 5), nullptr, a);
  rotated->split("test").fill(range(0, 5), nullptr, b);
  std::vector<double> want_b(a.x.data(), a.x.data() + a.x.numel());
  rotate_images(want_b.data(), 6, Shape{1, 4, 4}, 90);
  CHECK(std::vector<double>(b.x.data(), b.x.data() + b.x.numel()) == want_b);
  CHECK(rotated->split("test").fingerprint() != upright->split("test").fingerprint());
  CHECK(rotated->split("train").fingerprint() == upright->split("train").fingerprint());
  TaskOptions o;
  o.test_rotation = 15;
  CHECK(error_of([&] { make_task<float>("moby-dick", "cross_entropy", o); }) ==
        "--rotate-test: expected image data (mnist, fashion-mnist or cifar10), found 'moby-dick'");
}

TEST_CASE("label noise: a seeded fraction of examples, each moved to another class") {
  const Dataset clean = toy_dataset(200, 3);
  Dataset noisy = clean;
  const std::vector<index_t> flipped = relabel(noisy, 0.1, 7);
  REQUIRE(flipped.size() == 20);
  CHECK(std::is_sorted(flipped.begin(), flipped.end()));
  CHECK(std::set<index_t>(flipped.begin(), flipped.end()).size() == 20);
  std::set<std::int64_t> new_classes;  // shifts y_new − y mod C
  for (index_t i = 0; i < clean.size(); ++i) {
    const bool listed = std::binary_search(flipped.begin(), flipped.end(), i);
    const std::int64_t was = clean.labels[std::size_t(i)], now = noisy.labels[std::size_t(i)];
    CHECK((now != was) == listed);  // every listed example changed class, no other did
    CHECK((now >= 0 && now < clean.classes));
    if (listed) new_classes.insert((now - was + clean.classes) % clean.classes);
  }
  CHECK(new_classes.size() == 2);  // both shifts of 3 classes: drawn, not a fixed permutation
  Dataset again = clean;
  CHECK(relabel(again, 0.1, 7) == flipped);
  CHECK(again.labels == noisy.labels);
  Dataset other = clean;
  CHECK(relabel(other, 0.1, 8) != flipped);
  CHECK(error_of([&] { relabel(other, 1, 0); }) ==
        "--label-noise: expected a fraction in [0, 1), found 1");
  CHECK(error_of([&] { relabel(other, -0.5, 0, "--test-label-noise"); }) ==
        "--test-label-noise: expected a fraction in [0, 1), found -0.5");
  TaskOptions o;
  o.label_noise = 0.1, o.validation = 0.2;
  CHECK(error_of([&] { make_task<float>("moby-dick", "cross_entropy", o); }) ==
        "--label-noise: expected image data (mnist, fashion-mnist or cifar10), found 'moby-dick'");
  TaskOptions t;
  t.test_label_noise = 0.2;
  CHECK(error_of([&] { make_task<float>("moby-dick", "cross_entropy", t); }) ==
        "--test-label-noise: expected image data (mnist, fashion-mnist or cifar10), found "
        "'moby-dick'");
  // A task keeps each split's relabeled examples apart.
  auto task = make_image_task<float>(toy_dataset(20, 1), toy_dataset(10, 2));
  task->set_relabeled("test", {1, 4});
  CHECK(task->relabeled("test") == std::vector<index_t>{1, 4});
  CHECK(task->relabeled().empty());
  task->set_relabeled("train", {3});
  CHECK(task->relabeled() == std::vector<index_t>{3});
  CHECK(task->relabeled("test") == std::vector<index_t>{1, 4});
}

TEST_CASE("keep_classes: the listed classes' examples, in order, relabeled in the order listed") {
  Dataset d;
  d.name = "toy/train", d.example = Shape{1, 1, 2}, d.classes = 3;
  d.labels = {0, 1, 2, 1, 0};
  for (std::uint8_t i = 0; i < 5; ++i) d.pixels.insert(d.pixels.end(), {i, std::uint8_t(10 + i)});
  Dataset kept = d;
  keep_classes(kept, {2, 0});
  CHECK(kept.classes == 2);
  CHECK(kept.labels == std::vector<std::int64_t>{1, 0, 1});  // examples 0, 2, 4
  CHECK(kept.pixels == std::vector<std::uint8_t>{0, 10, 2, 12, 4, 14});
  CHECK(error_of([&] { keep_classes(kept, {1}); }) ==
        "--classes: expected at least 2 classes, found 1");
  CHECK(error_of([&] {
          keep_classes(d, {1, 1});
        }) == "--classes: expected distinct classes, found 1 twice");
  CHECK(error_of([&] {
          keep_classes(d, {1, 5});
        }) == "--classes: expected classes in 0..2 (toy/train), found 5");
  TaskOptions o;
  o.classes = {1, 7};
  CHECK(error_of([&] { make_task<float>("moby-dick", "cross_entropy", o); }) ==
        "--classes: expected image data (mnist, fashion-mnist or cifar10), found 'moby-dick'");
}
