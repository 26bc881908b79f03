#include "curv/distributed/sharded_columns.hpp"

#include "curv/core/error.hpp"

namespace curv::distributed {

std::pair<index_t, index_t> block_range(index_t n, index_t block, int rank, int ranks) {
  CURV_CHECK(block >= 1, "shard: expected blocks of at least one example, found ", block);
  CURV_CHECK(ranks >= 1 && rank >= 0 && rank < ranks, "shard: expected a rank in 0..", ranks - 1,
             ", found ", rank);
  const index_t blocks = (n + block - 1) / block, R = ranks, r = rank;
  const index_t first = r * blocks / R, last = (r + 1) * blocks / R;
  return {std::min(n, first * block), std::min(n, last * block)};
}

std::vector<double> gather_columns(
    Communicator& comm, const std::vector<index_t>& examples, index_t block, index_t rows,
    const std::function<std::vector<double>(std::vector<index_t> part)>& part_columns) {
  const auto n = index_t(examples.size());
  const int R = comm.size();
  const auto [begin, end] = block_range(n, block, comm.rank(), R);
  std::vector<double> mine;
  if (end > begin) {
    mine = part_columns(std::vector<index_t>(examples.begin() + begin, examples.begin() + end));
    CURV_CHECK(index_t(mine.size()) == rows * (end - begin), "shard: expected ", rows, " × ",
               end - begin, " values from this process's part, found ", mine.size());
  }
  std::vector<std::size_t> counts;
  for (int r = 0; r < R; ++r) {
    const auto [b, e] = block_range(n, block, r, R);
    counts.push_back(std::size_t(rows * (e - b)));
  }
  std::vector<double> blocks(comm.root() ? std::size_t(rows * n) : 0);
  comm.gather(mine.data(), counts, blocks.data());
  if (!comm.root()) return {};
  // Process r's block is (rows, n_r) row-major: its columns go to [b_r, e_r) of every row.
  std::vector<double> out(std::size_t(rows * n));
  std::size_t at = 0;
  for (int r = 0; r < R; ++r) {
    const auto [b, e] = block_range(n, block, r, R);
    for (index_t q = 0; q < rows; ++q)
      for (index_t j = b; j < e; ++j) out[std::size_t(q * n + j)] = blocks[at++];
  }
  return out;
}

}  // namespace curv::distributed
