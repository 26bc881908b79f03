// The pruning experiments (README.md): one-shot OBS on WoodFisher's MNIST MLP (one_shot.cpp), and
// gradual pruning and AC/DC while training LeNet-5 (during_training.cpp). Each part appends its
// rows to a JSON-lines file in the output directory and redraws its table and plots from it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace curv::experiments {

struct PruningSettings {
  std::string out;  // resolved by common/output.hpp
  std::vector<int> seeds{0, 1, 2};
  std::string data = "fashion-mnist";  // gradual and acdc
  int acdc_epochs = 30;                // acdc: the budget of every run
  bool replot = false;                 // tables and plots from the rows already written
};

void one_shot_mlp(const PruningSettings& s);
void one_shot_spread(const PruningSettings& s);
void gradual_lenet(const PruningSettings& s);
void acdc_lenet(const PruningSettings& s);

// Rows of a JSON-lines file (none if it does not exist), and one appended.
std::vector<nlohmann::json> read_rows(const std::string& path);
void append_row(const std::string& path, const nlohmann::json& row);
// The median of xs (NaN if empty).
double median(std::vector<double> xs);

}  // namespace curv::experiments
