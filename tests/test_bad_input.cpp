// Bad input gets one line naming what was expected and what was found (and no crash).
#include <doctest/doctest.h>

#include <zlib.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "curv/data/dataset.hpp"
#include "curv/loss/loss.hpp"
#include "curv/nn/objective.hpp"
#include "curv/ops/ops.hpp"
#include "support/errors.hpp"

using namespace curv;
using namespace curv::testing;
namespace fs = std::filesystem;

namespace {

std::string be32(std::uint32_t v) {
  return {char(v >> 24), char((v >> 16) & 0xff), char((v >> 8) & 0xff), char(v & 0xff)};
}

// IDX images (n, 2, 2) and labels.
std::string idx_images(std::uint32_t n, std::size_t pixels) {
  return be32(0x803) + be32(n) + be32(2) + be32(2) + std::string(pixels, '\x07');
}
std::string idx_labels(std::uint32_t n, const std::string& labels) {
  return be32(0x801) + be32(n) + labels;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("ops: shape mismatches name the op, the expected and the found shape") {
  ParamStore<double> ps;
  const index_t w = ps.add("w", Shape{3, 4}), b = ps.add("b", Shape{3}),
                cw = ps.add("cw", Shape{2, 3, 3, 3});
  Tape<double> t;
  Tensor<double> x(Shape{2, 5}), img(Shape{1, 2, 6, 6});
  Value xv = t.input(x), iv = t.input(img);
  CHECK(error_of([&] { ops::linear(t, xv, ps.ref(w), ps.ref(b)); }) ==
        "linear: expected input (N,…,4), found [2,5]");
  CHECK(error_of([&] { ops::linear(t, xv, ps.ref(b), ps.ref(b)); }) ==
        "linear: expected a weight of rank 2 (out,in), found [3]");
  CHECK(error_of([&] { ops::conv2d(t, iv, ps.ref(cw), {}, 1, 0); }) ==
        "conv2d: expected input (N,3,H,W), found [1,2,6,6]");
  CHECK(error_of([&] { ops::add(t, xv, iv); }) ==
        "add: expected equal shapes, found [2,5] and [1,2,6,6]");
  CHECK(error_of([&] { ops::max_pool2d(t, xv, 2, 2); }) ==
        "max_pool2d: expected input (N,C,H,W), found [2,5]");
  CHECK(error_of([&] {
          ops::reshape(t, xv, Shape{3, 3});
        }) == "reshape: expected 10 elements to match [2,5], found [3,3]");
}

TEST_CASE("unknown names list what is known") {
  CHECK(error_of([] { make_model<float>("resnet50"); }) ==
        "model: expected one of mlp, lenet5, lenet5-cifar, autoencoder, cifar-cnn, transformer, "
        "t2t (or a layer list: --model-file), found 'resnet50'");
  CHECK(error_of([] { make_loss<float>("hinge"); }) ==
        "loss: expected one of cross_entropy, bce, mse, found 'hinge'");
  CHECK(error_of([] {
          make_mlp<float>({4, 3}, "swish");
        }) == "mlp: expected activation relu, tanh, sigmoid, gelu or none, found 'swish'");
  CHECK(error_of([] { load_dataset("imagenet", "train"); }) ==
        "dataset: expected one of fashion-mnist, mnist, cifar10, found 'imagenet'");
  CHECK(error_of([] { load_dataset("mnist", "val"); }) ==
        "dataset: expected split train or test, found 'val'");
  ParamStore<float> ps;
  ps.add("fc1.weight", Shape{2, 2});
  CHECK(error_of([&] { ps.find("fc9.weight"); }) ==
        "parameters: expected one of {fc1.weight}, found 'fc9.weight'");
}

TEST_CASE("objective: inputs and labels that do not fit the model") {
  auto model = make_mlp<float>({4, 3, 2});
  auto loss = make_loss<float>("cross_entropy");
  Objective<float> obj(*model, *loss);
  Tensor<float> x(Shape{2, 5});
  std::vector<std::int64_t> labels{0, 1};
  CHECK(error_of([&] {
          obj.set_batch(x, {labels.data(), {}});
        }) == "mlp: expected inputs (N,[4]) with 4 values per example, found [2,5]");
  Tensor<float> ok(Shape{2, 4});
  labels[1] = 7;
  CHECK(error_of([&] {
          obj.set_batch(ok, {labels.data(), {}});
        }) == "cross_entropy: expected labels in [0,2), found 7 at example 1");
  auto mse = make_loss<float>("mse");
  Tensor<float> z(Shape{2, 2}), target(Shape{2, 3});
  CHECK(error_of([&] {
          mse->forward(z, {nullptr, target.view()});
        }) == "mse: expected targets with 4 values like outputs [2,2], found [2,3]");
}

TEST_CASE("IDX: missing, truncated, corrupt, mismatched files") {
  TempDir d;
  const std::string img = d.file("img"), lab = d.file("lab");
  write_bytes(img, idx_images(3, 12));
  write_bytes(lab, idx_labels(3, "\x01\x02\x03"));
  CHECK(load_idx(img, lab, "toy").size() == 3);

  CHECK(contains(error_of([&] { load_idx(d.file("nope"), lab, "toy"); }),
                 "nope: expected a readable IDX file, found none"));
  write_bytes(img, idx_images(3, 11));
  CHECK(error_of([&] { load_idx(img, lab, "toy"); }) ==
        img + ": expected 12 bytes of pixels, found 11 (truncated)");
  write_bytes(img, idx_images(3, 13));
  CHECK(error_of([&] { load_idx(img, lab, "toy"); }) ==
        img + ": expected the file to end after its data, found more bytes");
  write_bytes(img, be32(0x801) + be32(3) + be32(2) + be32(2) + std::string(12, 'x'));
  CHECK(error_of([&] { load_idx(img, lab, "toy"); }) ==
        img + ": expected IDX magic 0x803 (unsigned bytes, 3 dims), found 0x801");
  write_bytes(img, idx_images(3, 12));
  write_bytes(lab, idx_labels(2, "\x01\x02"));
  CHECK(error_of([&] { load_idx(img, lab, "toy"); }) ==
        lab + ": expected 3 labels to match " + img + ", found 2");
  write_bytes(lab, idx_labels(3, "\x01\x0c\x02"));
  CHECK(error_of([&] { load_idx(img, lab, "toy"); }) ==
        lab + ": expected labels 0..9, found 12 at example 1");

  // gzip: a valid file loads; a corrupt one names the file.
  {
    gzFile f = gzopen(img.c_str(), "wb");
    const std::string bytes = idx_images(3, 12);
    gzwrite(f, bytes.data(), unsigned(bytes.size()));
    gzclose(f);
  }
  write_bytes(lab, idx_labels(3, "\x01\x02\x03"));
  CHECK(load_idx(img, lab, "toy").pixels.size() == 12);
  std::string gz;
  {
    std::ifstream in(img, std::ios::binary);
    gz.assign(std::istreambuf_iterator<char>(in), {});
  }
  for (std::size_t i = 12; i < gz.size() - 8; ++i) gz[i] = char(gz[i] ^ 0x5a);
  write_bytes(img, gz);
  CHECK(contains(error_of([&] { load_idx(img, lab, "toy"); }), img + ": expected "));
}

TEST_CASE("CIFAR-10 and text: missing and corrupt files") {
  TempDir d;
  CHECK(contains(error_of([&] { load_cifar10_png(d.path.string(), false); }),
                 "test_batch.png: expected a readable PNG, found no file (run datasets/fetch.sh)"));
  write_bytes(d.file("test_batch.png"), "not a png");
  CHECK(contains(error_of([&] { load_cifar10_png(d.path.string(), false); }),
                 "test_batch.png: expected a readable PNG, found "));
  write_bytes(d.file("test_batch.bin"), std::string(3073 * 10, '\0'));
  CHECK(contains(error_of([&] { load_cifar10_bin(d.path.string(), false); }),
                 "test_batch.bin: expected 30730000 bytes (10000 records of 3073), found fewer"));
  write_bytes(d.file("bad.txt"), "ok \xff");
  CHECK(error_of([&] { load_text(d.file("bad.txt")); }) ==
        d.file("bad.txt") + ": expected UTF-8, found byte 0xff at offset 3");
  write_bytes(d.file("good.txt"), "a\xc3\xa9\xe2\x82\xac");  // a, é, €
  CHECK(load_text(d.file("good.txt")) == std::u32string{U'a', U'\u00e9', U'\u20ac'});
}
