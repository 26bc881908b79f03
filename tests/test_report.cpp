// Plots (report/): what every experiment and `curv spectrum --plot` draws with.
#include <doctest/doctest.h>

#include <filesystem>

#include "curv/report/plot.hpp"
#include "support/errors.hpp"

using namespace curv;

TEST_CASE("a plot whose values agree to rounding is drawn (PLplot would space ticks by it)") {
  curv::testing::TempDir dir;
  // λ_max of three batch sizes that a small model gives alike but for the last bit.
  const Series same{
      "mean", {1, 0.5, 0}, {0.8606261682160556, 0.8606261682160555, 0.8606261682160556}, true};
  for (const bool log_y : {false, true}) {
    const std::string path = dir.file(log_y ? "log.png" : "linear.png");
    plot_lines(path, "flat", "x", "y", {same}, log_y);
    CHECK(std::filesystem::file_size(path) > 1000);
  }
  const Series zero{"zero", {0, 1}, {0, 0}};  // and exactly equal, at zero
  plot_lines(dir.file("zero.png"), "zero", "x", "y", {zero});
  CHECK(std::filesystem::exists(dir.file("zero.png")));
}
