// A small labelled image data set for training tests: 4×4 images of three classes, each class
// brightening every third pixel from its own offset, so that a tiny MLP separates them.
#pragma once

#include <memory>

#include "curv/core/rng.hpp"
#include "curv/data/dataset.hpp"
#include "curv/nn/model.hpp"

namespace curv::testing {

inline Dataset toy_dataset(index_t n, std::uint64_t seed, const std::string& name = "toy/train") {
  Dataset ds;
  ds.name = name;
  ds.example = Shape{1, 4, 4};
  Rng rng(seed);
  for (index_t i = 0; i < n; ++i) {
    const std::int64_t label = std::int64_t(rng.below(3));
    ds.labels.push_back(label);
    for (index_t j = 0; j < 16; ++j)
      ds.pixels.push_back(std::uint8_t(rng.below(128) + (j % 3 == label ? 127 : 0)));
  }
  ds.classes = 3;
  return ds;
}

// An MLP 16-8-3 (tanh) for the toy images, initialized from `seed`.
inline std::unique_ptr<Model<float>> toy_mlp(std::uint64_t seed = 1) {
  auto model = make_mlp<float>({16, 8, 3}, "tanh");
  Rng rng(seed);
  model->init(rng);
  return model;
}

}  // namespace curv::testing
