#include "curv/curvature/subset.hpp"

#include <algorithm>
#include <sstream>

#include "curv/core/error.hpp"

namespace curv {

namespace {

std::string prefix(const std::string& name) {
  const auto dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(0, dot);
}

index_t total(const std::vector<ParamInfo>& params) {
  index_t n = 0;
  for (const auto& p : params) n += p.shape.numel();
  return n;
}

}  // namespace

void ParamSubset::add(const ParamInfo& p) {
  if (std::find(names_.begin(), names_.end(), p.name) != names_.end()) return;
  // Kept in flat-vector order, whatever order the names were given in.
  const auto at = std::find_if(ranges_.begin(), ranges_.end(),
                               [&](const ParamRange& r) { return r.offset > p.offset; });
  names_.insert(names_.begin() + (at - ranges_.begin()), p.name);
  ranges_.insert(at, {p.offset, p.shape.numel()});
  size_ += p.shape.numel();
}

ParamSubset ParamSubset::all(const std::vector<ParamInfo>& params) {
  ParamSubset s;
  s.full_ = total(params);
  for (const auto& p : params) s.add(p);
  return s;
}

ParamSubset ParamSubset::parse(const std::string& spec, const std::vector<ParamInfo>& params) {
  CURV_CHECK(!params.empty(), "parameter subset: the model has no parameters");
  if (spec == "all") return all(params);
  ParamSubset s;
  s.full_ = total(params);
  std::vector<std::string> wanted;
  if (spec == "last") {
    wanted.push_back(prefix(params.back().name));
  } else {
    std::stringstream in(spec);
    std::string item;
    while (std::getline(in, item, ','))
      if (!item.empty()) wanted.push_back(item);
  }
  CURV_CHECK(!wanted.empty(), "parameter subset: expected all, last or layer names, found '", spec,
             "'");
  for (const auto& w : wanted) {
    bool found = false;
    for (const auto& p : params)
      if (p.name == w || prefix(p.name) == w) s.add(p), found = true;
    if (!found) {
      std::string known;
      for (const auto& p : params) known += (known.empty() ? "" : ", ") + p.name;
      fail("parameter subset: no parameter or layer named '", w, "'; known parameters: ", known);
    }
  }
  // Flat-vector order, whatever order the names were given in.
  std::vector<std::size_t> order(s.ranges_.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](auto a, auto b) { return s.ranges_[a].offset < s.ranges_[b].offset; });
  ParamSubset sorted;
  sorted.full_ = s.full_;
  for (auto i : order) {
    sorted.ranges_.push_back(s.ranges_[i]);
    sorted.names_.push_back(s.names_[i]);
    sorted.size_ += s.ranges_[i].size;
  }
  return sorted;
}

bool ParamSubset::contains(index_t offset) const {
  for (const auto& r : ranges_)
    if (offset >= r.offset && offset < r.offset + r.size) return true;
  return false;
}

void ParamSubset::gather(const double* full, double* sub) const {
  for (const auto& r : ranges_) sub = std::copy(full + r.offset, full + r.offset + r.size, sub);
}

void ParamSubset::scatter(const double* sub, double* full) const {
  std::fill(full, full + full_, 0.0);
  for (const auto& r : ranges_) {
    std::copy(sub, sub + r.size, full + r.offset);
    sub += r.size;
  }
}

}  // namespace curv
