// ParamSubset: which parameters a curvature operator acts on — all of them, the last layer
// (last-layer Laplace, influence on the head), named layers, or single entries of the flat
// vector (a subnetwork: "entries:…"). An operator restricted to a subset S is Pᵀ M P for the
// coordinate injection P: its vectors hold only the subset's entries, in flat-vector order.
// A subset of entries is `partial` when it covers parameter tensors only in part; the tensors it
// touches are its `support`, over which per-tensor computations (sweeps, per-example rows) run
// before their entries are gathered.
#pragma once

#include <string>
#include <vector>

#include "curv/nn/params.hpp"

namespace curv {

struct ParamRange {
  index_t offset = 0, size = 0;  // in the full flat vector
};

// The layers of a parameter list in flat order: the prefixes before the final '.' of the names
// ("fc1" of fc1.weight and fc1.bias), each once — what "last" and per-layer reports group by.
std::vector<std::string> layer_names(const std::vector<ParamInfo>& params);

class ParamSubset {
 public:
  // Every parameter of the store.
  static ParamSubset all(const std::vector<ParamInfo>& params);
  // "all", "last" (the parameters of the last layer: those sharing the last parameter's prefix
  // before the final '.', e.g. fc3.weight and fc3.bias) or a comma-separated list of layer
  // prefixes ("fc1,fc3") and full parameter names ("fc3.weight"), or "entries:" and a list of
  // flat indices and inclusive ranges ("entries:0-9,15"). Unknown names and indices outside the
  // vector throw a curv::Error listing the known ones.
  static ParamSubset parse(const std::string& spec, const std::vector<ParamInfo>& params);
  // The entries at these flat indices (any order; repeats and out-of-range indices throw).
  static ParamSubset entries(std::vector<index_t> indices, const std::vector<ParamInfo>& params);
  // Text that parse() turns back into this subset: "all", the parameter names, or "entries:…".
  std::string spec() const;

  index_t size() const { return size_; }       // entries in the subset
  index_t full_size() const { return full_; }  // entries in the full flat vector
  bool is_all() const { return size_ == full_; }
  const std::vector<ParamRange>& ranges() const { return ranges_; }
  const std::vector<std::string>& names() const { return names_; }
  // Whether the parameter at `offset` of the full vector is in the subset.
  bool contains(index_t offset) const;
  // Whether the subset covers some parameter tensor only in part, and the tensors it touches
  // (whole).
  bool partial() const { return partial_; }
  ParamSubset support() const;

  // full → subset entries, and subset → full (zeros outside the subset).
  void gather(const double* full, double* sub) const;
  void scatter(const double* sub, double* full) const;

 private:
  void add(const ParamInfo& p);
  std::vector<ParamRange> ranges_;
  std::vector<std::string> names_;  // the tensor of each range
  index_t size_ = 0, full_ = 0;
  bool partial_ = false;
  std::vector<ParamRange> tensors_;  // partial: the touched tensors, whole, in flat order
  std::vector<std::string> tensor_names_;
};

}  // namespace curv
