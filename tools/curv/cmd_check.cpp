// curv check: every op, loss and small model against finite differences and dense matrices,
// printed as a table of relative errors. A teaching tool: the math, seen holding.
#include <iostream>

#include "commands.hpp"
#include "curv/check/check.hpp"
#include "curv/core/error.hpp"

namespace curv::cli {

Runner add_check(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "check", "Check every derivative pass in float64 (exits non-zero on failure)");
  struct Opts {
    std::uint64_t seed = 1;
    std::string only;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--seed", o->seed, "Random point to check at")->capture_default_str();
  cmd->add_option("--only", o->only, "Only subjects containing this text (e.g. conv2d, model/)");
  return [o] {
    std::vector<check::Row> rows;
    for (const check::Row& r : check::check_all(o->seed))
      if (o->only.empty() || r.subject.find(o->only) != std::string::npos) rows.push_back(r);
    CURV_CHECK(!rows.empty(), "check: expected a known subject, found '", o->only, "'");
    check::print_table(std::cout, rows);
    std::size_t failed = 0;
    for (const check::Row& r : rows) failed += !r.ok();
    std::cout << rows.size() - failed << " passed, " << failed << " failed\n";
    return failed == 0 ? 0 : 1;
  };
}

}  // namespace curv::cli
