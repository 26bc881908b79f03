// Safetensors and checkpoints under corruption, by behaviour: a load that fails throws and
// leaves the parameters untouched; a header cannot make the reader allocate more than the file
// holds, whatever its shape claims; a write that fails leaves the existing file and no
// temporary behind.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "curv/io/safetensors.hpp"
#include "curv/nn/checkpoint.hpp"
#include "curv/nn/model.hpp"
#include "support/errors.hpp"

using namespace curv;
using namespace curv::testing;
namespace fs = std::filesystem;

namespace {
// A file of one header (given) and `data` bytes of zeros.
std::string file_with(const std::string& header, std::size_t data) {
  std::string s(8, '\0');
  std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) s[std::size_t(i)] = char((n >> (8 * i)) & 0xff);
  return s + header + std::string(data, '\0');
}

std::vector<float> values_of(const Model<float>& m) {
  return {m.params().data(), m.params().data() + m.params().size()};
}
}  // namespace

TEST_CASE("a checkpoint that fails to load leaves the parameters as they were") {
  TempDir dir;
  const std::string path = dir.file("mlp.safetensors");
  auto source = make_mlp<float>({4, 3, 2});
  Rng rng(1);
  source->init(rng);
  auto target = make_mlp<float>({4, 3, 2});
  Rng other(2);
  target->init(other);
  const std::vector<float> before = values_of(*target);
  std::vector<float> w1(12, 7.0f), b1(3, 7.0f), w2(6, 7.0f), b2(2, 7.0f), extra(1, 0.0f);

  // fc1 is fine and comes first; fc2.weight has the wrong shape: nothing may be copied.
  write_safetensors(path,
                    {{"fc1.weight", "F32", Shape{3, 4}, w1.data()},
                     {"fc1.bias", "F32", Shape{3}, b1.data()},
                     {"fc2.weight", "F32", Shape{3, 2}, w2.data()},
                     {"fc2.bias", "F32", Shape{2}, b2.data()}},
                    {});
  const Safetensors st = read_safetensors(path);
  CHECK(error_of([&] { load_parameters(st, path, "mlp", target->params()); }) ==
        path + ": expected 'fc2.weight' of shape [2,3], found [3,2]");
  CHECK(values_of(*target) == before);

  // All shapes right, one tensor too many: refused, nothing copied.
  write_safetensors(path,
                    {{"fc1.weight", "F32", Shape{3, 4}, w1.data()},
                     {"fc1.bias", "F32", Shape{3}, b1.data()},
                     {"fc2.weight", "F32", Shape{2, 3}, w2.data()},
                     {"fc2.bias", "F32", Shape{2}, b2.data()},
                     {"fc3.bias", "F32", Shape{1}, extra.data()}},
                    {});
  const Safetensors st2 = read_safetensors(path);
  CHECK(error_of([&] { load_parameters(st2, path, "mlp", target->params()); }) ==
        path + ": expected only tensors of mlp, found unexpected 'fc3.bias'");
  CHECK(values_of(*target) == before);
}

TEST_CASE("a header's shape cannot overflow or claim more data than the file holds") {
  TempDir dir;
  const std::string path = dir.file("bad.safetensors");
  // 2^32 · 2^32 · 4 elements: the product wraps to 0 in 64 bits, matching empty offsets.
  write_bytes(path, file_with(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,4],)"
                              R"("data_offsets":[0,0]}})",
                              8));
  CHECK(error_of([&] { read_safetensors(path); }) ==
        path + ": tensor 'w': expected a shape whose F32 data fits the file's 8 data bytes, " +
            "found [4294967296,4294967296,4]");
  // A billion floats in an 8-byte data section: refused before any allocation.
  write_bytes(path, file_with(R"({"w":{"dtype":"F32","shape":[1000000000],)"
                              R"("data_offsets":[0,4000000000]}})",
                              8));
  CHECK_THROWS_AS(read_safetensors(path), Error);
  // An empty tensor is fine whatever its other dimensions.
  write_bytes(path, file_with(R"({"w":{"dtype":"F32","shape":[0,4294967296],)"
                              R"("data_offsets":[0,0]}})",
                              0));
  CHECK(read_safetensors(path).tensors.at("w").bytes.empty());
}

TEST_CASE("a write that fails keeps the existing file and leaves no temporary") {
  TempDir dir;
  const std::string path = dir.file("keep.safetensors");
  std::vector<float> w(4, 1.0f);
  write_safetensors(path, {{"w", "F32", Shape{4}, w.data()}}, {});
  const std::string good = read_bytes(path);
  CHECK(error_of([&] {
          write_safetensors(path, {{"w", "F12", Shape{4}, w.data()}}, {});
        }) == "safetensors: expected a known dtype for 'w', found F12");
  CHECK(read_bytes(path) == good);
  CHECK(!fs::exists(path + ".tmp"));
  // The rename onto a destination that cannot be replaced (a non-empty folder) fails after the
  // temporary was written: the temporary is removed.
  const std::string folder = dir.file("folder.safetensors");
  fs::create_directories(folder + "/inside");
  CHECK(error_of([&] {
          write_safetensors(folder, {{"w", "F32", Shape{4}, w.data()}}, {});
        }).find(folder + ": expected to replace the file, found ") == 0);
  CHECK(!fs::exists(folder + ".tmp"));
  CHECK(fs::is_directory(folder + "/inside"));
  // A destination inside a missing folder: the error names it, nothing is created.
  const std::string missing = dir.file("no/such/dir/x.safetensors");
  CHECK(error_of([&] {
          write_safetensors(missing, {{"w", "F32", Shape{4}, w.data()}}, {});
        }).find("expected a writable file") != std::string::npos);
  CHECK(!fs::exists(dir.file("no")));
}

TEST_CASE("the metadata alone is read from the header, with the same checks as a whole read") {
  TempDir dir;
  const std::string path = dir.file("meta.safetensors");
  std::vector<float> w(4, 1.0f);
  const std::map<std::string, std::string> meta = {{"curv.data", "mnist"}, {"k", "v"}};
  write_safetensors(path, {{"w", "F32", Shape{4}, w.data()}}, meta);
  CHECK(read_safetensors_metadata(path) == meta);
  CHECK(read_safetensors_metadata(path) == read_safetensors(path).metadata);
  // A file without metadata has none; a broken header fails in the same words as a whole read.
  const std::string bare = dir.file("bare.safetensors");
  write_safetensors(bare, {{"w", "F32", Shape{4}, w.data()}}, {});
  CHECK(read_safetensors_metadata(bare).empty());
  for (const std::string& bytes :
       {std::string("not a safetensors file at all"), file_with(R"({"__metadata__": [1]})", 0),
        file_with(R"({"__metadata__": {"k": 3}})", 0), file_with("{oops", 0)}) {
    const std::string bad = dir.file("bad.safetensors");
    std::ofstream(bad, std::ios::binary) << bytes;
    const std::string whole = error_of([&] { read_safetensors(bad); });
    CHECK(whole.find(bad + ": expected") == 0);
    CHECK(error_of([&] { read_safetensors_metadata(bad); }) == whole);
  }
  CHECK(error_of([&] { read_safetensors_metadata(dir.file("none.safetensors")); }) ==
        dir.file("none.safetensors") + ": expected a safetensors file, found none");
}
