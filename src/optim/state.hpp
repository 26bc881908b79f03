// Helpers the optimizers share for their state (internal to the library).
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "curv/core/error.hpp"
#include "curv/optim/optimizer.hpp"

namespace curv::detail {

// Throws unless s is complete and names only these buffers and scalars.
template <class T>
void check_state_names(const std::string& optimizer, const OptimizerState<T>& s,
                       const std::vector<std::string>& buffers,
                       const std::vector<std::string>& scalars);
// into ← s.buffers[name], or empty when s does not have it (a buffer not allocated yet).
template <class T>
void take_buffer(const OptimizerState<T>& s, const std::string& name, std::vector<T>& into);
// buffer[i] ← 0 where keep[i] == 0 (an empty buffer stays empty).
template <class T>
void zero_masked(std::vector<T>& buffer, std::span<const std::uint8_t> keep);

// The state of a heavy-ball rule (sgd, lars): one "momentum_buffer" of the parameter count,
// allocated at the first step that needs it.
template <class T>
class HeavyBallState : public Optimizer<T> {
 public:
  std::size_t state_bytes() const override { return buf_.size() * sizeof(T); }
  OptimizerState<T> state() const override {
    OptimizerState<T> s;
    if (!buf_.empty()) s.buffers["momentum_buffer"] = buf_;
    return s;
  }
  void load_state(const OptimizerState<T>& s) override {
    check_state_names<T>(this->name(), s, {"momentum_buffer"}, {});
    take_buffer<T>(s, "momentum_buffer", buf_);
  }
  void apply_mask(std::span<const std::uint8_t> keep) override { zero_masked(buf_, keep); }

 protected:
  std::vector<T> buf_;
};

// Adam's state (adam, adamw, lamb): the moments "exp_avg" and "exp_avg_sq" and the step count.
template <class T>
class MomentState : public Optimizer<T> {
 public:
  std::size_t state_bytes() const override { return (m_.size() + v_.size()) * sizeof(T); }
  OptimizerState<T> state() const override {
    OptimizerState<T> s;
    if (!m_.empty()) s.buffers["exp_avg"] = m_, s.buffers["exp_avg_sq"] = v_;
    s.scalars["step"] = double(t_);
    return s;
  }
  void load_state(const OptimizerState<T>& s) override {
    check_state_names<T>(this->name(), s, {"exp_avg", "exp_avg_sq"}, {"step"});
    take_buffer<T>(s, "exp_avg", m_);
    take_buffer<T>(s, "exp_avg_sq", v_);
    CURV_CHECK(m_.size() == v_.size(), this->name(), ": expected exp_avg and exp_avg_sq of one ",
               "size, found ", m_.size(), " and ", v_.size());
    const auto t = s.scalars.find("step");
    t_ = t == s.scalars.end() ? 0 : long(t->second);
  }
  void apply_mask(std::span<const std::uint8_t> keep) override {
    zero_masked(m_, keep), zero_masked(v_, keep);
  }

 protected:
  std::vector<T> m_, v_;
  long t_ = 0;
};

}  // namespace curv::detail
