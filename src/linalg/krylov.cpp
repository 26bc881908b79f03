#include "krylov.hpp"

#include <cblas.h>
#include <lapacke.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "curv/core/error.hpp"

namespace curv::linalg::detail {

double dot(const double* a, const double* b, index_t n) {
  return cblas_ddot(static_cast<int>(n), a, 1, b, 1);
}

double norm(const double* a, index_t n) { return cblas_dnrm2(static_cast<int>(n), a, 1); }

void axpy(double alpha, const double* x, double* y, index_t n) {
  cblas_daxpy(static_cast<int>(n), alpha, x, 1, y, 1);
}

void scale(double alpha, double* x, index_t n) { cblas_dscal(static_cast<int>(n), alpha, x, 1); }

void fill_rademacher(Rng& rng, double* v, index_t n) {
  // One 64-bit draw gives 64 signs.
  for (index_t i = 0; i < n; i += 64) {
    std::uint64_t bits = rng.next();
    const index_t end = std::min(n, i + 64);
    for (index_t j = i; j < end; ++j, bits >>= 1) v[j] = (bits & 1) ? 1.0 : -1.0;
  }
}

void fill_gaussian(Rng& rng, double* v, index_t n) {
  for (index_t i = 0; i < n; ++i) v[i] = rng.normal();
}

void fill_probe(Probe kind, Rng& rng, double* v, index_t n) {
  if (kind == Probe::rademacher)
    fill_rademacher(rng, v, n);
  else
    fill_gaussian(rng, v, n);
}

Vector unit_start_vector(const std::vector<double>& given, std::uint64_t seed, index_t n,
                         const char* solver) {
  Vector v;
  if (given.empty()) {
    v.resize(sz(n));
    Rng rng(seed);
    fill_gaussian(rng, v.data(), n);
  } else {
    CURV_CHECK(static_cast<index_t>(given.size()) == n, solver,
               ": expected a start vector of length ", n, " (the operator's size), found ",
               given.size());
    v = given;
  }
  const double length = norm(v.data(), n);
  CURV_CHECK(std::isfinite(length) && length > 0, solver,
             ": expected a finite, non-zero start vector, found norm ", length);
  scale(1 / length, v.data(), n);
  return v;
}

void orthogonalize(const double* basis, index_t count, index_t n, double* w, double* coefficients) {
  if (count == 0) return;
  if (coefficients) std::fill(coefficients, coefficients + count, 0.0);
  Vector h(sz(count));
  const int rows = static_cast<int>(count), cols = static_cast<int>(n);
  for (int pass = 0; pass < 2; ++pass) {
    // h = Q w, then w -= Qᵀ h.
    cblas_dgemv(CblasRowMajor, CblasNoTrans, rows, cols, 1.0, basis, cols, w, 1, 0.0, h.data(), 1);
    cblas_dgemv(CblasRowMajor, CblasTrans, rows, cols, -1.0, basis, cols, h.data(), 1, 1.0, w, 1);
    if (coefficients)
      for (index_t j = 0; j < count; ++j) coefficients[j] += h[sz(j)];
  }
}

void combine_rows(const double* basis, index_t count, index_t n, const double* coefficients,
                  double* out) {
  cblas_dgemv(CblasRowMajor, CblasTrans, static_cast<int>(count), static_cast<int>(n), 1.0, basis,
              static_cast<int>(n), coefficients, 1, 0.0, out, 1);
}

LanczosRecurrence lanczos_recurrence(LinearOperator& op, const double* unit_start,
                                     index_t max_steps, double breakdown_tolerance,
                                     const std::function<bool(const LanczosRecurrence&)>& stop) {
  const index_t n = op.size();
  // A Krylov space never exceeds the dimension of the whole space.
  max_steps = std::min(max_steps, n);
  LanczosRecurrence rec;
  rec.basis.assign(sz(max_steps * n), 0.0);
  std::copy(unit_start, unit_start + n, rec.basis.begin());
  Vector w(sz(n)), correction(sz(max_steps));
  // Largest ‖M q_j‖ so far: a lower bound on ‖M‖, the scale "β ≈ 0" is measured against.
  double operator_scale = 0;
  for (index_t j = 0; j < max_steps; ++j) {
    const double* q = rec.basis.data() + j * n;
    op.mv(q, w.data());
    operator_scale = std::max(operator_scale, norm(w.data(), n));
    CURV_CHECK(std::isfinite(operator_scale), "lanczos: operator '", op.name(),
               "' returned a non-finite product at step ", j + 1);
    // Three-term recurrence, then full re-orthogonalization: in floating point the recurrence
    // alone loses orthogonality as soon as a Ritz pair converges, which produces spurious copies
    // of converged eigenvalues.
    double alpha = dot(q, w.data(), n);
    axpy(-alpha, q, w.data(), n);
    if (j > 0) axpy(-rec.beta[sz(j - 1)], q - n, w.data(), n);
    orthogonalize(rec.basis.data(), j + 1, n, w.data(), correction.data());
    alpha += correction[sz(j)];  // keeps T = QᵀMQ to rounding level
    const double beta = norm(w.data(), n);
    rec.alpha.push_back(alpha);
    rec.beta.push_back(beta);
    rec.steps = j + 1;
    if (beta <= breakdown_tolerance * operator_scale) {
      rec.breakdown = true;
      break;
    }
    if (stop && j + 1 < max_steps && stop(rec)) break;
    if (j + 1 < max_steps) {
      double* next = rec.basis.data() + (j + 1) * n;
      for (index_t i = 0; i < n; ++i) next[i] = w[sz(i)] / beta;
    }
  }
  rec.basis.resize(sz(rec.steps * n));
  return rec;
}

void tridiagonal_eigen(const Vector& diagonal, const Vector& off, Vector& values, Vector& vectors) {
  const index_t m = static_cast<index_t>(diagonal.size());
  values = diagonal;
  Vector e(off.begin(), off.begin() + std::max<index_t>(m - 1, 0));
  e.push_back(0);  // dstev wants at least one element even when m == 1
  vectors.assign(sz(m * m), 0.0);
  const lapack_int info =
      LAPACKE_dstev(LAPACK_ROW_MAJOR, 'V', static_cast<lapack_int>(m), values.data(), e.data(),
                    vectors.data(), static_cast<lapack_int>(m));
  CURV_CHECK(info == 0, "tridiagonal eigensolver: LAPACK dstev failed on a ", m, "x", m,
             " tridiagonal matrix (info ", info, "); is the operator finite?");
}

std::vector<index_t> select_indices(const Vector& values, Which which, index_t count) {
  std::vector<index_t> order(values.size());
  std::iota(order.begin(), order.end(), index_t{0});
  auto before = [&](index_t a, index_t b) {
    const double x = values[sz(a)], y = values[sz(b)];
    switch (which) {
      case Which::largest_algebraic:
        return x > y;
      case Which::smallest_algebraic:
        return x < y;
      case Which::largest_magnitude:
        return std::abs(x) > std::abs(y);
    }
    return false;
  };
  std::stable_sort(order.begin(), order.end(), before);
  order.resize(sz(std::min<index_t>(count, static_cast<index_t>(order.size()))));
  return order;
}

Estimate mean_and_standard_error(const Vector& samples) {
  const double count = static_cast<double>(samples.size());
  Estimate e;
  e.samples = static_cast<index_t>(samples.size());
  if (samples.empty()) return e;
  e.value = std::accumulate(samples.begin(), samples.end(), 0.0) / count;
  if (samples.size() < 2) {
    e.standard_error =
        std::numeric_limits<double>::infinity();  // one sample says nothing about spread
    return e;
  }
  double squares = 0;
  for (double s : samples) squares += (s - e.value) * (s - e.value);
  e.standard_error = std::sqrt(squares / (count - 1) / count);
  return e;
}

}  // namespace curv::linalg::detail
