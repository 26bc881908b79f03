// Distributed K-FAC's collectives (KAISA, Pauloski et al. 2021; docs/distributed.md): the
// StatisticsExchange a K-FAC optimizer is given in a data-parallel run, on MPI.
#pragma once

#include "curv/distributed/communicator.hpp"
#include "curv/optim/optimizer.hpp"

namespace curv::distributed {

class KfacExchange final : public StatisticsExchange {
 public:
  // fraction: KAISA's gradient-worker fraction, 1 or 1/R (Optimizer::distribute checks it).
  KfacExchange(Communicator& comm, double fraction) : comm_(comm), fraction_(fraction) {}
  int processes() const override { return comm_.size(); }
  int rank() const override { return comm_.rank(); }
  void average(float* data, std::size_t n) override { mean(data, n); }
  void average(double* data, std::size_t n) override { mean(data, n); }
  void broadcast(float* data, std::size_t n, int root) override { comm_.broadcast(data, n, root); }
  void broadcast(double* data, std::size_t n, int root) override { comm_.broadcast(data, n, root); }
  double gradient_workers() const override { return fraction_; }

 private:
  template <class T>
  void mean(T* data, std::size_t n) {
    comm_.allreduce_sum(data, n);
    const T inv = T(1) / T(comm_.size());
    for (std::size_t i = 0; i < n; ++i) data[i] *= inv;
  }
  Communicator& comm_;
  double fraction_;
};

}  // namespace curv::distributed
