// GEMM on row-major matrices through cblas, with BLAS's beta semantics:
//   C = alpha * op(A) * op(B) + beta * C,   op(X) = X or Xᵀ,   C:(m,n), op(A):(m,k), op(B):(k,n).
// beta = 1 accumulates into C, which is how every backward pass adds into gradients.
#pragma once

#include <functional>
#include <vector>

#include "curv/core/tensor.hpp"

namespace curv {

enum class Trans { No, Yes };

template <class T>
void gemm(Trans ta, Trans tb, index_t m, index_t n, index_t k, T alpha, const T* a, index_t lda,
          const T* b, index_t ldb, T beta, T* c, index_t ldc);

// The common case of contiguous matrices: leading dimensions are the stored row lengths.
template <class T>
void gemm(Trans ta, Trans tb, index_t m, index_t n, index_t k, T alpha, const T* a, const T* b,
          T beta, T* c) {
  gemm(ta, tb, m, n, k, alpha, a, ta == Trans::No ? k : m, b, tb == Trans::No ? n : k, beta, c, n);
}

// One float GEMM's shape, as a step called it (curv bench's floors: a step's own GEMMs, timed
// alone).
struct GemmCall {
  Trans ta, tb;
  index_t m, n, k, lda, ldb, ldc;
  bool accumulate;  // beta ≠ 0
};
// The float GEMMs that f calls, from any thread, in the order they started.
std::vector<GemmCall> record_gemms(const std::function<void()>& f);
// The calls again, one after another, on scratch matrices (BLAS's own threads, no other work).
class GemmReplay {
 public:
  explicit GemmReplay(std::vector<GemmCall> calls);
  void operator()();
  double multiply_adds() const;

 private:
  std::vector<GemmCall> calls_;
  std::vector<float> a_, b_, c_;
};

// Symmetric rank-k update of the lower triangle (BLAS syrk): C = alpha·AᵀA + beta·C for
// A:(k, n), C:(n, n) with leading dimension ldc (≥ n). Half the multiply-adds of a GEMM;
// K-FAC's factors are built with it.
template <class T>
void syrk_lower(index_t n, index_t k, T alpha, const T* a, T beta, T* c, index_t ldc);

// Makes the row-major (n, n) matrix m symmetric by copying its lower triangle onto its upper one
// (or, with from_lower = false, the upper onto the lower), tile by tile: an element-wise mirror
// strides through memory a row at a time, which for the 785-wide factor of a 784-input layer
// costs more than the syrk that built it.
template <class T>
void mirror_triangle(T* m, index_t n, bool from_lower = true);

// y += alpha * x (BLAS axpy).
template <class T>
void axpy(index_t n, T alpha, const T* x, T* y);

// ⟨x, y⟩ accumulated in double whatever T is.
template <class T>
double dot(index_t n, const T* x, const T* y);

}  // namespace curv
