// What every optimizer shares: loading state by name, and masking per-parameter buffers.
#include "curv/optim/optimizer.hpp"

#include "curv/core/error.hpp"
#include "curv/linalg/operator.hpp"
#include "state.hpp"

namespace curv {

template <class T>
void Optimizer<T>::load_state(const OptimizerState<T>& s) {
  CURV_CHECK(s.buffers.empty() && s.scalars.empty(), name(),
             ": expected no optimizer state to load, found ",
             s.buffers.empty() ? s.scalars.begin()->first : s.buffers.begin()->first);
}

template <class T>
void Optimizer<T>::set_momentum(double momentum) {
  fail(name(), ": has no heavy-ball momentum to set (expected sgd or lars), asked for ", momentum);
}

template <class T>
void Optimizer<T>::distribute(StatisticsExchange&) {
  CURV_CHECK(!reads_batch(), name(), ": expected a rule whose statistics of the batch can be ",
             "summed across processes (distributed K-FAC: kfac, foof), found one that cannot");
}

template <class T>
std::unique_ptr<LinearOperator> Optimizer<T>::curvature() const {
  fail(name(), ": estimates no curvature to export (expected an optimizer among kfac, ekfac, foof ",
       "and mfac)");
}

template class Optimizer<float>;
template class Optimizer<double>;

namespace detail {

template <class T>
void check_state_names(const std::string& optimizer, const OptimizerState<T>& s,
                       const std::vector<std::string>& buffers,
                       const std::vector<std::string>& scalars) {
  CURV_CHECK(s.complete, optimizer, ": expected a complete optimizer state, found a partial one");
  auto known = [](const std::vector<std::string>& v, const std::string& n) {
    return std::find(v.begin(), v.end(), n) != v.end();
  };
  for (const auto& [n, b] : s.buffers)
    CURV_CHECK(known(buffers, n), optimizer, ": expected state buffers among its own, found '", n,
               "'");
  for (const auto& [n, v] : s.scalars)
    CURV_CHECK(known(scalars, n), optimizer, ": expected state scalars among its own, found '", n,
               "'");
}

template <class T>
void take_buffer(const OptimizerState<T>& s, const std::string& name, std::vector<T>& into) {
  const auto it = s.buffers.find(name);
  if (it == s.buffers.end()) {
    into.clear();  // not allocated yet when the state was taken
    return;
  }
  into = it->second;
}

template <class T>
void zero_masked(std::vector<T>& buffer, std::span<const std::uint8_t> keep) {
  if (buffer.empty()) return;
  CURV_CHECK(buffer.size() == keep.size(), "mask: expected ", buffer.size(),
             " entries (the parameter count), found ", keep.size());
  for (std::size_t i = 0; i < buffer.size(); ++i)
    if (!keep[i]) buffer[i] = T(0);
}

template void check_state_names(const std::string&, const OptimizerState<float>&,
                                const std::vector<std::string>&, const std::vector<std::string>&);
template void check_state_names(const std::string&, const OptimizerState<double>&,
                                const std::vector<std::string>&, const std::vector<std::string>&);
template void take_buffer(const OptimizerState<float>&, const std::string&, std::vector<float>&);
template void take_buffer(const OptimizerState<double>&, const std::string&, std::vector<double>&);
template void zero_masked(std::vector<float>&, std::span<const std::uint8_t>);
template void zero_masked(std::vector<double>&, std::span<const std::uint8_t>);

}  // namespace detail
}  // namespace curv
