#include "curv/optim/schedule.hpp"

#include <cmath>

#include "curv/core/error.hpp"

namespace curv {

double Schedule::lr(index_t step) const {
  if (step < warmup_steps) return base_lr * double(step + 1) / double(warmup_steps);
  const index_t t = step - warmup_steps;
  switch (kind) {
    case Kind::Constant:
      return base_lr;
    case Kind::Step:
      return base_lr * std::pow(gamma, double(t / std::max<index_t>(1, step_size)));
    case Kind::Cosine: {
      const double span = double(std::max<index_t>(1, total_steps - warmup_steps));
      const double f = std::min(1.0, double(t) / span);
      return min_lr + (base_lr - min_lr) * 0.5 * (1 + std::cos(M_PI * f));
    }
  }
  return base_lr;
}

Schedule::Kind Schedule::kind_from(const std::string& name) {
  if (name == "constant") return Kind::Constant;
  if (name == "step") return Kind::Step;
  if (name == "cosine") return Kind::Cosine;
  fail("schedule: expected one of constant, step, cosine, found '", name, "'");
}

const char* Schedule::kind_name(Kind k) {
  return k == Kind::Constant ? "constant" : k == Kind::Step ? "step" : "cosine";
}

template <class T>
double clip_grad_norm(T* g, index_t n, double max_norm) {
  double s = 0;
  for (index_t i = 0; i < n; ++i) s += double(g[i]) * double(g[i]);
  const double norm = std::sqrt(s);
  if (max_norm > 0 && norm > max_norm) {
    const T scale = T(max_norm / norm);
    for (index_t i = 0; i < n; ++i) g[i] *= scale;
  }
  return norm;
}

template double clip_grad_norm<float>(float*, index_t, double);
template double clip_grad_norm<double>(double*, index_t, double);

}  // namespace curv
