#include "curv/data/t2t.hpp"

#include <algorithm>

#include "curv/core/error.hpp"

namespace curv::t2t {
namespace {
const std::string kChars = " +:0123456789abcdefghijklmnopqrstuvwxyz";  // ids 3, 4, …
}

const std::vector<std::string>& task_names() {
  static const std::vector<std::string> names{"reverse", "sort", "add"};
  return names;
}

index_t vocab_size() { return 3 + index_t(kChars.size()); }

std::int64_t token(char c) {
  const auto at = kChars.find(c);
  CURV_CHECK(at != std::string::npos, "t2t: expected a character of the vocabulary, found '", c,
             "'");
  return 3 + std::int64_t(at);
}

char character(std::int64_t id) {
  return id >= 3 && id < vocab_size() ? kChars[std::size_t(id - 3)] : '\0';
}

bool held_out(const std::string& source) {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (char c : source) h = (h ^ std::uint64_t(static_cast<unsigned char>(c))) * 1099511628211ULL;
  return h % 10 == 0;
}

Example generate(Rng& rng, std::size_t task, bool held) {
  CURV_CHECK(task < task_names().size(), "t2t: expected a task index below ", task_names().size(),
             ", found ", task);
  for (;;) {
    Example e;
    if (task == 2) {
      const auto a = rng.below(10000), b = rng.below(10000);
      e.source = "add: " + std::to_string(a) + "+" + std::to_string(b);
      e.target = std::to_string(a + b);
    } else {
      std::string s(5 + rng.below(8), 'a');
      for (char& c : s) c = char('a' + rng.below(26));
      e.source = task_names()[task] + ": " + s;
      e.target = s;
      if (task == 0)
        std::reverse(e.target.begin(), e.target.end());
      else
        std::sort(e.target.begin(), e.target.end());
    }
    if (held_out(e.source) == held) return e;
  }
}

template <class T>
void encode(const Example& e, T* x, std::int64_t* y) {
  CURV_CHECK(index_t(e.source.size()) <= kSource && index_t(e.target.size()) < kTarget,
             "t2t: expected a source of at ", "most ", kSource, " and a target of at most ",
             kTarget - 1, " characters, found '", e.source, "' → '", e.target, "'");
  for (index_t i = 0; i < kSource; ++i)
    x[i] = T(i < index_t(e.source.size()) ? token(e.source[std::size_t(i)]) : kPad);
  T* dec = x + kSource;
  dec[0] = T(kBos);
  for (index_t i = 0; i < kTarget; ++i) {
    const index_t n = index_t(e.target.size());
    if (i + 1 < kTarget) dec[i + 1] = T(i < n ? token(e.target[std::size_t(i)]) : kPad);
    if (y) y[i] = i < n ? token(e.target[std::size_t(i)]) : (i == n ? kEos : kPad);
  }
}

template void encode<float>(const Example&, float*, std::int64_t*);
template void encode<double>(const Example&, double*, std::int64_t*);

}  // namespace curv::t2t
