#include "checkpoint_input.hpp"

#include "checks.hpp"
#include "provenance.hpp"

namespace curv::cli {

void CheckpointInput::add_checkpoint_options(CLI::App* cmd) {
  cmd->add_option("--checkpoint", checkpoint, "A safetensors file")->required();
  cmd->add_option("--model", model, "The architecture, for files without curv metadata");
  cmd->add_option("--config", config, "Its JSON configuration (with --model)");
  cmd->add_option("--data", data,
                  "mnist, fashion-mnist, cifar10, moby-dick, t2t-synthetic, or inputs.npy (float "
                  "inputs in the model's layout, e.g. [N,1,28,28]); default: the data set the "
                  "checkpoint was trained on");
  cmd->add_option("--labels", task.labels,
                  "With --data inputs.npy: int64 class labels [N], or float targets [N,C]");
  cmd->add_flag("--standardize", task.standardize,
                "Image data: inputs standardized per channel by the training split's mean and "
                "deviation (without --data: as the checkpoint was trained)");
  cmd->add_option("--rotate-test", task.test_rotation,
                  "Image data: the test split's images rotated by this many degrees "
                  "counter-clockwise (bilinear, black outside), a distribution shift");
  cmd->add_option("--test-label-noise", task.test_label_noise,
                  "Image classification: this fraction of the test split's labels replaced by "
                  "another class (seeded), data whose wrong labels self-influence should find");
  cmd->add_option("--test-label-noise-seed", task.test_label_noise_seed,
                  "--test-label-noise: the draw's seed")
      ->capture_default_str();
}

void CheckpointInput::resolve_data(const char* command) {
  check_readable(checkpoint, "--checkpoint", "a safetensors file");
  cli::resolve_data(checkpoint, data, task, command);
}

}  // namespace curv::cli
