#include "curv/distributed/kfac_exchange.hpp"

#include <cmath>
#include <string>

#include "curv/core/error.hpp"

namespace curv::distributed {

GradientWorkerGrid GradientWorkerGrid::of(int processes, double fraction) {
  CURV_CHECK(processes >= 1, "distributed kfac: expected at least 1 process, found ", processes);
  const double c = fraction > 0 ? std::round(1 / fraction) : 0;
  // Typed fractions such as 0.333 stand for 1/3.
  if (c >= 1 && c <= processes && std::abs(c * fraction - 1) <= 1e-3 && processes % int(c) == 0)
    return {processes, int(c)};
  std::string valid;
  for (int d = 1; d <= processes; ++d)
    if (processes % d == 0)
      valid += (valid.empty() ? "" : ", ") + (d == 1 ? "1" : "1/" + std::to_string(d));
  fail("distributed kfac: expected a gradient-worker fraction 1/c with c dividing the ", processes,
       " processes (", valid, "), found ", fraction);
}

KfacExchange::KfacExchange(Communicator& comm, double fraction)
    : comm_(comm),
      grid_(GradientWorkerGrid::of(comm.size(), fraction)),
      column_(comm.split(comm.rank() % grid_.served, comm.rank())),
      row_(comm.split(comm.rank() / grid_.served, comm.rank())) {}

template <class T>
void KfacExchange::refresh_to_column(T* data, std::size_t n, int owner) {
  CURV_CHECK(preconditions(owner), "distributed kfac: process ", rank(), " is not a gradient ",
             "worker of process ", owner, "'s layers and cannot take part in sharing them");
  column_->broadcast(data, n, grid_.refresh_root(owner));
}

void KfacExchange::share_refresh(float* data, std::size_t n, int owner) {
  refresh_to_column(data, n, owner);
}
void KfacExchange::share_refresh(double* data, std::size_t n, int owner) {
  refresh_to_column(data, n, owner);
}
void KfacExchange::share_step(float* data, std::size_t n, int owner) {
  row_->broadcast(data, n, grid_.step_root(owner));
}
void KfacExchange::share_step(double* data, std::size_t n, int owner) {
  row_->broadcast(data, n, grid_.step_root(owner));
}

}  // namespace curv::distributed
