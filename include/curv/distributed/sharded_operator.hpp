// Curvature operators over examples split across processes. Every operator of a model's mean
// loss is a size-weighted mean over its examples, M = Σ_r (N_r/N) M_r with M_r the operator on
// process r's shard of N_r examples, so a product is the local one, scaled by N_r/N, and one
// allreduce: every process ends with the same vector, and CG, Lanczos, Arnoldi, SLQ and
// Hutchinson run unchanged on each of them (the same iterates everywhere, at no more traffic
// than one vector per product).
//
// This holds for hessian, ggn, ef, fisher (its labels are drawn per shard batch: the same
// distribution, other draws than one process makes), diag and the blockdiag-* operators.
// K-FAC's Kronecker factors are not sums of per-shard Kronecker products, and lowrank keeps
// per-example gradients; distributed_operator_supported() names what can be sharded.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "curv/distributed/communicator.hpp"
#include "curv/linalg/operator.hpp"

namespace curv::distributed {

class ShardedOperator final : public LinearOperator {
 public:
  // `local`: the operator on this process's `local_examples`, of `total_examples` in all.
  ShardedOperator(Communicator& comm, std::unique_ptr<LinearOperator> local, index_t local_examples,
                  index_t total_examples);
  std::string name() const override { return local_->name(); }
  void mv(const double* v, double* out) override;
  void mm(const double* V, index_t k, double* out) override;
  std::vector<double> diagonal() override;
  bool has_diagonal() const override { return local_->has_diagonal(); }
  LinearOperator& local() { return *local_; }
  double weight() const { return weight_; }

 private:
  Communicator& comm_;
  std::unique_ptr<LinearOperator> local_;
  double weight_;  // N_r / N
};

// Whether the operator named `name` (curvature/factory.hpp) is a mean over examples that a
// ShardedOperator may split.
bool distributed_operator_supported(const std::string& name);

// Process `rank`'s part of `indices` of `ranks` parts: consecutive runs whose sizes differ by at
// most one, in rank order.
std::vector<index_t> shard_of(const std::vector<index_t>& indices, int rank, int ranks);

}  // namespace curv::distributed
