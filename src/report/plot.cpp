#include "curv/report/plot.hpp"

#include <plplot.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "curv/core/error.hpp"

namespace curv {

namespace {

// Okabe & Ito's colour-blind-safe palette (yellow last: faint on white), set as PLplot's colours
// 1..8; each series also gets its own line style, so two series never differ by colour alone.
constexpr int kPalette[8][3] = {{0, 114, 178},   {213, 94, 0},   {0, 158, 115}, {230, 159, 0},
                                {204, 121, 167}, {86, 180, 233}, {0, 0, 0},     {240, 228, 66}};
constexpr int kBlack = 15, kGrid = 14;

// A range narrower than rounding (values equal to 1e-9) opens to ±5 % of them, or ±0.5 around
// zero: PLplot would otherwise space its ticks by the rounding error and draw without end.
void widen(double& lo, double& hi) {
  const double scale = std::max(std::abs(lo), std::abs(hi));
  if (hi - lo > 1e-9 * scale) return;
  const double half = scale > 0 ? 0.05 * scale : 0.5;
  lo -= half, hi += half;
}

}  // namespace

void plot_lines(const std::string& path, const std::string& title, const std::string& x_label,
                const std::string& y_label, const std::vector<Series>& series, bool log_y,
                bool legend_low, double focus) {
  CURV_CHECK(!series.empty(), "plot ", path, ": expected at least one series, found none");
  CURV_CHECK(focus >= 0 && focus < 1, "plot ", path, ": expected a focus in [0, 1), found ", focus);
  auto ty = [&](double y) { return log_y ? std::log10(y) : y; };
  auto drawable = [&](double y) { return std::isfinite(y) && !(log_y && y <= 0); };
  double x0 = INFINITY, x1 = -INFINITY;
  for (const auto& s : series)
    for (std::size_t i = 0; i < s.x.size(); ++i)
      if (drawable(s.y[i])) x0 = std::min(x0, s.x[i]), x1 = std::max(x1, s.x[i]);
  CURV_CHECK(std::isfinite(x0), "plot ", path, ": no finite points to draw");
  widen(x0, x1);
  // The y-range fits the points past `focus` of the x-range: the early transient (an accuracy of
  // 10 % at step 0) would otherwise squash the region where the curves differ.
  const double from = x0 + focus * (x1 - x0);
  double y0 = INFINITY, y1 = -INFINITY;
  for (const auto& s : series)
    for (std::size_t i = 0; i < s.x.size(); ++i)
      if (drawable(s.y[i]) && s.x[i] >= from)
        y0 = std::min(y0, ty(s.y[i])), y1 = std::max(y1, ty(s.y[i]));
  widen(y0, y1);
  const double pad = 0.04 * (y1 - y0);

  const std::string tmp = path + ".tmp.png";
  plsdev("pngcairo");
  plsfnam(tmp.c_str());
  plspage(0, 0, 1000, 650, 0, 0);
  plscolbg(255, 255, 255);
  for (int c = 0; c < 8; ++c) plscol0(c + 1, kPalette[c][0], kPalette[c][1], kPalette[c][2]);
  plscol0(kGrid, 225, 225, 225);
  plscol0(kBlack, 0, 0, 0);
  plinit();
  pladv(0);
  plvsta();
  plwind(x0, x1, y0 - pad, y1 + pad);
  // Light grid first, then the frame, ticks and labels over it.
  const char* y_ticks = log_y ? "bcnstlv" : "bcnstv";
  plcol0(kGrid);
  plwidth(1.0);
  plbox("g", 0, 0, log_y ? "gl" : "g", 0, 0);
  plcol0(kBlack);
  plbox("bcnst", 0, 0, y_ticks, 0, 0);
  pllab(x_label.c_str(), y_label.c_str(), title.c_str());

  const auto n = int(series.size());
  const std::size_t count = series.size();
  std::vector<int> colours(count), styles(count), opts(count);
  std::vector<double> widths(count, 2.0);
  std::vector<const char*> labels(count), symbols(count, "•");
  std::vector<double> symbol_scales(count, 1.0);
  std::vector<int> symbol_numbers(count, 3);
  for (int k = 0; k < n; ++k) {
    colours[std::size_t(k)] = 1 + k % 8;
    styles[std::size_t(k)] = 1 + k % 8;  // PLplot's eight line styles, solid first
    const bool dots = series[std::size_t(k)].points;
    opts[std::size_t(k)] = dots ? PL_LEGEND_SYMBOL : PL_LEGEND_LINE;
    labels[std::size_t(k)] = series[std::size_t(k)].label.c_str();
    std::vector<double> xs, ys;
    for (std::size_t i = 0; i < series[std::size_t(k)].x.size(); ++i)
      if (drawable(series[std::size_t(k)].y[i]))
        xs.push_back(series[std::size_t(k)].x[i]), ys.push_back(ty(series[std::size_t(k)].y[i]));
    plcol0(colours[std::size_t(k)]);
    pllsty(styles[std::size_t(k)]);
    plwidth(2.0);
    if (!xs.empty() && dots) plstring(int(xs.size()), xs.data(), ys.data(), "•");
    if (!xs.empty() && !dots) plline(int(xs.size()), xs.data(), ys.data());
  }
  pllsty(1);
  // The legend: a line sample in each series' colour and style beside its label, in the corner
  // the curves cross least (sampled along every segment); ties go to the right, then to the top
  // (bottom for rising curves, which end in the top right).
  const double ylo = y0 - pad, yhi = y1 + pad;
  int crowd[4] = {0, 0, 0, 0};  // top right, bottom right, top left, bottom left
  for (const auto& ser : series)
    for (std::size_t i = 0; !ser.points && i + 1 < ser.x.size(); ++i) {
      if (!drawable(ser.y[i]) || !drawable(ser.y[i + 1])) continue;
      for (int t = 0; t <= 20; ++t) {
        const double a = double(t) / 20;
        const double u = ((1 - a) * ser.x[i] + a * ser.x[i + 1] - x0) / (x1 - x0);
        const double v = ((1 - a) * ty(ser.y[i]) + a * ty(ser.y[i + 1]) - ylo) / (yhi - ylo);
        const bool right = u > 0.55, left = u<0.45, top = v> 0.5, bottom = v < 0.5;
        crowd[0] += right && top, crowd[1] += right && bottom;
        crowd[2] += left && top, crowd[3] += left && bottom;
      }
    }
  for (const auto& ser : series)  // dots count once each
    for (std::size_t i = 0; ser.points && i < ser.x.size(); ++i) {
      if (!drawable(ser.y[i])) continue;
      const double u = (ser.x[i] - x0) / (x1 - x0), v = (ty(ser.y[i]) - ylo) / (yhi - ylo);
      crowd[0] += u > 0.55 && v > 0.5, crowd[1] += u > 0.55 && v < 0.5;
      crowd[2] += u < 0.45 && v > 0.5, crowd[3] += u < 0.45 && v < 0.5;
    }
  const int order[2][4] = {{0, 1, 2, 3}, {1, 0, 3, 2}};
  int corner = order[legend_low][0];
  for (int c : order[legend_low]) corner = crowd[c] < crowd[corner] ? c : corner;
  const int position = PL_POSITION_INSIDE | (corner < 2 ? PL_POSITION_RIGHT : PL_POSITION_LEFT) |
                       (corner % 2 == 0 ? PL_POSITION_TOP : PL_POSITION_BOTTOM);
  std::vector<int> text_colours(count, kBlack);
  double legend_width = 0, legend_height = 0;
  pllegend(&legend_width, &legend_height, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX, position,
           0.02, 0.02, 0.08, 0, kBlack, 1, 0, 0, n, opts.data(), 1.0, 0.9, 2.0, 0.0,
           text_colours.data(), labels.data(), nullptr, nullptr, nullptr, nullptr, colours.data(),
           styles.data(), widths.data(), colours.data(), symbol_scales.data(),
           symbol_numbers.data(), symbols.data());
  plend();
  CURV_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, "plot: cannot write ", path);
}

}  // namespace curv
