#include "provenance.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "curv/core/error.hpp"
#include "curv/io/safetensors.hpp"
#include "curv/train/recorder.hpp"

namespace curv::cli {

std::map<std::string, std::string> training_metadata(const Recipe& r) {
  return {{"curv.data", r.data}, {"curv.recipe", to_json(r).dump()}};
}

std::map<std::string, std::string> carried_metadata(const std::string& checkpoint) {
  std::map<std::string, std::string> out;
  const auto metadata = read_safetensors_metadata(checkpoint);  // the header alone
  for (const char* key : {"curv.data", "curv.recipe"})
    if (const auto it = metadata.find(key); it != metadata.end()) out[key] = it->second;
  return out;
}

double recorded_weight_decay(const std::string& checkpoint) {
  const auto meta = carried_metadata(checkpoint);
  const auto recipe = meta.find("curv.recipe");
  if (recipe == meta.end()) return 0;
  return recipe_from_json(nlohmann::json::parse(recipe->second)).second_order.weight_decay;
}

void resolve_data(const std::string& checkpoint, std::string& data, TaskOptions& task,
                  const char* command) {
  const auto meta = carried_metadata(checkpoint);
  const auto trained = meta.find("curv.data");
  if (!data.empty()) {
    if (trained != meta.end() && trained->second != data)
      std::fprintf(stderr, "%s: warning: %s was trained on %s, used here with %s\n", command,
                   checkpoint.c_str(), trained->second.c_str(), data.c_str());
    return;
  }
  CURV_CHECK(trained != meta.end(), command, ": expected --data, found none (", checkpoint,
             " does not record its data set)");
  data = trained->second;
  if (const auto recipe = meta.find("curv.recipe"); recipe != meta.end()) {
    const TaskOptions recorded = recipe_from_json(nlohmann::json::parse(recipe->second)).task;
    task.standardize = recorded.standardize, task.context = recorded.context;
    task.labels = recorded.labels;
    // The validation carve too, so "train" names the examples the model was trained on and
    // "val" the ones it was not.
    task.validation = recorded.validation, task.validation_seed = recorded.validation_seed;
    // And its label noise, so "train" holds the labels the model was trained on.
    task.label_noise = recorded.label_noise, task.label_noise_seed = recorded.label_noise_seed;
    // And its classes, so labels mean what they meant in training.
    task.classes = recorded.classes;
  }
}

}  // namespace curv::cli
