// Learning-rate schedules and gradient-norm clipping.
#pragma once

#include <string>

#include "curv/core/shape.hpp"

namespace curv {

// The learning rate at a (0-based) step: an optional linear warm-up from 0 to base_lr over
// warmup_steps, then
//   constant  base_lr
//   step      base_lr · gamma^⌊(t − warmup)/step_size⌋
//   cosine    min_lr + (base_lr − min_lr)(1 + cos(π (t − warmup)/(total − warmup)))/2
struct Schedule {
  enum class Kind { Constant, Step, Cosine };
  Kind kind = Kind::Constant;
  double base_lr = 0.1;
  index_t warmup_steps = 0;
  index_t total_steps = 0;  // cosine
  index_t step_size = 1;    // step
  double gamma = 0.1;       // step
  double min_lr = 0;        // cosine

  double lr(index_t step) const;
  // "constant", "step" or "cosine"; throws curv::Error listing them otherwise.
  static Kind kind_from(const std::string& name);
  static const char* kind_name(Kind k);
};

// Scales g (n entries) so that its Euclidean norm is at most max_norm; returns the norm it had.
template <class T>
double clip_grad_norm(T* g, index_t n, double max_norm);

}  // namespace curv
