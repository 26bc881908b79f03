#include "curv/distributed/sharded_operator.hpp"

#include "curv/core/error.hpp"

namespace curv::distributed {

ShardedOperator::ShardedOperator(Communicator& comm, std::unique_ptr<LinearOperator> local,
                                 index_t local_examples, index_t total_examples)
    : LinearOperator(local->size()),
      comm_(comm),
      local_(std::move(local)),
      weight_(double(local_examples) / double(total_examples)) {
  CURV_CHECK(local_examples >= 1 && local_examples <= total_examples,
             "sharded operator: ", "expected 1..", total_examples,
             " examples on this process, found ", local_examples);
}

void ShardedOperator::mv(const double* v, double* out) {
  local_->mv(v, out);
  const index_t n = size();
  for (index_t i = 0; i < n; ++i) out[i] *= weight_;
  comm_.allreduce_sum(out, std::size_t(n));
}

void ShardedOperator::mm(const double* V, index_t k, double* out) {
  local_->mm(V, k, out);  // the local operator's batched product, then one sum for all k
  const index_t n = size() * k;
  for (index_t i = 0; i < n; ++i) out[i] *= weight_;
  comm_.allreduce_sum(out, std::size_t(n));
}

std::vector<double> ShardedOperator::diagonal() {
  std::vector<double> d = local_->diagonal();
  for (double& x : d) x *= weight_;
  comm_.allreduce_sum(d.data(), d.size());
  return d;
}

bool distributed_operator_supported(const std::string& name) {
  return name == "hessian" || name == "ggn" || name == "ef" || name == "fisher" || name == "diag" ||
         name.rfind("blockdiag-", 0) == 0;
}

std::vector<index_t> shard_of(const std::vector<index_t>& indices, int rank, int ranks) {
  CURV_CHECK(ranks >= 1 && rank >= 0 && rank < ranks, "shard: expected a rank in 0..", ranks - 1,
             ", found ", rank);
  const auto n = index_t(indices.size()), r = index_t(rank), R = index_t(ranks);
  CURV_CHECK(n >= R, "shard: expected at least one example per process (", R, " processes), found ",
             n, " examples");
  const index_t begin = r * n / R, end = (r + 1) * n / R;
  return std::vector<index_t>(indices.begin() + begin, indices.begin() + end);
}

}  // namespace curv::distributed
