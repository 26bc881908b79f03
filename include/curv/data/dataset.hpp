// Labelled image datasets in memory, kept as the files' 8-bit pixels (a quarter of the memory
// of floats) and turned into batches of pixel/255 in [0,1], NCHW, on demand.
//
// Files live outside the checkout, in data_dir() (CURV_DATA, else ~/.cache/curv), where
// datasets/fetch.sh puts verified copies. Every loader checks what it reads and throws
// curv::Error naming the file and what was expected vs found (missing, truncated, corrupt).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "curv/core/tensor.hpp"

namespace curv {

struct Dataset {
  std::string name;                  // e.g. "fashion-mnist/train"
  Shape example;                     // one image, e.g. {1,28,28}
  std::vector<std::uint8_t> pixels;  // (N, example…)
  std::vector<std::int64_t> labels;  // (N)
  index_t classes = 10;

  index_t size() const { return static_cast<index_t>(labels.size()); }
  // x:(n, example…) = pixels/255 and y:(n) of the examples idx[0..n).
  template <class T>
  void gather(const index_t* idx, index_t n, T* x, std::int64_t* y) const;
};

// CURV_DATA if set, else $HOME/.cache/curv.
std::string data_dir();

// IDX image and label files (raw or gzip-compressed), e.g. MNIST's and Fashion-MNIST's.
Dataset load_idx(const std::string& images, const std::string& labels, const std::string& name);

// CIFAR-10 from the PNG batches (data_batch_1..5.png / test_batch.png, one 32×32 RGB image per
// row, R,G,B interleaved, labels in train_lables.json / test_lables.json) in dir.
Dataset load_cifar10_png(const std::string& dir, bool train);
// CIFAR-10 from the official binary batches (per record: label byte, then R, G, B planes).
Dataset load_cifar10_bin(const std::string& dir, bool train);
// Writes the official binary batches (data_batch_1..5.bin, test_batch.bin) into out_dir from a
// dataset loaded from PNGs; each file is written to a temporary name and renamed.
void write_cifar10_bin(const Dataset& train, const Dataset& test, const std::string& out_dir);

// By name: "fashion-mnist", "mnist", "cifar10" (binary batches if present, else PNGs); split
// "train" or "test". Throws curv::Error listing the known names otherwise. (Tasks select examples
// with index lists, data/index_list.hpp.)
Dataset load_dataset(const std::string& name, const std::string& split);

// Symmetric label noise: round(fraction · N) examples, drawn without replacement with `seed`,
// each given a class other than its own, uniformly. Returns their indices, ascending: the
// mislabelled examples a detection method should find. Throws for a fraction outside [0, 1).
std::vector<index_t> relabel(Dataset& d, double fraction, std::uint64_t seed,
                             const char* option = "--label-noise");

// Only the examples of the listed classes, in their order, relabeled 0..K−1 in the order listed
// (["1", "7"]: ones become 0, sevens 1) — Koh & Liang's binary MNIST. Throws for fewer than two
// classes, a repeated one or one outside 0..classes−1.
void keep_classes(Dataset& d, const std::vector<std::int64_t>& classes);

// A UTF-8 text file as Unicode code points; throws on invalid UTF-8 (naming the byte offset).
std::u32string load_text(const std::string& path);

}  // namespace curv
