// Rng: a small, seeded, platform-independent generator (xoshiro256** seeded by splitmix64).
// The same seed gives the same stream on every machine and compiler, unlike the
// implementation-defined std distributions; training runs and sampled Fisher estimates rely on it.
#pragma once

#include <cstdint>
#include <vector>

namespace curv {

class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0);
  std::uint64_t next();                  // 64 random bits
  double uniform();                      // [0, 1)
  double normal();                       // N(0, 1)
  std::uint64_t below(std::uint64_t n);  // uniform integer in [0, n)
  // k distinct positions of 0..n−1, uniformly: the first k places of a Fisher–Yates shuffle, in
  // the order drawn (k draws of below). Needs 0 <= k <= n.
  std::vector<std::int64_t> choose(std::int64_t n, std::int64_t k);
  // An independent stream for worker k (e.g. one per example in a parallel loop).
  Rng split(std::uint64_t k) const;

  // The whole state (the four words, and the normal's cached second draw), so that a recorded
  // run can restart a stream exactly where it was.
  struct State {
    std::uint64_t words[4];
    double spare;
    bool has_spare;
  };
  State state() const;
  void set_state(const State& s);

 private:
  std::uint64_t s_[4];
  double spare_ = 0;
  bool has_spare_ = false;
};

}  // namespace curv
