// Checkpoints: a model's parameters as safetensors, PyTorch's names and layouts, with the model
// name and its JSON configuration in __metadata__ ("curv.model", "curv.config"), so the file
// alone rebuilds the model. Files written by PyTorch's safetensors with the same names load too;
// without curv metadata the caller names the architecture.
//
// A checkpoint may also hold an optimizer's state (trajectory snapshots, train/trajectory.hpp),
// as tensors named "optimizer.<buffer>" — PyTorch keeps it beside the model too; loading a model
// skips them. A pruned parameter's mask (nn/params.hpp) is saved as "<param>_mask", PyTorch's
// pruning name, in the parameter's dtype with entries 1 (kept) and 0 (pruned), and restored.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "curv/io/safetensors.hpp"
#include "curv/nn/model.hpp"

namespace curv {

// Writes the tensors (F32 or F64, as the model) in the model's parameter order, then `extra`
// tensors (atomically: temp file, then rename).
template <class T>
void save_checkpoint(const Model<T>& model, const std::string& path,
                     const std::map<std::string, std::string>& extra_metadata = {},
                     const std::vector<TensorToWrite>& extra = {});

// Copies every parameter of `params` from a read file (converting F32/F64), checking names and
// shapes; tensors named "optimizer.*" are skipped, any other tensor the model lacks is an error.
template <class T>
void load_parameters(const Safetensors& file, const std::string& path, const std::string& model,
                     ParamStore<T>& params);

// Rebuilds the model named in the file (or `model_name` with `config` when given, which must
// agree with the file's metadata if it has any) and loads every parameter, converting F32/F64.
// Throws curv::Error naming the first parameter that is missing, unexpected, or of another
// shape or dtype.
template <class T>
std::unique_ptr<Model<T>> load_checkpoint(const std::string& path,
                                          const std::string& model_name = "",
                                          const std::string& config = "");

}  // namespace curv
