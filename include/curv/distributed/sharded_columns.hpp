// Column-sharded results: a matrix with one column per training example (influence scores of
// Q queries, or self-influence with one row), each process computing the columns of its part
// of the examples and rank 0 gathering them in order (docs/distributed.md).
//
// The examples are cut into whole blocks of `block` consecutive ones (the last may be short),
// and each process takes a consecutive run of blocks. With the block size a scorer streams its
// gradients in, every process computes exactly the blocks one process would, so the gathered
// matrix is the unsharded one bit for bit when the rows' common part (the mapped queries, the
// metric) is the same on every process.
#pragma once

#include <functional>
#include <utility>
#include <vector>

#include "curv/core/shape.hpp"
#include "curv/distributed/communicator.hpp"

namespace curv::distributed {

// The positions [begin, end) of n items that process `rank` of `ranks` takes, in whole blocks.
std::pair<index_t, index_t> block_range(index_t n, index_t block, int rank, int ranks);

// On rank 0: the (rows, N) matrix, row-major, column j for examples[j]; `part_columns(part)`
// returns the (rows, part.size()) block of this process's part (not called for an empty part).
// Elsewhere: empty.
std::vector<double> gather_columns(
    Communicator& comm, const std::vector<index_t>& examples, index_t block, index_t rows,
    const std::function<std::vector<double>(std::vector<index_t> part)>& part_columns);

}  // namespace curv::distributed
