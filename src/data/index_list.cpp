#include "curv/data/index_list.hpp"

#include <algorithm>
#include <charconv>
#include <numeric>

#include "curv/core/error.hpp"
#include "curv/data/task.hpp"
#include "curv/io/npy.hpp"

namespace curv {
namespace {

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }
bool ends_with(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

// A whole non-negative decimal number, or -1.
index_t number(const std::string& s) {
  index_t v = -1;
  if (s.empty() || s.size() > 18) return -1;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size() && v >= 0 ? v : -1;
}

struct Parser {
  const std::string& spec;
  std::string split_name;
  index_t size;

  [[noreturn]] void bad(const std::string& item, const std::string& why) const {
    fail("index list '", spec, "': ", why, item.empty() ? "" : " (item '" + item + "')");
  }
  void check_range(index_t i, const std::string& item) const {
    if (i < 0 || i >= size)
      bad(item, cat("expected indices in 0..", size - 1, " of split ", split_name, ", found ", i));
  }

  std::vector<index_t> file(const std::string& path, const std::string& item) const {
    const NpyArray a = read_npy(path);
    if (a.dtype != "<i8" && a.dtype != "<i4")
      bad(item, cat("expected int64 indices in ", path, ", found dtype ", a.dtype));
    if (a.shape.size() != 1)
      bad(item,
          cat("expected a vector of indices in ", path, ", found ", a.shape.size(), " dimensions"));
    std::vector<index_t> v = a.to_int64();
    for (index_t i : v) check_range(i, item);
    return v;
  }
};

}  // namespace

template <class T>
IndexList parse_index_list(const std::string& spec, const Task<T>& task) {
  IndexList list;
  list.spec = spec;
  list.split = "train";
  std::string rest = spec;
  if (const auto colon = rest.find(':'); colon != std::string::npos) {
    const std::string head = rest.substr(0, colon);
    if (head == "train" || head == "val" || head == "test" || task.has_split(head))
      list.split = head, rest = rest.substr(colon + 1);
  }
  CURV_CHECK(!rest.empty(), "index list '", spec,
             "': expected indices after the split, found none");
  if (!task.has_split(list.split)) {
    std::string known;
    for (const auto& n : task.split_names()) known += (known.empty() ? "" : ", ") + n;
    fail("index list '", spec, "': expected a split among ", known, " of ", task.name(),
         ", found '", list.split, "'");
  }
  const Split<T>& split = task.split(list.split);
  const Parser p{spec, split.name(), split.size()};

  std::vector<std::string> items;
  for (std::size_t start = 0;;) {
    const auto comma = rest.find(',', start);
    items.push_back(rest.substr(start, comma == std::string::npos ? comma : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  auto& out = list.indices;
  for (const std::string& item : items) {
    if (item.empty()) p.bad("", "expected an item between commas, found an empty one");
    const bool alone = item == "all" || starts_with(item, "all-but:");
    if (alone && items.size() > 1) p.bad(item, "expected 'all' and 'all-but:' to stand alone");
    if (item == "all") {
      out.resize(std::size_t(p.size));
      std::iota(out.begin(), out.end(), index_t(0));
    } else if (starts_with(item, "all-but:class:")) {  // held-out-class protocols
      const index_t k = number(item.substr(14));
      if (k < 0) p.bad(item, "expected all-but:class:K with a class number K >= 0");
      for (index_t i = 0; i < p.size; ++i)
        if (split.class_of(i) != k) out.push_back(i);
      if (index_t(out.size()) == p.size) {
        if (split.class_of(0) < 0)
          p.bad(item, cat("expected a split with class labels, found ", split.name(), " without"));
        p.bad(item, cat("expected examples of class ", k, " in ", split.name(), ", found none"));
      }
    } else if (starts_with(item, "all-but:")) {
      std::vector<bool> drop(std::size_t(p.size), false);
      for (index_t i : p.file(item.substr(8), item)) drop[std::size_t(i)] = true;
      for (index_t i = 0; i < p.size; ++i)
        if (!drop[std::size_t(i)]) out.push_back(i);
    } else if (starts_with(item, "class:")) {
      const index_t k = number(item.substr(6));
      if (k < 0) p.bad(item, "expected class:K with a class number K >= 0");
      const std::size_t before = out.size();
      for (index_t i = 0; i < p.size; ++i)
        if (split.class_of(i) == k) out.push_back(i);
      if (out.size() == before) {
        if (split.class_of(0) < 0)
          p.bad(item, cat("expected a split with class labels, found ", split.name(), " without"));
        p.bad(item, cat("expected examples of class ", k, " in ", split.name(), ", found none"));
      }
    } else if (starts_with(item, "random:")) {
      const std::string arg = item.substr(7);
      const auto at = arg.find('@');
      const index_t n = number(arg.substr(0, at));
      const index_t seed = at == std::string::npos ? 0 : number(arg.substr(at + 1));
      if (n < 1 || seed < 0) p.bad(item, "expected random:N or random:N@SEED with N >= 1");
      if (n > p.size)
        p.bad(item, cat("expected at most ", p.size, " examples of ", split.name(), ", found ", n));
      std::vector<index_t> perm = Rng(static_cast<std::uint64_t>(seed)).choose(p.size, n);
      std::sort(perm.begin(), perm.end());
      out.insert(out.end(), perm.begin(), perm.end());
    } else if (ends_with(item, ".npy")) {
      const auto v = p.file(item, item);
      out.insert(out.end(), v.begin(), v.end());
    } else if (const auto dash = item.find('-'); dash != std::string::npos) {
      const index_t a = number(item.substr(0, dash)), b = number(item.substr(dash + 1));
      if (a < 0 || b < 0) p.bad(item, "expected a range N-M of whole numbers");
      if (b < a) p.bad(item, cat("expected a range N-M with N <= M, found ", a, "-", b));
      p.check_range(b, item);
      for (index_t i = a; i <= b; ++i) out.push_back(i);
    } else {
      const index_t i = number(item);
      if (i < 0)
        p.bad(item,
              "expected all, N, N-M, class:K, random:N[@SEED], FILE.npy, all-but:FILE.npy or "
              "all-but:class:K");
      p.check_range(i, item);
      out.push_back(i);
    }
  }
  CURV_CHECK(!out.empty(), "index list '", spec, "': expected at least one example of ",
             split.name(), ", found none");
  return list;
}

template <class T>
IndexList all_of(const Task<T>& task, const std::string& split) {
  return parse_index_list(split + ":all", task);
}

template IndexList parse_index_list(const std::string&, const Task<float>&);
template IndexList parse_index_list(const std::string&, const Task<double>&);
template IndexList all_of(const Task<float>&, const std::string&);
template IndexList all_of(const Task<double>&, const std::string&);

}  // namespace curv
