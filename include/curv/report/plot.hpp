// Line plots as PNG files (PLplot's pngcairo device): what every experiment draws its curves
// with, so a README's figure is made by the program that produced its numbers.
#pragma once

#include <string>
#include <vector>

namespace curv {

struct Series {
  std::string label;
  std::vector<double> x, y;
  bool points = false;  // drawn as dots, not joined (data points)
};

// One panel: every series as a line (or dots) in its own colour (a colour-blind-safe palette) and
// line style, with a legend of line samples and a light grid. log_y plots log10(y) with decade
// ticks; legend_low puts the legend in the bottom right corner instead of the top right (for rising
// curves); the y-range fits the points past `focus` of the x-range (0: all of them), so an early
// transient does not squash the region where the curves differ. Written to a temporary file and
// renamed over `path`.
void plot_lines(const std::string& path, const std::string& title, const std::string& x_label,
                const std::string& y_label, const std::vector<Series>& series, bool log_y = false,
                bool legend_low = false, double focus = 0);

}  // namespace curv
