// Errors: every failure a user can cause (bad file, wrong shape, unknown name) is a curv::Error
// whose message is one line naming what was expected and what was found.
#pragma once

#include <initializer_list>
#include <sstream>
#include <stdexcept>
#include <string>

namespace curv {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <class... Args>
std::string cat(const Args&... args) {
  std::ostringstream s;
  (s << ... << args);
  return s.str();
}

template <class... Args>
[[noreturn]] void fail(const Args&... args) {
  throw Error(cat(args...));
}

// Checks a condition that depends on user input; the message says what was expected and found.
#define CURV_CHECK(cond, ...)               \
  do {                                      \
    if (!(cond)) ::curv::fail(__VA_ARGS__); \
  } while (0)

// The message of the curv::Error that f throws, "" if it returns. A distributed run hands it to an
// agreement (Communicator::agree), so that every process throws the same error or none does.
template <class F>
std::string caught_error(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// A name that must be one of a known few: "WHO: expected WHAT among a, b, c, found 'value'".
inline void check_one_of(const std::string& value, std::initializer_list<const char*> known,
                         const std::string& who, const std::string& what) {
  std::string list;
  for (const char* k : known) {
    if (value == k) return;
    list += (list.empty() ? "" : ", ") + std::string(k);
  }
  fail(who, ": expected ", what, " among ", list, ", found '", value, "'");
}

}  // namespace curv
