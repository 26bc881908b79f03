// The constructors behind make_model (internal to the library). Each model file defines its
// factory; configuration keys are read with the helpers below so every model reports an
// unknown key or a wrong type the same way.
#pragma once

#include <nlohmann/json.hpp>

#include "curv/core/error.hpp"
#include "curv/nn/model.hpp"

namespace curv::detail {

using Config = nlohmann::json;

// cfg[key] as V, or `fallback` when absent; throws naming the model and key on a wrong type.
template <class V>
V get(const Config& cfg, const char* model, const char* key, V fallback) {
  if (!cfg.contains(key)) return fallback;
  try {
    return cfg.at(key).get<V>();
  } catch (const nlohmann::json::exception&) {
    fail(model, ": expected config key '", key, "' of another type, found ", cfg.at(key).dump());
  }
}

// Throws unless every key of cfg is one of `known`.
void expect_keys(const Config& cfg, const char* model, std::initializer_list<const char*> known);

template <class T>
std::unique_ptr<Model<T>> make_mlp_model(const Config& cfg);
template <class T>
std::unique_ptr<Model<T>> make_lenet5_model(const Config& cfg);
template <class T>
std::unique_ptr<Model<T>> make_autoencoder_model(const Config& cfg);
template <class T>
std::unique_ptr<Model<T>> make_cifar_cnn_model(const Config& cfg);
template <class T>
std::unique_ptr<Model<T>> make_transformer_model(const Config& cfg);
template <class T>
std::unique_ptr<Model<T>> make_t2t_model(const Config& cfg);
template <class T>
std::unique_ptr<Model<T>> make_sequential_model(const Config& cfg);

}  // namespace curv::detail
