// What a checkpoint remembers of how it was made: the data set and the training recipe, in its
// safetensors metadata ("curv.data", "curv.recipe": the recipe's JSON, train/recorder.hpp), so
// `curv eval` needs no --data and says so when asked to score another data set.
#pragma once

#include <map>
#include <string>

#include "curv/data/task.hpp"
#include "curv/train/run.hpp"

namespace curv::cli {

// The metadata `curv train` writes beside the parameters.
std::map<std::string, std::string> training_metadata(const Recipe& r);
// The same entries read from a checkpoint (none for files of other tools or older ones), to be
// carried into a file derived from it (a pruned or replayed model).
std::map<std::string, std::string> carried_metadata(const std::string& checkpoint);
// The weight decay of the recorded recipe (the objective's L2 term on the mean loss), or 0 for a
// checkpoint without one.
double recorded_weight_decay(const std::string& checkpoint);

// The data set to use with a checkpoint: `data` when given (with a warning on stderr when the
// checkpoint was trained on another), else the recorded one with its task options (standardized
// inputs, context, labels file, the validation carve). Fails naming --data when neither exists.
void resolve_data(const std::string& checkpoint, std::string& data, TaskOptions& task,
                  const char* command);

}  // namespace curv::cli
