#include "curv/influence/arnoldi.hpp"

#include <chrono>

#include "curv/core/error.hpp"
#include "curv/linalg/eigensolvers.hpp"

namespace curv::influence {

namespace {

// H, with the time of its products summed: Arnoldi's floor is its n products.
class TimedOperator final : public LinearOperator {
 public:
  explicit TimedOperator(LinearOperator& op) : LinearOperator(op.size()), op_(op) {}
  std::string name() const override { return op_.name(); }
  void mv(const double* v, double* out) override {
    const auto t = std::chrono::steady_clock::now();
    op_.mv(v, out);
    seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  }
  double seconds() const { return seconds_; }

 private:
  LinearOperator& op_;
  double seconds_ = 0;
};

}  // namespace

std::unique_ptr<EigenMetric> arnoldi_metric(LinearOperator& H_in, const ArnoldiOptions& o,
                                            double damping, ArnoldiReport* report) {
  TimedOperator H(H_in);
  CURV_CHECK(o.rank >= 1, "influence: expected an Arnoldi rank p >= 1, found ", o.rank);
  CURV_CHECK(o.rank <= o.iterations,
             "influence: arnoldi keeps p of its n Ritz pairs: expected p <= n = ", o.iterations,
             ", found p = ", o.rank);
  CURV_CHECK(damping >= 0, "influence: expected a damping λ >= 0, found ", damping);
  linalg::KrylovOptions k;
  k.iterations = std::min(o.iterations, H.size());
  k.wanted = std::min(o.rank, k.iterations);
  k.which = o.positive ? linalg::Which::largest_algebraic : linalg::Which::largest_magnitude;
  k.seed = o.seed;
  const linalg::Eigensolution e = linalg::arnoldi(H, k);
  const index_t p = index_t(e.values.size()), P = H.size();
  std::vector<double> U(std::size_t(p * P));
  for (index_t i = 0; i < p; ++i)
    std::copy(e.vectors[std::size_t(i)].begin(), e.vectors[std::size_t(i)].end(),
              U.begin() + i * P);
  if (report) {
    report->products = e.iterations;
    report->product_seconds = H.seconds();
    report->values = e.values;
    report->breakdown = e.breakdown;
    report->message = e.message;
  }
  return std::make_unique<EigenMetric>(e.values, std::move(U), P, damping);
}

template <class T>
FreshBatchOperator<T>::FreshBatchOperator(ModelOperator<T>& op, index_t batches)
    : LinearOperator(op.size()), op_(op), batches_(batches) {
  CURV_CHECK(batches >= 1, "influence: expected at least one batch, found ", batches);
}

template <class T>
FreshBatchOperator<T>::~FreshBatchOperator() {
  op_.use_batch(-1);
}

template <class T>
void FreshBatchOperator<T>::mv(const double* v, double* out) {
  op_.use_batch(next_);
  next_ = (next_ + 1) % batches_;
  op_.mv(v, out);
}

template class FreshBatchOperator<float>;
template class FreshBatchOperator<double>;

}  // namespace curv::influence
