// Errors: every failure a user can cause (bad file, wrong shape, unknown name) is a curv::Error
// whose message is one line naming what was expected and what was found.
#pragma once

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

}  // namespace curv
