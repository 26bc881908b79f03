// LiSSA: (M + λI)⁻¹ v as the truncated Neumann series s⁻¹ Σ_{i≤J} (I − (M + λI)/s)^i v, summed by
// the recursion h_j = v + (I − (M + λI)/s) h_{j−1}.
#include <cmath>

#include "curv/core/error.hpp"
#include "curv/linalg/linear_solvers.hpp"
#include "krylov.hpp"

namespace curv::linalg {

using detail::sz;
using detail::Vector;

LissaResult lissa(const OperatorSampler& sample, std::span<const double> v,
                  const LissaOptions& options) {
  const index_t n = static_cast<index_t>(v.size());
  const double s = options.scale, damping = options.damping;
  CURV_CHECK(
      std::isfinite(s) && s > 0,
      "lissa: expected a positive scale larger than the largest eigenvalue of M + λI, found ", s);
  CURV_CHECK(options.depth >= 1, "lissa: expected depth ≥ 1, found ", options.depth);
  CURV_CHECK(options.repeats >= 1, "lissa: expected repeats ≥ 1, found ", options.repeats);
  CURV_CHECK(options.divergence_factor >= 1, "lissa: expected divergence_factor ≥ 1, found ",
             options.divergence_factor);
  CURV_CHECK(std::isfinite(damping), "lissa: expected a finite damping, found ", damping);
  const double v_norm = detail::norm(v.data(), n);
  CURV_CHECK(std::isfinite(v_norm), "lissa: the vector v is not finite");

  LissaResult result;
  result.x.assign(sz(n), 0.0);
  Vector h(sz(n)), Mh(sz(n));
  for (index_t repeat = 0; repeat < options.repeats; ++repeat) {
    h.assign(v.begin(), v.end());
    double term_norm = 0, h_norm = v_norm;
    for (index_t j = 1; j <= options.depth; ++j) {
      LinearOperator& op = sample(repeat, j - 1);
      CURV_CHECK(op.size() == n, "lissa: the sampled operator '", op.name(), "' has size ",
                 op.size(), ", expected ", n, " (the length of v)");
      op.mv(h.data(), Mh.data());
      // h ← v + h − (M h + λ h)/s; the change is the newest series term (I − (M + λI)/s)^j v.
      double term_squared = 0, h_squared = 0;
      for (index_t i = 0; i < n; ++i) {
        const std::size_t k = sz(i);
        const double term = v[k] - (Mh[k] + damping * h[k]) / s;
        h[k] += term;
        term_squared += term * term;
        h_squared += h[k] * h[k];
      }
      term_norm = std::sqrt(term_squared);
      h_norm = std::sqrt(h_squared);
      // Each series term of a contraction is no longer than v, so h_j, a sum of j+1 of them, is
      // at most (j+1)‖v‖; a longer h proves some eigenvalue of (M + λI)/s lies outside (0, 2).
      const double limit = options.divergence_factor * double(j + 1) * v_norm;
      if (!std::isfinite(h_norm) || h_norm > limit)
        fail("lissa: diverged at step ", j, " of ", options.depth, " (repeat ", repeat + 1,
             "): ‖h‖ = ", h_norm,
             std::isfinite(h_norm)
                 ? cat(" exceeds ", limit, ", more than a convergent recursion can reach")
                 : std::string(" is not finite"),
             ". The scale (", s,
             ") must exceed the largest eigenvalue of M + λI (damping λ = ", damping,
             "): raise scale, e.g. by 10× to ", 10 * s,
             "; if it already does, M + λI has a negative eigenvalue and the damping must be "
             "raised");
    }
    result.relative_last_term =
        std::max(result.relative_last_term, h_norm > 0 ? term_norm / h_norm : 0.0);
    detail::axpy(1.0 / (s * double(options.repeats)), h.data(), result.x.data(), n);
  }
  return result;
}

LissaResult lissa(LinearOperator& op, std::span<const double> v, const LissaOptions& options) {
  CURV_CHECK(static_cast<index_t>(v.size()) == op.size(), "lissa: expected v of length ", op.size(),
             " (operator '", op.name(), "'), found ", v.size());
  // With one fixed operator every repeat computes the same vector: run it once.
  LissaOptions once = options;
  once.repeats = 1;
  return lissa([&op](index_t, index_t) -> LinearOperator& { return op; }, v, once);
}

}  // namespace curv::linalg
