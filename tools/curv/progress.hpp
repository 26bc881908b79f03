// Progress of a long run: a redrawn bar with ETA on a terminal; off a terminal only the lines that
// stay (a log file or a pipe gets no bars).
#pragma once

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "curv/linalg/operator.hpp"

namespace curv::cli {

// Seconds on the steady clock since t0: the timings in the commands' JSON lines.
inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

class Progress {
 public:
  // shown false: prints nothing at all (the other processes of a data-parallel run).
  explicit Progress(bool shown = true)
      : shown_(shown),
        tty_(shown && isatty(fileno(stderr)) != 0),
        start_(std::chrono::steady_clock::now()) {}

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
  // `done` of `total` units of `what` (total 0: unknown, no bar or ETA); only terminals get these.
  void count(long done, long total, const std::string& what) {
    if (!tty_) return;
    const double el = elapsed();
    if (total <= 0) {
      std::fprintf(stderr, "\r%s: %ld  %s elapsed ", what.c_str(), done, clock(el).c_str());
    } else {
      const double eta = done > 0 ? el * double(total - done) / double(done) : 0;
      const int width = 30,
                filled = int(double(width) * double(std::min(done, total)) / double(total));
      std::fprintf(stderr, "\r[%s%s] %s %ld/%ld  %s elapsed, ETA %s ",
                   std::string(filled, '=').c_str(), std::string(width - filled, ' ').c_str(),
                   what.c_str(), done, total, clock(el).c_str(), clock(eta).c_str());
    }
    std::fflush(stderr);
  }
  // A passing note on a terminal (what is being built), replaced by the next bar or line.
  void note(const std::string& s) {
    if (!tty_) return;
    std::fprintf(stderr, "\r%-100s", s.c_str());
    std::fflush(stderr);
  }
  // Elapsed time and ETA count from now on (a new stage).
  void restart() { start_ = std::chrono::steady_clock::now(); }
  // Clears the bar (a terminal), before the command prints its result.
  void clear() {
    if (tty_) std::fprintf(stderr, "\r%*s\r", 100, "");
  }
  // A line that stays (epoch summaries): clears the bar first on a terminal.
  void line(const std::string& s) {
    if (!shown_) return;
    if (tty_) std::fprintf(stderr, "\r%*s\r", 100, "");
    std::fprintf(stderr, "%s\n", s.c_str());
    std::fflush(stderr);
  }
  double elapsed() const { return seconds_since(start_); }

 private:
  static std::string clock(double s) {
    char b[32];
    const long t = long(s + 0.5);
    std::snprintf(b, sizeof b, "%ld:%02ld", t / 60, t % 60);
    return b;
  }
  bool shown_, tty_;
  std::chrono::steady_clock::time_point start_;
};

// An operator that reports each product it computes to a Progress bar: what a Krylov method, CG
// or LiSSA is doing during a long `spectrum` or `curvature` run. stage() names the next stage and
// its expected products (0: unknown) and restarts the count.
class ProgressOperator final : public LinearOperator {
 public:
  ProgressOperator(LinearOperator& inner, Progress& progress)
      : LinearOperator(inner.size()), inner_(inner), progress_(progress) {}
  void stage(const std::string& what, long expected) {
    what_ = what, expected_ = expected, done_ = 0;
    progress_.restart();
  }

  std::string name() const override { return inner_.name(); }
  void mv(const double* v, double* out) override { inner_.mv(v, out), tick(1); }
  void mm(const double* V, index_t k, double* out) override { inner_.mm(V, k, out), tick(k); }
  void inverse_mv(const double* v, double damping, double* out) override {
    inner_.inverse_mv(v, damping, out), tick(1);
  }
  void inverse_mm(const double* V, index_t k, double damping, double* out) override {
    inner_.inverse_mm(V, k, damping, out), tick(k);
  }
  std::vector<double> diagonal() override { return inner_.diagonal(); }
  double trace() override { return inner_.trace(); }
  double logdet(double damping) override { return inner_.logdet(damping); }
  Eigenpairs eigendecomposition() override { return inner_.eigendecomposition(); }
  bool has_inverse() const override { return inner_.has_inverse(); }
  bool has_diagonal() const override { return inner_.has_diagonal(); }

 private:
  void tick(long n) { progress_.count(done_ += n, expected_, what_); }
  LinearOperator& inner_;
  Progress& progress_;
  std::string what_ = "products";
  long expected_ = 0, done_ = 0;
};

}  // namespace curv::cli
