// Distributed K-FAC's collectives (KAISA, Pauloski et al. 2021; docs/distributed.md): the
// StatisticsExchange a K-FAC optimizer is given in a data-parallel run, on MPI.
#pragma once

#include <memory>

#include "curv/distributed/communicator.hpp"
#include "curv/optim/optimizer.hpp"

namespace curv::distributed {

// KAISA's grid of R processes for gradient-worker fraction f = 1/c, c dividing R. Process p
// sits in row p / c (c consecutive ranks) and column p % c (R/c ranks, c apart). The gradient
// workers of the layer that `owner` refreshes are the owner's column; each of them
// preconditions the layer for the other c − 1 processes of its row.
//   f = 1   (c = 1): one column of every process; rows of one, nothing to send after a step.
//   f = 1/R (c = R): columns of one, the owner alone; one row of every process.
struct GradientWorkerGrid {
  int processes = 1, served = 1;  // R, and c = 1/f: the processes one gradient worker serves
  // The grid for fraction f on R processes; a fraction that is not 1/c with c dividing R throws
  // a curv::Error listing the ones that are.
  static GradientWorkerGrid of(int processes, double fraction);
  bool preconditions(int rank, int owner) const { return rank % served == owner % served; }
  // The roots of the two broadcasts, as positions within a column or row ordered by rank: the
  // owner within its column, and the gradient worker for owner's layers within any row.
  int refresh_root(int owner) const { return owner / served; }
  int step_root(int owner) const { return owner % served; }
  // The gradient worker that preconditions owner's layer for `rank`: its row's one.
  int worker_of(int rank, int owner) const { return rank / served * served + step_root(owner); }
};

class KfacExchange final : public StatisticsExchange {
 public:
  KfacExchange(Communicator& comm, double fraction);
  int processes() const override { return comm_.size(); }
  int rank() const override { return comm_.rank(); }
  void average(float* data, std::size_t n) override { mean(data, n); }
  void average(double* data, std::size_t n) override { mean(data, n); }
  bool preconditions(int owner) const override { return grid_.preconditions(rank(), owner); }
  void share_refresh(float* data, std::size_t n, int owner) override;
  void share_refresh(double* data, std::size_t n, int owner) override;
  void share_step(float* data, std::size_t n, int owner) override;
  void share_step(double* data, std::size_t n, int owner) override;
  void agree(const std::string& error) override { comm_.agree(error); }
  const GradientWorkerGrid& grid() const { return grid_; }

 private:
  template <class T>
  void mean(T* data, std::size_t n) {
    comm_.allreduce_sum(data, n);
    const T inv = T(1) / T(comm_.size());
    for (std::size_t i = 0; i < n; ++i) data[i] *= inv;
  }
  template <class T>
  void refresh_to_column(T* data, std::size_t n, int owner);
  Communicator& comm_;
  GradientWorkerGrid grid_;
  std::unique_ptr<Communicator> column_, row_;  // this process's column and row of the grid
};

}  // namespace curv::distributed
