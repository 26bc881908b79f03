#include "checks.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "curv/core/error.hpp"

namespace curv::cli {

void check_writable(const std::string& path, const char* option) {
  namespace fs = std::filesystem;
  if (path.empty()) return;
  CURV_CHECK(!fs::is_directory(path), option, " '", path,
             "': expected a file path, found a directory");
  const fs::path dir = fs::absolute(path).parent_path();
  CURV_CHECK(fs::is_directory(dir), option, " '", path, "': expected an existing directory ",
             dir.string(), ", found none");
  // A probe beside the target: writing the target itself would clobber a file that a failed run
  // must leave alone.
  const std::string probe = path + ".probe";
  {
    std::ofstream f(probe);
    CURV_CHECK(f.good(), option, " '", path,
               "': expected a writable place, found it cannot be written");
  }
  fs::remove(probe);
}

void check_readable(const std::string& path, const char* option, const char* what) {
  namespace fs = std::filesystem;
  CURV_CHECK(fs::exists(path), option, " '", path, "': expected ", what, ", found no such file");
  CURV_CHECK(!fs::is_directory(path), option, " '", path, "': expected ", what,
             ", found a directory");
}

std::string closest(const std::string& name, const std::vector<std::string>& candidates) {
  // Edit distance with adjacent swaps counting once (optimal string alignment).
  auto distance = [](const std::string& a, const std::string& b) {
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i)
      for (std::size_t j = 1; j <= b.size(); ++j) {
        d[i][j] = std::min(
            {d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1] ? 1 : 0)});
        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
          d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    return d[a.size()][b.size()];
  };
  // A typo changes a few letters, not most: at most a third of them (dashes aside), at least one.
  const std::size_t letters = name.size() - std::min(name.find_first_not_of('-'), name.size());
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(1, letters / 3) + 1;
  for (const std::string& c : candidates) {
    const std::size_t d = distance(name, c);
    if (d < best_distance) best = c, best_distance = d;
  }
  return best;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace curv::cli
