// Pruning experiments: `one-shot` (WoodFisher's MNIST MLP, every one-shot method over sparsity),
// `gradual` (LeNet-5 pruned gradually to 98 % with magnitude, OBD, WoodFisher and M-FAC) and
// `acdc` (AC/DC against gradual magnitude pruning at 90 % and 95 %). See README.md.
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "../common/output.hpp"
#include "curv/core/error.hpp"
#include "pruning.hpp"

namespace curv::experiments {

std::vector<nlohmann::json> read_rows(const std::string& path) {
  std::vector<nlohmann::json> rows;
  std::ifstream f(path);
  std::string line;
  for (int n = 1; std::getline(f, line); ++n) {
    if (line.empty()) continue;
    try {
      rows.push_back(nlohmann::json::parse(line));
    } catch (const nlohmann::json::exception&) {
      CURV_CHECK(false, path, ":", n, ": expected one JSON object per line, found '",
                 line.substr(0, 40), "'");
    }
  }
  return rows;
}

void append_row(const std::string& path, const nlohmann::json& row) {
  std::ofstream f(path, std::ios::app);
  f << row.dump() << '\n';
  CURV_CHECK(f.good(), "cannot append to '", path, "'");
  std::printf("%s\n", row.dump().c_str());
  std::fflush(stdout);
}

double median(std::vector<double> xs) {
  if (xs.empty()) return NAN;
  std::sort(xs.begin(), xs.end());
  const std::size_t n = xs.size();
  return n % 2 ? xs[n / 2] : 0.5 * (xs[n / 2 - 1] + xs[n / 2]);
}

}  // namespace curv::experiments

int main(int argc, char** argv) {
  using namespace curv::experiments;
  CLI::App app{
      "Pruning experiments: one-shot OBS on an MNIST MLP, gradual pruning and AC/DC on "
      "LeNet-5"};
  PruningSettings s;
  std::vector<std::string> parts{"one-shot", "spread", "gradual", "acdc"};
  app.add_option("--parts", parts, "one-shot, spread, gradual, acdc")->capture_default_str();
  OutputOptions output;
  add_output_options(app, output, "pruning");
  app.add_option("--seeds", s.seeds, "Seeds of gradual and acdc")->capture_default_str();
  app.add_option("--data", s.data, "gradual and acdc: fashion-mnist or mnist")
      ->capture_default_str();
  app.add_option("--acdc-epochs", s.acdc_epochs, "acdc: epochs of every run")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_flag("--replot", s.replot, "Tables and plots from the rows already in the output folder");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    for (const std::string& p : parts)
      CURV_CHECK(p == "one-shot" || p == "spread" || p == "gradual" || p == "acdc",
                 "--parts: expected one-shot, spread, gradual or acdc, found '", p, "'");
    CURV_CHECK(s.data == "fashion-mnist" || s.data == "mnist",
               "--data: expected fashion-mnist or mnist, found '", s.data, "'");
    s.out = output_dir("pruning", output);
    std::filesystem::create_directories(s.out);
    for (const std::string& p : parts) {
      if (p == "one-shot") one_shot_mlp(s);
      if (p == "spread") one_shot_spread(s);
      if (p == "gradual") gradual_lenet(s);
      if (p == "acdc") acdc_lenet(s);
    }
  } catch (const curv::Error& e) {
    std::fprintf(stderr, "pruning: %s\n", e.what());
    return 1;
  }
  return 0;
}
