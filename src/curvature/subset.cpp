#include "curv/curvature/subset.hpp"

#include <algorithm>
#include <charconv>
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

std::vector<std::string> layer_names(const std::vector<ParamInfo>& params) {
  std::vector<std::string> out;
  for (const ParamInfo& p : params)
    if (out.empty() || out.back() != prefix(p.name)) out.push_back(prefix(p.name));
  return out;
}

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

ParamSubset ParamSubset::entries(std::vector<index_t> indices,
                                 const std::vector<ParamInfo>& params) {
  CURV_CHECK(!params.empty(), "parameter subset: the model has no parameters");
  CURV_CHECK(!indices.empty(), "parameter subset: expected at least one entry, found none");
  std::sort(indices.begin(), indices.end());
  ParamSubset s;
  s.full_ = total(params);
  for (std::size_t i = 0; i < indices.size(); ++i) {
    const index_t at = indices[i];
    CURV_CHECK(at >= 0 && at < s.full_, "parameter subset: expected entries in 0..", s.full_ - 1,
               ", found ", at);
    CURV_CHECK(i == 0 || at != indices[i - 1], "parameter subset: entry ", at, " given twice");
  }
  std::size_t i = 0;
  for (const ParamInfo& p : params) {  // runs of consecutive entries, cut at tensor boundaries
    const index_t end = p.offset + p.shape.numel();
    const std::size_t first = i;
    while (i < indices.size() && indices[i] < end) {
      std::size_t j = i;
      while (j + 1 < indices.size() && indices[j + 1] == indices[j] + 1 && indices[j + 1] < end)
        ++j;
      s.ranges_.push_back({indices[i], indices[j] - indices[i] + 1});
      s.names_.push_back(p.name);
      i = j + 1;
    }
    if (i == first) continue;
    s.tensors_.push_back({p.offset, p.shape.numel()});
    s.tensor_names_.push_back(p.name);
    const index_t held = index_t(i - first);
    s.partial_ = s.partial_ || held != p.shape.numel();
  }
  s.size_ = index_t(indices.size());
  if (!s.partial_) s.tensors_.clear(), s.tensor_names_.clear();  // whole tensors: ranges suffice
  return s;
}

std::string ParamSubset::spec() const {
  if (size_ == full_) return "all";
  std::string out;
  if (!partial_) {
    for (const auto& n : names_) out += (out.empty() ? "" : ",") + n;
    return out;
  }
  for (const auto& r : ranges_) {
    out += out.empty() ? "entries:" : ",";
    out += std::to_string(r.offset);
    if (r.size > 1) out += "-" + std::to_string(r.offset + r.size - 1);
  }
  return out;
}

ParamSubset ParamSubset::support() const {
  if (!partial_) return *this;
  ParamSubset s;
  s.full_ = full_, s.ranges_ = tensors_, s.names_ = tensor_names_;
  for (const auto& r : tensors_) s.size_ += r.size;
  return s;
}

ParamSubset ParamSubset::parse(const std::string& spec, const std::vector<ParamInfo>& params) {
  CURV_CHECK(!params.empty(), "parameter subset: the model has no parameters");
  if (spec == "all") return all(params);
  if (spec.rfind("entries:", 0) == 0) {
    const index_t P = total(params);
    CURV_CHECK(spec.size() > 8 && spec.back() != ',', "parameter subset '", spec,
               "': expected entries as N or N-M separated by commas");
    std::vector<index_t> indices;
    std::stringstream in(spec.substr(8));
    std::string item;
    while (std::getline(in, item, ',')) {
      // N or N-M, whole decimal numbers (from_chars: no sign, no space, nothing left over).
      const std::size_t dash = item.find('-', 1);
      const auto whole = [&](std::size_t from, std::size_t to, long long& v) {
        const char* end = item.data() + to;
        const auto [at, ec] = std::from_chars(item.data() + from, end, v);
        return from < to && ec == std::errc() && at == end;
      };
      long long a = 0, b = 0;
      const bool read = dash == std::string::npos
                            ? whole(0, item.size(), a)
                            : whole(0, dash, a) && whole(dash + 1, item.size(), b);
      if (dash == std::string::npos) b = a;
      if (!read)
        fail("parameter subset '", spec, "': expected entries as N or N-M, found '", item, "'");
      // Checked before expanding: a range past the vector must not allocate its length.
      CURV_CHECK(a >= 0 && a <= b && b < P, "parameter subset '", spec,
                 "': expected entries N-M with 0 <= N <= M <= ", P - 1, ", found '", item, "'");
      for (long long k = a; k <= b; ++k) indices.push_back(index_t(k));
    }
    return entries(std::move(indices), params);
  }
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
