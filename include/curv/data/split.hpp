// Split: one named part of a task's examples — train, val or test — addressed by index
// 0..size()−1. A split turns a list of indices into a Batch; every batching loop in curv goes
// through a BatchSource (data/batch_source.hpp), which calls fill().
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "curv/core/rng.hpp"
#include "curv/data/batch.hpp"

namespace curv {

template <class T>
class Split {
 public:
  virtual ~Split() = default;
  virtual std::string name() const = 0;  // e.g. "fashion-mnist/train"
  virtual index_t size() const = 0;
  virtual Shape example_shape() const = 0;
  // Whether examples carry targets (a .npy data set given without labels does not).
  virtual bool labelled() const { return true; }
  // The class of example i, for class:K index lists; -1 where examples have no single class.
  virtual std::int64_t class_of(index_t /*i*/) const { return -1; }
  // b ← the examples idx (inputs, targets and indices), idx checked by the caller. With a
  // generator the split draws what training randomizes (augmentation, window offsets, generated
  // examples); without one it is deterministic, so evaluations see the same data every time.
  virtual void fill(std::span<const index_t> idx, Rng* rng, Batch<T>& b) const = 0;
  // A hash of everything fill() reads; a replayed run compares it with the recorded one.
  virtual std::uint64_t fingerprint() const = 0;
  // Bytes of example data held in memory.
  virtual std::size_t bytes() const { return 0; }
};

// The examples map[0..] of base, renumbered from 0 and named `name`: a validation split carved
// from a training split, and what remains of it.
template <class T>
std::shared_ptr<const Split<T>> subset_split(std::shared_ptr<const Split<T>> base,
                                             std::vector<index_t> map, std::string name);

// FNV-1a over bytes, continuing from h: the hash every split's fingerprint uses.
std::uint64_t fnv1a(const void* data, std::size_t bytes, std::uint64_t h = 1469598103934665603ULL);

}  // namespace curv
