#include "curv/influence/scores.hpp"

#include <algorithm>
#include <cmath>

#include "curv/core/error.hpp"
#include "curv/kernels/gemm.hpp"
#include "curv/linalg/dense.hpp"
#include "curv/linalg/linear_solvers.hpp"

namespace curv::influence {

Inverse parse_inverse(const std::string& name) {
  if (name == "exact") return Inverse::Exact;
  if (name == "cg") return Inverse::Cg;
  if (name == "lissa") return Inverse::Lissa;
  fail("influence: expected an inverse among exact, cg, lissa, found '", name, "'");
}

const char* inverse_name(Inverse kind) {
  switch (kind) {
    case Inverse::Exact:
      return "exact";
    case Inverse::Cg:
      return "cg";
    case Inverse::Lissa:
      return "lissa";
  }
  return "?";
}

namespace {

double norm(const double* x, index_t n) {
  double s = 0;
  for (index_t i = 0; i < n; ++i) s += x[i] * x[i];
  return std::sqrt(s);
}

// ‖b − (H + λI)x‖ / ‖b‖ (one product): the check every inverse is reported by.
double relative_residual(LinearOperator& H, const double* b, const double* x, double damping) {
  const index_t P = H.size();
  std::vector<double> r(P);
  H.mv(x, r.data());
  for (index_t i = 0; i < P; ++i) r[i] = b[i] - r[i] - damping * x[i];
  const double nb = norm(b, P);
  return nb > 0 ? norm(r.data(), P) / nb : 0;
}

}  // namespace

std::vector<double> inverse_products(LinearOperator& H, std::span<const double> B, index_t k,
                                     const InverseOptions& o, InverseReport* report) {
  const index_t P = H.size();
  CURV_CHECK(o.damping >= 0, "influence: expected a damping λ >= 0, found ", o.damping);
  CURV_CHECK(index_t(B.size()) == k * P, "influence: expected ", k, " right-hand sides of ", P,
             " entries, found ", B.size(), " entries");
  std::vector<double> X(B.begin(), B.end());
  InverseReport r;
  switch (o.kind) {
    case Inverse::Exact: {
      CURV_CHECK(P <= o.exact_limit,
                 "influence: the exact inverse forms H densely: expected at most ", o.exact_limit,
                 " parameters, found ", P, " (use cg or lissa)");
      std::vector<double> dense = materialize(H);
      r.products += P;
      // A Hessian from R-operator products is symmetric to rounding: factor its symmetric part.
      for (index_t i = 0; i < P; ++i)
        for (index_t j = 0; j < i; ++j) {
          const double s = 0.5 * (dense[i * P + j] + dense[j * P + i]);
          dense[i * P + j] = dense[j * P + i] = s;
        }
      std::vector<double> L;
      try {
        L = linalg::cholesky(dense, P, o.damping);
      } catch (const Error& e) {
        fail("influence: exact inverse: H + λI with λ = ", o.damping, " is not positive definite (",
             e.what(), "); raise the damping or use the GGN");
      }
      // cholesky_solve works on B (P, k): solve on the transpose of the k rows.
      std::vector<double> Bt(P * k);
      for (index_t q = 0; q < k; ++q)
        for (index_t i = 0; i < P; ++i) Bt[i * k + q] = B[q * P + i];
      linalg::cholesky_solve(L, P, Bt.data(), k);
      for (index_t q = 0; q < k; ++q)
        for (index_t i = 0; i < P; ++i) X[q * P + i] = Bt[i * k + q];
      break;
    }
    case Inverse::Cg: {
      linalg::CgOptions c;
      c.damping = o.damping, c.tolerance = o.tolerance, c.max_iterations = o.max_iterations;
      for (index_t q = 0; q < k; ++q) {
        const auto res = linalg::cg(H, B.subspan(q * P, P), c);
        CURV_CHECK(res.converged, "influence: cg did not reach a relative residual of ",
                   o.tolerance, " for right-hand side ", q, " within ", o.max_iterations,
                   " iterations (it reached ", res.relative_residual,
                   "): raise --max-iterations or the damping");
        std::copy(res.x.begin(), res.x.end(), X.begin() + q * P);
        // CG's relative_residual is the true one of the x it returns, checked with one product.
        r.products += res.iterations + 1;
        r.worst_residual = std::max(r.worst_residual, res.relative_residual);
      }
      if (report) *report = r;
      return X;
    }
    case Inverse::Lissa: {
      CURV_CHECK(o.lissa_scale > 0, "influence: lissa needs a scale s above λ_max(H + λI), found ",
                 o.lissa_scale);
      linalg::LissaOptions l;
      l.scale = o.lissa_scale, l.depth = o.lissa_depth, l.damping = o.damping;
      for (index_t q = 0; q < k; ++q) {
        const auto res = linalg::lissa(H, B.subspan(q * P, P), l);
        std::copy(res.x.begin(), res.x.end(), X.begin() + q * P);
        r.products += o.lissa_depth;
      }
      break;
    }
  }
  // The exact and LiSSA solutions are checked here, one product each.
  for (index_t q = 0; q < k; ++q) {
    r.worst_residual = std::max(
        r.worst_residual, relative_residual(H, B.data() + q * P, X.data() + q * P, o.damping));
    ++r.products;
  }
  if (report) *report = r;
  return X;
}

template <class T>
std::vector<double> scores(const Model<T>& model, LinearOperator& H, const Split<T>& train_split,
                           std::vector<index_t> train, const Split<T>& query_split,
                           std::vector<index_t> queries, const InverseOptions& inverse,
                           const ScoreOptions& options, InverseReport* report) {
  const index_t P = H.size(), Q = index_t(queries.size()), N = index_t(train.size());
  GradientOptions qo;
  qo.measurement = options.query, qo.batch = options.batch;
  GradientStream<T> query_stream(model, query_split, std::move(queries), qo);
  CURV_CHECK(query_stream.columns() == P, "influence: expected the curvature over all ",
             query_stream.columns(), " parameters, found an operator of size ", P);
  // (Q, P): the queries' gradients, then their solutions x_q = (H + λI)⁻¹ ∇m(z'_q).
  std::vector<double> G(Q * P);
  query_stream.run([&](const GradientBlock<T>& b) {
    std::copy(b.data, b.data + b.rows * P, G.begin() + b.first * P);
  });
  const std::vector<double> X = inverse_products(H, G, Q, inverse, report);

  // Row q of the result is x_qᵀ ∇ℓ(z_n) over the streamed training gradients.
  std::vector<double> S(Q * N);
  GradientOptions to;
  to.batch = options.batch;  // the training loss
  GradientStream<T> train_stream(model, train_split, std::move(train), to);
  std::vector<double> block, out;
  train_stream.run([&](const GradientBlock<T>& b) {
    block.assign(b.data, b.data + b.rows * P);
    out.resize(Q * b.rows);
    gemm<double>(Trans::No, Trans::Yes, Q, b.rows, P, 1.0, X.data(), block.data(), 0.0,
                 out.data());  // (Q, rows)
    for (index_t q = 0; q < Q; ++q)
      for (index_t j = 0; j < b.rows; ++j) S[q * N + b.first + j] = out[q * b.rows + j];
  });
  return S;
}

template std::vector<double> scores(const Model<float>&, LinearOperator&, const Split<float>&,
                                    std::vector<index_t>, const Split<float>&, std::vector<index_t>,
                                    const InverseOptions&, const ScoreOptions&, InverseReport*);
template std::vector<double> scores(const Model<double>&, LinearOperator&, const Split<double>&,
                                    std::vector<index_t>, const Split<double>&,
                                    std::vector<index_t>, const InverseOptions&,
                                    const ScoreOptions&, InverseReport*);

}  // namespace curv::influence
