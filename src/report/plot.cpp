#include "curv/report/plot.hpp"

#include <plplot.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "curv/core/error.hpp"

namespace curv {

void plot_lines(const std::string& path, const std::string& title, const std::string& x_label,
                const std::string& y_label, const std::vector<Series>& series, bool log_y,
                bool legend_low) {
  CURV_CHECK(!series.empty(), "plot ", path, ": expected at least one series, found none");
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  auto ty = [&](double y) { return log_y ? std::log10(y) : y; };
  for (const auto& s : series)
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.y[i]) || (log_y && s.y[i] <= 0)) continue;
      x0 = std::min(x0, s.x[i]), x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, ty(s.y[i])), y1 = std::max(y1, ty(s.y[i]));
    }
  CURV_CHECK(std::isfinite(x0) && std::isfinite(y0), "plot ", path, ": no finite points to draw");
  if (x1 == x0) x1 = x0 + 1;
  if (y1 == y0) y1 = y0 + 1;
  const double pad = 0.04 * (y1 - y0);
  const std::string tmp = path + ".tmp.png";
  plsdev("pngcairo");
  plsfnam(tmp.c_str());
  plspage(0, 0, 1000, 650, 0, 0);
  plscolbg(255, 255, 255);
  plscol0(15, 0, 0, 0);  // colour 15 (white by default) becomes black for axes and labels
  plinit();
  plcol0(15);
  plenv(x0, x1, y0 - pad, y1 + pad, 0, log_y ? 20 : 2);
  pllab(x_label.c_str(), y_label.c_str(), title.c_str());
  const int colours[] = {1, 3, 9, 8, 12, 13, 4, 10};
  for (std::size_t k = 0; k < series.size(); ++k) {
    std::vector<double> xs, ys;
    for (std::size_t i = 0; i < series[k].x.size(); ++i)
      if (std::isfinite(series[k].y[i]) && !(log_y && series[k].y[i] <= 0))
        xs.push_back(series[k].x[i]), ys.push_back(ty(series[k].y[i]));
    plcol0(colours[k % 8]);
    plwidth(2.0);
    if (!xs.empty()) plline(int(xs.size()), xs.data(), ys.data());
    // Legend: one line of text per series, in the series' colour, inside the top right corner
    // (bottom right for rising curves, which end in the top right).
    const double at = legend_low ? 0.05 * double(series.size() - k) : 1.0 - 0.05 * double(k + 1);
    plmtex("rv", -2.0, at, 1.0, series[k].label.c_str());
  }
  plend();
  CURV_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, "plot: cannot write ", path);
}

}  // namespace curv
