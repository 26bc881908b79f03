// Helpers the optimizers share for their state (internal to the library).
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "curv/optim/optimizer.hpp"

namespace curv::detail {

// Throws unless s is complete and names only these buffers and scalars.
template <class T>
void check_state_names(const std::string& optimizer, const OptimizerState<T>& s,
                       const std::vector<std::string>& buffers,
                       const std::vector<std::string>& scalars);
// into ← s.buffers[name], or empty when s does not have it (a buffer not allocated yet).
template <class T>
void take_buffer(const std::string& optimizer, const OptimizerState<T>& s, const std::string& name,
                 std::vector<T>& into);
// buffer[i] ← 0 where keep[i] == 0 (an empty buffer stays empty).
template <class T>
void zero_masked(std::vector<T>& buffer, std::span<const std::uint8_t> keep);

}  // namespace curv::detail
