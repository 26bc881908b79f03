// Images in rows of panels as a PNG (PLplot's pngcairo device), each with a caption: how a
// command shows the examples behind a number (the training images that most helped or hurt a
// query, curv influence --show).
#pragma once

#include <string>
#include <vector>

#include "curv/core/shape.hpp"

namespace curv {

struct ImagePanel {
  std::vector<double> pixels;  // (channels, height, width), any range: scaled per panel
  index_t channels = 1, height = 0, width = 0;  // 1 (grey) or 3 (RGB) channels
  std::string caption;  // under the image; '\n' separates lines
};

struct ImageRow {
  std::string title;  // above the row
  std::vector<ImagePanel> panels;
};

// Draws the rows one under another, panels left to right, each image scaled to [0, 1] by its own
// minimum and maximum; written to a temporary file and renamed over `path`. Throws a one-line
// curv::Error for no panels, or a panel whose pixels do not match its shape.
void plot_image_grid(const std::string& path, const std::string& title,
                     const std::vector<ImageRow>& rows);

}  // namespace curv
