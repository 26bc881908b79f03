// IDX files (LeCun's MNIST format): a big-endian header — magic 0x0000 08 D (unsigned bytes, D
// dimensions), then D 32-bit sizes — followed by the data. zlib reads raw and gzip files alike.
#include <zlib.h>

#include <memory>

#include "curv/core/error.hpp"
#include "curv/data/dataset.hpp"

namespace curv {
namespace {

struct GzFile {
  gzFile f;
  std::string path;
  explicit GzFile(const std::string& p) : f(gzopen(p.c_str(), "rb")), path(p) {
    CURV_CHECK(f != nullptr, path,
               ": expected a readable IDX file, found none (run datasets/fetch.sh)");
  }
  ~GzFile() { gzclose(f); }
  void read(void* out, std::size_t n, const char* what) {
    const int got = gzread(f, out, static_cast<unsigned>(n));
    int err = 0;
    const char* msg = got < 0 ? gzerror(f, &err) : nullptr;
    CURV_CHECK(
        got == static_cast<int>(n), path, ": expected ", n, " bytes of ", what, ", found ",
        got < 0 ? std::string("a read error (") + msg + ")" : std::to_string(got) + " (truncated)");
  }
  std::uint32_t be32(const char* what) {
    unsigned char b[4];
    read(b, 4, what);
    return (std::uint32_t(b[0]) << 24) | (std::uint32_t(b[1]) << 16) | (std::uint32_t(b[2]) << 8) |
           b[3];
  }
  void expect_end() {
    unsigned char extra;
    CURV_CHECK(gzread(f, &extra, 1) == 0, path,
               ": expected the file to end after its data, found more bytes");
  }
};

// Reads the header, checks the magic and the rank; returns the dimensions.
std::vector<std::uint32_t> header(GzFile& f, std::uint32_t dims) {
  const std::uint32_t magic = f.be32("header");
  CURV_CHECK(magic == (0x0800u | dims), f.path, ": expected IDX magic 0x", std::hex,
             (0x0800u | dims), " (unsigned bytes, ", std::dec, dims, " dims), found 0x", std::hex,
             magic);
  std::vector<std::uint32_t> d(dims);
  for (auto& v : d) v = f.be32("header");
  return d;
}

}  // namespace

Dataset load_idx(const std::string& images, const std::string& labels, const std::string& name) {
  Dataset ds;
  ds.name = name;
  GzFile fi(images);
  const auto d = header(fi, 3);
  CURV_CHECK(d[1] > 0 && d[2] > 0 && d[1] <= 4096 && d[2] <= 4096, images,
             ": expected image sizes in 1..4096, found ", d[1], "x", d[2]);
  ds.example = Shape{1, index_t(d[1]), index_t(d[2])};
  const std::size_t n = d[0];
  ds.pixels.resize(n * d[1] * d[2]);
  fi.read(ds.pixels.data(), ds.pixels.size(), "pixels");
  fi.expect_end();

  GzFile fl(labels);
  const auto lab = header(fl, 1);
  CURV_CHECK(lab[0] == d[0], labels, ": expected ", d[0], " labels to match ", images, ", found ",
             lab[0]);
  std::vector<std::uint8_t> raw(n);
  fl.read(raw.data(), raw.size(), "labels");
  fl.expect_end();
  ds.labels.resize(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    CURV_CHECK(raw[i] < 10, labels, ": expected labels 0..9, found ", int(raw[i]), " at example ",
               i);
    ds.labels[i] = raw[i];
  }
  return ds;
}

}  // namespace curv
