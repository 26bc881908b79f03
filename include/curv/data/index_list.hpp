// Index lists: which examples of which split a command works on, in one grammar shared by every
// command and experiment (docs/data.md):
//
//   LIST  := [SPLIT ':'] ITEM (',' ITEM)*        SPLIT := train | val | test   (default: train)
//                                                         or another split of the task ("wide")
//   ITEM  := all                   every example of the split
//          | N | N-M               one index, or the range N..M inclusive
//          | class:K               every example of class K
//          | random:N[@SEED]       N distinct examples drawn uniformly (seed 0 by default)
//          | FILE.npy              int64 (or int32) indices, a vector
//          | all-but:FILE.npy      every example except those in FILE (leave-out retraining)
//          | all-but:class:K       every example not of class K (held-out-class protocols)
//
// e.g. "0-4999", "test:0-99", "class:3", "val:all", "picked.npy", "all-but:removed.npy",
// "0-99,class:7". Items are concatenated in the order written; all-but and all stand alone.
// Every failure — a malformed item, an index outside the split, an unknown split, an empty
// list — is a one-line curv::Error naming the list, the split and what was expected vs found.
#pragma once

#include <string>
#include <vector>

#include "curv/core/shape.hpp"

namespace curv {

template <class T>
class Task;

struct IndexList {
  std::string split = "train";
  std::vector<index_t> indices;
  std::string spec;  // as written, for run records

  index_t size() const { return index_t(indices.size()); }
};

template <class T>
IndexList parse_index_list(const std::string& spec, const Task<T>& task);

// Every example of a split, in order.
template <class T>
IndexList all_of(const Task<T>& task, const std::string& split);

}  // namespace curv
