// Checks every subcommand shares, so that they fail the same way with the same words.
#pragma once

#include <string>
#include <vector>

namespace curv::cli {

// A file the command will write later must be writable now, so a bad path fails before any
// work rather than after it: not a directory, its folder existing, a probe file creatable there.
// Empty: nothing to write, nothing checked.
void check_writable(const std::string& path, const char* option);

// Whether `s` ends in `suffix` (a file's extension).
bool ends_with(const std::string& s, const std::string& suffix);

// An input file the command reads: "OPTION 'PATH': expected WHAT, found no such file" (or a
// directory).
void check_readable(const std::string& path, const char* option, const char* what);

// The candidate closest to `name` by edit distance (an adjacent swap counts as one edit), or ""
// when none is close enough to be a typo: more than a third of the name's letters (at least one)
// differ.
std::string closest(const std::string& name, const std::vector<std::string>& candidates);

}  // namespace curv::cli
