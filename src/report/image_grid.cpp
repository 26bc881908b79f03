#include "curv/report/image_grid.hpp"

#include <plplot.h>

#include <algorithm>
#include <cstdio>

#include "curv/core/error.hpp"

namespace curv {

namespace {

constexpr int kBlack = 15, kPixel = 13;  // colour 13 is re-set for each RGB pixel

// One panel in the viewport (x0, x1) × (y0, y1) of the page, its caption under it.
void draw_panel(const ImagePanel& p, double x0, double x1, double y0, double y1) {
  const index_t H = p.height, W = p.width, C = p.channels;
  const auto [lo, hi] = std::minmax_element(p.pixels.begin(), p.pixels.end());
  const double low = *lo, range = *hi > *lo ? *hi - *lo : 1.0;
  auto value = [&](index_t c, index_t i, index_t j) {
    return (p.pixels[std::size_t((c * H + i) * W + j)] - low) / range;
  };
  plvpor(x0, x1, y0, y1);
  plwind(0, double(W), 0, double(H));
  if (C == 1) {
    // plimage takes columns of rows counted from the bottom: z[j][H − 1 − i] = pixel (i, j).
    std::vector<std::vector<double>> columns(static_cast<std::size_t>(W),
                                             std::vector<double>(static_cast<std::size_t>(H)));
    std::vector<const double*> z(static_cast<std::size_t>(W));
    for (index_t j = 0; j < W; ++j) {
      for (index_t i = 0; i < H; ++i)
        columns[std::size_t(j)][std::size_t(H - 1 - i)] = value(0, i, j);
      z[std::size_t(j)] = columns[std::size_t(j)].data();
    }
    plimage(const_cast<const PLFLT* const*>(z.data()), PLINT(W), PLINT(H), 0, double(W), 0,
            double(H), 0, 1, 0, double(W), 0, double(H));
  } else {
    for (index_t i = 0; i < H; ++i)
      for (index_t j = 0; j < W; ++j) {
        plscol0(kPixel, int(255 * value(0, i, j)), int(255 * value(1, i, j)),
                int(255 * value(2, i, j)));
        plcol0(kPixel);
        const double x[4] = {double(j), double(j + 1), double(j + 1), double(j)};
        const double y[4] = {double(H - i - 1), double(H - i - 1), double(H - i), double(H - i)};
        plfill(4, x, y);
      }
  }
  plcol0(kBlack);
  plbox("bc", 0, 0, "bc", 0, 0);
  // The caption's lines under the image.
  plschr(0, 0.55);
  double line = 1.4;
  for (std::size_t at = 0; at <= p.caption.size(); line += 1.3) {
    const std::size_t end = std::min(p.caption.find('\n', at), p.caption.size());
    plmtex("b", line, 0.5, 0.5, p.caption.substr(at, end - at).c_str());
    at = end + 1;
  }
  plschr(0, 1.0);
}

}  // namespace

void plot_image_grid(const std::string& path, const std::string& title,
                     const std::vector<ImageRow>& rows) {
  std::size_t columns = 0;
  for (const ImageRow& r : rows) {
    columns = std::max(columns, r.panels.size());
    for (const ImagePanel& p : r.panels)
      CURV_CHECK((p.channels == 1 || p.channels == 3) && p.height > 0 && p.width > 0 &&
                     p.pixels.size() == std::size_t(p.channels * p.height * p.width),
                 "image grid ", path, ": expected a panel of 1 or 3 channels with ",
                 p.channels * p.height * p.width, " pixels, found ", p.pixels.size());
  }
  CURV_CHECK(columns > 0, "image grid ", path, ": expected at least one panel, found none");
  const int cell = 160, head = 60, row_head = 40;
  const int width = int(columns) * cell + 40;
  const int height = head + int(rows.size()) * (cell + row_head);
  const std::string tmp = path + ".tmp.png";
  plsdev("pngcairo");
  plsfnam(tmp.c_str());
  plspage(0, 0, width, height, 0, 0);
  plscolbg(255, 255, 255);
  plscol0(kBlack, 0, 0, 0);
  plscmap1n(256);
  const double pos[2] = {0, 1}, grey[2] = {0, 1};
  plscmap1l(1, 2, pos, grey, grey, grey, nullptr);  // black to white
  plinit();
  pladv(0);
  // The title across the top of the page.
  plvpor(0, 1, 1 - double(head) / height, 1);
  plwind(0, 1, 0, 1);
  plcol0(kBlack);
  plmtex("t", -2.0, 0.5, 0.5, title.c_str());
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const double top = 1 - double(head + int(r) * (cell + row_head)) / height;
    plvpor(0, 1, top - double(row_head) / height, top);
    plwind(0, 1, 0, 1);
    plcol0(kBlack);
    plschr(0, 0.8);
    plmtex("t", -1.0, 0.02, 0.0, rows[r].title.c_str());
    plschr(0, 1.0);
    const double image_top = top - double(row_head) / height;
    const double size = 0.72 * cell;  // the image; the rest of the cell holds its caption
    for (std::size_t c = 0; c < rows[r].panels.size(); ++c) {
      const double left = (20 + double(c) * cell + 0.14 * cell) / width;
      draw_panel(rows[r].panels[c], left, left + size / width, image_top - size / height,
                 image_top);
    }
  }
  plend();
  CURV_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, "image grid: cannot write ", path);
}

}  // namespace curv
