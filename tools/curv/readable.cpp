#include "readable.hpp"

#include <cstdio>

namespace curv::cli {

std::string significant(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.6g", x);
  return b;
}

nlohmann::json rounded(const nlohmann::json& j) {
  if (j.is_number_float()) return std::stod(significant(j.get<double>()));
  if (!j.is_structured()) return j;
  nlohmann::json out = j;
  for (auto& v : out) v = rounded(v);
  return out;
}

}  // namespace curv::cli
