// Hutchinson's trace and diagonal estimators, and Hutch++.
#include <lapacke.h>

#include <algorithm>

#include "curv/core/error.hpp"
#include "curv/linalg/estimators.hpp"
#include "krylov.hpp"

namespace curv::linalg {

using detail::sz;
using detail::Vector;

namespace {

// Probes go through the operator in blocks, so an operator with a batched product (mm) uses it,
// without holding every probe at once.
constexpr index_t kProbeBlock = 32;

// Calls visit(z, Mz) for `probes` Rademacher probes z drawn from rng, each first passed through
// prepare(z) (e.g. a projection) before the product.
template <class Prepare, class Visit>
void for_each_probe(LinearOperator& op, index_t probes, Rng& rng, Prepare prepare, Visit visit) {
  const index_t n = op.size(), block = std::min(probes, kProbeBlock);
  Vector Z(sz(block * n)), MZ(sz(block * n));
  for (index_t first = 0; first < probes; first += block) {
    const index_t count = std::min(block, probes - first);
    for (index_t i = 0; i < count; ++i) {
      detail::fill_rademacher(rng, Z.data() + i * n, n);
      prepare(Z.data() + i * n);
    }
    op.mm(Z.data(), count, MZ.data());
    for (index_t i = 0; i < count; ++i) visit(Z.data() + i * n, MZ.data() + i * n);
  }
}

}  // namespace

Estimate hutchinson_trace(LinearOperator& op, index_t probes, std::uint64_t seed) {
  CURV_CHECK(probes >= 2,
             "hutchinson_trace: expected at least 2 probes (one gives no standard error), found ",
             probes);
  const index_t n = op.size();
  Rng rng(seed);
  Vector samples;
  for_each_probe(
      op, probes, rng, [](double*) {},
      [&](const double* z, const double* Mz) { samples.push_back(detail::dot(z, Mz, n)); });
  return detail::mean_and_standard_error(samples);
}

Estimate hutchpp_trace(LinearOperator& op, index_t matvecs, std::uint64_t seed) {
  CURV_CHECK(matvecs >= 6,
             "hutchpp_trace: expected a budget of at least 6 products (2 each for the sketch, its "
             "trace and the residual probes), found ",
             matvecs);
  const index_t n = op.size();
  // A sketch wider than n cannot capture more than the whole space.
  const index_t sketch = std::min(matvecs / 3, n), probes = matvecs - 2 * sketch;
  Rng rng(seed);

  // Q: an orthonormal basis of M S, which concentrates on the largest |eigenvalues|. Householder
  // QR keeps Q orthonormal even when M S is rank deficient (an operator of rank < sketch).
  Vector S(sz(sketch * n)), Q(sz(sketch * n));
  for (index_t i = 0; i < sketch; ++i) detail::fill_rademacher(rng, S.data() + i * n, n);
  op.mm(S.data(), sketch, Q.data());
  // The rows of our row-major (sketch, n) array are the columns of a column-major n × sketch one.
  Vector tau(sz(sketch));
  const lapack_int rows = static_cast<lapack_int>(n), cols = static_cast<lapack_int>(sketch);
  lapack_int info = LAPACKE_dgeqrf(LAPACK_COL_MAJOR, rows, cols, Q.data(), rows, tau.data());
  CURV_CHECK(info == 0, "hutchpp_trace: LAPACK dgeqrf failed on the sketch (info ", info,
             "); is the operator finite?");
  info = LAPACKE_dorgqr(LAPACK_COL_MAJOR, rows, cols, cols, Q.data(), rows, tau.data());
  CURV_CHECK(info == 0, "hutchpp_trace: LAPACK dorgqr failed (info ", info, ")");

  // tr(QᵀMQ), exactly.
  Vector MQ(sz(sketch * n));
  op.mm(Q.data(), sketch, MQ.data());
  double top = 0;
  for (index_t i = 0; i < sketch; ++i) top += detail::dot(Q.data() + i * n, MQ.data() + i * n, n);

  // Hutchinson on the rest: zᵀ(I − QQᵀ)M(I − QQᵀ)z = gᵀMg with g = (I − QQᵀ)z.
  Vector samples;
  for_each_probe(
      op, probes, rng, [&](double* z) { detail::orthogonalize(Q.data(), sketch, n, z); },
      [&](const double* g, const double* Mg) { samples.push_back(detail::dot(g, Mg, n)); });
  Estimate e = detail::mean_and_standard_error(samples);
  e.value += top;
  return e;
}

std::vector<double> hutchinson_diagonal(LinearOperator& op, index_t probes, std::uint64_t seed) {
  CURV_CHECK(probes >= 1, "hutchinson_diagonal: expected at least 1 probe, found ", probes);
  const index_t n = op.size();
  Rng rng(seed);
  std::vector<double> diagonal(sz(n), 0.0);
  // E[z_i (Mz)_i] = Σ_j M_ij E[z_i z_j] = M_ii for independent ±1 entries.
  for_each_probe(
      op, probes, rng, [](double*) {},
      [&](const double* z, const double* Mz) {
        for (index_t i = 0; i < n; ++i) diagonal[sz(i)] += z[i] * Mz[i];
      });
  for (double& d : diagonal) d /= double(probes);
  return diagonal;
}

}  // namespace curv::linalg
