#include "curv/data/dataset.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "curv/core/error.hpp"
#include "curv/core/rng.hpp"

namespace curv {

template <class T>
void Dataset::gather(const index_t* idx, index_t n, T* x, std::int64_t* y) const {
  const index_t d = example.numel();
  const T scale = T(1) / T(255);
  for (index_t i = 0; i < n; ++i) {
    CURV_CHECK(idx[i] >= 0 && idx[i] < size(), name, ": expected an example index in [0,", size(),
               "), found ", idx[i]);
    const std::uint8_t* p = pixels.data() + idx[i] * d;
    for (index_t j = 0; j < d; ++j) x[i * d + j] = T(p[j]) * scale;
    if (y) y[i] = labels[static_cast<std::size_t>(idx[i])];
  }
}

template void Dataset::gather<float>(const index_t*, index_t, float*, std::int64_t*) const;
template void Dataset::gather<double>(const index_t*, index_t, double*, std::int64_t*) const;

std::vector<index_t> relabel(Dataset& d, double fraction, std::uint64_t seed, const char* option) {
  CURV_CHECK(fraction >= 0 && fraction < 1, option, ": expected a fraction in [0, 1), found ",
             fraction);
  CURV_CHECK(d.classes >= 2, d.name, ": expected at least 2 classes to relabel, found ", d.classes);
  const index_t N = d.size(), k = index_t(std::llround(fraction * double(N)));
  // k examples drawn without replacement, then each shifted by 1..C−1 classes.
  Rng rng(seed);
  std::vector<index_t> order = rng.choose(N, k);
  std::sort(order.begin(), order.end());
  for (index_t i : order) {
    std::int64_t& y = d.labels[std::size_t(i)];
    y = (y + 1 + std::int64_t(rng.below(std::uint64_t(d.classes - 1)))) % d.classes;
  }
  return order;
}

void keep_classes(Dataset& d, const std::vector<std::int64_t>& classes) {
  CURV_CHECK(classes.size() >= 2, "--classes: expected at least 2 classes, found ", classes.size());
  std::vector<std::int64_t> to(static_cast<std::size_t>(d.classes), -1);
  for (std::size_t k = 0; k < classes.size(); ++k) {
    const std::int64_t c = classes[k];
    CURV_CHECK(c >= 0 && c < d.classes, "--classes: expected classes in 0..", d.classes - 1, " (",
               d.name, "), found ", c);
    CURV_CHECK(to[std::size_t(c)] < 0, "--classes: expected distinct classes, found ", c, " twice");
    to[std::size_t(c)] = std::int64_t(k);
  }
  const index_t bytes = d.example.numel();
  std::size_t kept = 0;
  for (std::size_t i = 0; i < d.labels.size(); ++i) {
    const std::int64_t y = to[std::size_t(d.labels[i])];
    if (y < 0) continue;
    std::copy_n(d.pixels.begin() + std::ptrdiff_t(i) * bytes, bytes,
                d.pixels.begin() + std::ptrdiff_t(kept) * bytes);
    d.labels[kept++] = y;
  }
  d.labels.resize(kept);
  d.pixels.resize(kept * std::size_t(bytes));
  d.classes = index_t(classes.size());
}

std::string data_dir() {
  if (const char* d = std::getenv("CURV_DATA"); d && *d) return d;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.cache/curv";
}

Dataset load_dataset(const std::string& name, const std::string& split) {
  CURV_CHECK(split == "train" || split == "test", "dataset: expected split train or test, found '",
             split, "'");
  const bool train = split == "train";
  const std::string dir = data_dir() + "/" + name;
  if (name == "fashion-mnist" || name == "mnist") {
    const std::string prefix = dir + (train ? "/train" : "/t10k");
    return load_idx(prefix + "-images-idx3-ubyte", prefix + "-labels-idx1-ubyte",
                    name + "/" + split);
  }
  if (name == "cifar10") {
    if (std::filesystem::exists(dir + "/bin/test_batch.bin"))
      return load_cifar10_bin(dir + "/bin", train);
    return load_cifar10_png(dir, train);
  }
  fail("dataset: expected one of fashion-mnist, mnist, cifar10, found '", name, "'");
}

}  // namespace curv
