// Dense symmetric linear algebra through LAPACKE, float64, row-major (n, n) matrices. These are
// the exact references the iterative solvers are tested against, and the workhorses for small
// structured pieces (K-FAC factors, M-FAC's m×m systems, Lanczos tridiagonals).
#pragma once

#include <vector>

#include "curv/linalg/operator.hpp"

namespace curv::linalg {

// All eigenpairs of the symmetric matrix a (n, n): values ascending. Throws curv::Error if
// LAPACK fails to converge or a is not finite.
Eigenpairs eigh(const std::vector<double>& a, index_t n);
// The same, returned as values (n) and the eigenvector matrix Q (n, n, row-major, column j is
// eigenvector j), which is what Kronecker-factored operators keep.
void eigh(const double* a, index_t n, double* values, double* Q);

// Cholesky factor L (lower, row-major) of the symmetric positive definite a + shift·I; throws
// curv::Error naming the failing pivot when the matrix is not positive definite.
std::vector<double> cholesky(const std::vector<double>& a, index_t n, double shift = 0);
// Solves (L Lᵀ) X = B in place for B (n, k) row-major.
void cholesky_solve(const std::vector<double>& L, index_t n, double* B, index_t k);
// log det of L Lᵀ.
double cholesky_logdet(const std::vector<double>& L, index_t n);

// Solves the symmetric system (a + shift·I) x = b (Cholesky; LU-free). Convenience for tests.
std::vector<double> solve_spd(const std::vector<double>& a, index_t n, const std::vector<double>& b,
                              double shift = 0);

}  // namespace curv::linalg
