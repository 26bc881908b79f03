// Screening a vector for NaN and ±inf: the training loop's check of every gradient before a
// step, a sweep over all the parameters that should cost a memory read and no more.
#pragma once

#include "curv/core/tensor.hpp"

namespace curv {

// Whether every x[i] is finite. Vectorized (x·0 is 0 for finite x, NaN otherwise, summed in
// independent lanes) and split across threads.
template <class T>
bool all_finite(const T* x, index_t n);

}  // namespace curv
