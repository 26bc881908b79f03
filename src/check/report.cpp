#include <cmath>
#include <cstdio>
#include <ostream>

#include "curv/check/check.hpp"
#include "curv/nn/model.hpp"

namespace curv::check {

double relative_error(const std::vector<double>& a, const std::vector<double>& b) {
  CURV_CHECK(a.size() == b.size(), "check: expected vectors of equal length, found ", a.size(),
             " and ", b.size());
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(a[i]) || !std::isfinite(b[i])) return INFINITY;
    diff = std::max(diff, std::abs(a[i] - b[i]));
    scale = std::max({scale, std::abs(a[i]), std::abs(b[i])});
  }
  return scale == 0 ? 0 : diff / scale;
}

std::vector<Row> check_all(std::uint64_t seed) {
  std::vector<Row> rows;
  auto append = [&](std::vector<Row> r) { rows.insert(rows.end(), r.begin(), r.end()); };
  for (const OpCase& c : op_cases()) append(check_op(c, seed));
  for (const std::string& l : loss_case_names()) append(check_loss(l, seed));
  for (const std::string& m : model_case_names()) append(check_model(m, seed));
  for (const std::string& m : model_names()) append(check_model_directional(m, seed));
  return rows;
}

void print_table(std::ostream& out, const std::vector<Row>& rows) {
  char line[160];
  std::snprintf(line, sizeof line, "%-22s %-18s %12s %10s  %s\n", "subject", "pass", "rel. error",
                "tolerance", "");
  out << line;
  for (const Row& r : rows) {
    std::snprintf(line, sizeof line, "%-22s %-18s %12.3e %10.0e  %s\n", r.subject.c_str(),
                  r.pass.c_str(), r.error, r.tolerance, r.ok() ? "ok" : "FAIL");
    out << line;
  }
}

}  // namespace curv::check
