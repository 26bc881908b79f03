// RandomProjection: a seeded random map R:(P, k) that shrinks P-dimensional rows (per-example
// gradients) to k dimensions, out = G R, with E[R Rᵀ] = I so inner products are kept in
// expectation (Johnson–Lindenstrauss; TRAK and LoGra project gradients this way):
//   gaussian     R[i, j] ~ N(0, 1/k)
//   rademacher   R[i, j] = ±1/√k
//   sparse       a count sketch: row i has one non-zero, ±1 at a hashed column h(i); applying
//                it costs O(n·P) instead of the dense O(n·P·k)
// Row i is drawn from its own stream (seed, i), so R is one matrix whether it is generated
// whole and kept (when P·k fits the cache budget) or slice by slice each time it is applied.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "curv/core/shape.hpp"

namespace curv {

enum class ProjectionKind { Gaussian, Rademacher, Sparse };
// "gaussian", "rademacher" or "sparse"; throws a curv::Error naming the known ones.
ProjectionKind parse_projection(const std::string& name);
const char* projection_name(ProjectionKind k);

template <class T>
class RandomProjection {
 public:
  // Dense kinds keep R whole when P·k·sizeof(T) ≤ cache_bytes, else regenerate it in slices of
  // slice_rows rows on every apply. Throws unless 1 ≤ k ≤ P.
  RandomProjection(ProjectionKind kind, index_t P, index_t k, std::uint64_t seed,
                   std::size_t cache_bytes = std::size_t(512) << 20, index_t slice_rows = 4096);

  index_t rows() const { return P_; }
  index_t columns() const { return k_; }
  bool cached() const { return !R_.empty(); }
  ProjectionKind kind() const { return kind_; }

  // out:(n, k) = G:(n, P) · R, assigned (row-major, rows contiguous).
  void apply(const T* G, index_t n, T* out);
  // Row i of R (k entries), as apply uses it.
  std::vector<T> row(index_t i) const;
  // Seconds spent generating R so far, and in the products.
  double seconds_generating() const { return generating_; }
  double seconds_applying() const { return applying_; }

 private:
  void generate(index_t first, index_t count, T* out) const;  // rows [first, first+count)
  ProjectionKind kind_;
  index_t P_, k_, slice_rows_;
  std::uint64_t seed_;
  std::vector<T> R_;                  // dense and cached: (P, k)
  std::vector<std::int32_t> bucket_;  // sparse: h(i)
  std::vector<std::int8_t> sign_;     // sparse: ±1
  std::vector<T> slice_;              // dense, not cached: one slice of rows
  double generating_ = 0, applying_ = 0;
};

extern template class RandomProjection<float>;
extern template class RandomProjection<double>;

}  // namespace curv
