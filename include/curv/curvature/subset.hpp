// ParamSubset: which parameters a curvature operator acts on — all of them, the last layer
// (last-layer Laplace, influence on the head), or named layers. An operator restricted to a
// subset S is Pᵀ M P for the coordinate injection P: its vectors hold only the subset's entries,
// in flat-vector order.
#pragma once

#include <string>
#include <vector>

#include "curv/nn/params.hpp"

namespace curv {

struct ParamRange {
  index_t offset = 0, size = 0;  // in the full flat vector
};

class ParamSubset {
 public:
  // Every parameter of the store.
  static ParamSubset all(const std::vector<ParamInfo>& params);
  // "all", "last" (the parameters of the last layer: those sharing the last parameter's prefix
  // before the final '.', e.g. fc3.weight and fc3.bias) or a comma-separated list of layer
  // prefixes ("fc1,fc3") and full parameter names ("fc3.weight"). Unknown names throw a
  // curv::Error listing the known ones.
  static ParamSubset parse(const std::string& spec, const std::vector<ParamInfo>& params);

  index_t size() const { return size_; }       // entries in the subset
  index_t full_size() const { return full_; }  // entries in the full flat vector
  bool is_all() const { return size_ == full_; }
  const std::vector<ParamRange>& ranges() const { return ranges_; }
  const std::vector<std::string>& names() const { return names_; }
  // Whether the parameter at `offset` of the full vector is in the subset.
  bool contains(index_t offset) const;

  // full → subset entries, and subset → full (zeros outside the subset).
  void gather(const double* full, double* sub) const;
  void scatter(const double* sub, double* full) const;

 private:
  void add(const ParamInfo& p);
  std::vector<ParamRange> ranges_;
  std::vector<std::string> names_;
  index_t size_ = 0, full_ = 0;
};

}  // namespace curv
