// Small dense-vector helpers shared by the checks (internal to the library).
#pragma once

#include <vector>

#include "curv/core/shape.hpp"

namespace curv::check::detail {

using Vec = std::vector<double>;

inline double dot(const Vec& a, const Vec& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// Mean of the n rows of a row-major (n, p) matrix.
inline Vec mean_rows(const Vec& m, index_t n, std::size_t p) {
  Vec mean(p, 0.0);
  for (index_t r = 0; r < n; ++r)
    for (std::size_t j = 0; j < p; ++j)
      mean[j] += m[static_cast<std::size_t>(r) * p + j] / double(n);
  return mean;
}

}  // namespace curv::check::detail
