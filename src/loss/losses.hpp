// Constructors of the concrete losses, for make_loss (internal to the library).
#pragma once

#include "curv/loss/loss.hpp"

namespace curv::detail {
template <class T>
std::unique_ptr<Loss<T>> make_cross_entropy();
template <class T>
std::unique_ptr<Loss<T>> make_bce();
template <class T>
std::unique_ptr<Loss<T>> make_mse();
}  // namespace curv::detail
