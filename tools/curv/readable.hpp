// Results printed for people: six significant digits. Files and run records keep every digit.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace curv::cli {

// x as "%.6g": 1e-07, 0.218975, 86.76.
std::string significant(double x);
// j with every floating-point number rounded to six significant digits.
nlohmann::json rounded(const nlohmann::json& j);

}  // namespace curv::cli
