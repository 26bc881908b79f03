// A small labelled image data set for training tests: 4×4 images of three classes, each class
// brightening every third pixel from its own offset, so that a tiny MLP separates them.
#pragma once

#include <memory>
#include <vector>

#include "curv/core/rng.hpp"
#include "curv/data/dataset.hpp"
#include "curv/data/task.hpp"
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

// A tiny float64 classifier (MLP 16-6-3, tanh) at its initialization on the toy images: 40
// training examples to fit curvature on and 12 test points to score, for the Laplace and local
// ensemble tests.
struct ToyClassifier {
  std::unique_ptr<Task<double>> task =
      make_image_task<double>(toy_dataset(40, 1), toy_dataset(12, 2));
  std::unique_ptr<Model<double>> model = make_mlp<double>({16, 6, 3}, "tanh");
  const Split<double>& train = task->split("train");
  const Split<double>& test = task->split("test");
  std::vector<index_t> fit, points;
  ToyClassifier() {
    Rng rng(4);
    model->init(rng);
    for (index_t i = 0; i < 40; ++i) fit.push_back(i);
    for (index_t i = 0; i < 12; ++i) points.push_back(i);
  }
};

}  // namespace curv::testing
