// Progress of a long run: a redrawn bar with ETA on a terminal, plain lines otherwise.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace curv::cli {

class Progress {
 public:
  Progress() : tty_(isatty(fileno(stderr)) != 0), start_(std::chrono::steady_clock::now()) {}

  // Step `done` of `total` with the latest loss; only terminals get these.
  void step(long done, long total, double loss) {
    if (!tty_) return;
    const double el = elapsed(), eta = done > 0 ? el * double(total - done) / double(done) : 0;
    const int width = 30, filled = int(double(width) * double(done) / double(total));
    std::fprintf(stderr, "\r[%s%s] %3d%% step %ld/%ld loss %.4f  %s elapsed, ETA %s ",
                 std::string(filled, '=').c_str(), std::string(width - filled, ' ').c_str(),
                 int(100.0 * double(done) / double(total)), done, total, loss, clock(el).c_str(),
                 clock(eta).c_str());
    std::fflush(stderr);
  }
  // A line that stays (epoch summaries): clears the bar first on a terminal.
  void line(const std::string& s) {
    if (tty_) std::fprintf(stderr, "\r%*s\r", 100, "");
    std::fprintf(stderr, "%s\n", s.c_str());
    std::fflush(stderr);
  }
  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  static std::string clock(double s) {
    char b[32];
    const long t = long(s + 0.5);
    std::snprintf(b, sizeof b, "%ld:%02ld", t / 60, t % 60);
    return b;
  }
  bool tty_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace curv::cli
