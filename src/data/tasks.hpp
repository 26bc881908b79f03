// Constructors of the concrete tasks, for make_task (internal to the library).
#pragma once

#include "curv/data/task.hpp"

namespace curv::detail {
template <class T>
std::unique_ptr<Task<T>> make_image_task(const std::string& dataset, const std::string& loss,
                                         const TaskOptions& opt);
template <class T>
std::unique_ptr<Task<T>> make_char_lm_task(const std::string& path, const TaskOptions& opt);
template <class T>
std::unique_ptr<Task<T>> make_t2t_task(const TaskOptions& opt);
}  // namespace curv::detail
