// M-FAC (Frantar, Kurtic & Alistarh 2021, "M-FAC: Efficient Matrix-Free Approximations of
// Second-Order Information"): the damped empirical Fisher of m gradients g₁…g_m of dimension d,
//     F = λI + (1/m) Σᵢ gᵢ gᵢᵀ = λI + (1/m) Gᵀ G        (G: (m, d), one gradient per row),
// handled through its rank-m structure so that nothing d×d is ever formed. Two variants:
//
//  StaticMfac   fixed gradients, for pruning (Optimal Brain Surgeon needs [F⁻¹]_kk and F⁻¹
//  columns).
//               Setup is O(d m²); F⁻¹x then costs O(d m) and one entry [F⁻¹]_kl costs O(m).
//  DynamicMfac  a sliding window of the last m gradients, for the M-FAC optimizer: push(g)
//               replaces the oldest gradient in O(d m + m²) and F⁻¹x costs O(d m + m²).
//
// Damping: λ is part of F and fixed when the operator is built (DynamicMfac::set_damping changes
// it). inverse_mv(v, extra, out) and logdet(extra) therefore take extra == 0 and throw a
// curv::Error for anything else, instead of silently ignoring or re-deriving a second damping.
// Both count the window as m even when partly filled: F = λI + (1/m) Σ over the gradients present.
#pragma once

#include <string>
#include <vector>

#include "curv/linalg/operator.hpp"

namespace curv {

class StaticMfac : public LinearOperator {
 public:
  // gradients: row-major (m, d). Taken by value so a caller done with its gradients can move
  // them in: the buffer is turned into V in place, and G itself is not kept (memory is the point).
  StaticMfac(std::vector<double> gradients, index_t m, index_t d, double damping);

  std::string name() const override { return "mfac-static"; }
  void mv(const double* v, double* out) override;  // O(d m + m²)
  void inverse_mv(const double* v, double damping,
                  double* out) override;                         // damping must be 0; O(d m)
  std::vector<double> diagonal() override { return diagonal_; }  // of F, kept from setup
  double trace() override { return trace_; }
  double logdet(double damping) override;  // damping must be 0; matrix determinant lemma
  bool has_inverse() const override { return true; }
  bool has_diagonal() const override { return true; }

  // F⁻¹x with its length checked (the pointer API above cannot).
  std::vector<double> solve(const std::vector<double>& x) const;
  // [F⁻¹]_kl in O(m), and all d diagonal entries of F⁻¹ in O(d m).
  double inverse_entry(index_t k, index_t l) const;
  std::vector<double> inverse_diagonal() const;

  index_t gradients() const { return m_; }
  double damping() const { return lambda_; }
  // The M-FAC recursion's vectors vᵢ = F_{i−1}⁻¹ gᵢ (rows of V, (m, d)) and scalars m + gᵢᵀvᵢ,
  // with F_i = λI + (1/m) Σ_{j≤i} gⱼgⱼᵀ, so that F⁻¹ = I/λ − Σᵢ vᵢvᵢᵀ / (m + gᵢᵀvᵢ).
  const std::vector<double>& V() const { return V_; }
  const std::vector<double>& denominators() const { return den_; }

 private:
  void apply_inverse(const double* x, double* out) const;

  index_t m_, d_;
  double lambda_;
  std::vector<double> V_;    // (m, d)
  std::vector<double> den_;  // (m)
  std::vector<double> L_;  // (m, m) lower Cholesky factor of mλI + G Gᵀ; mv rebuilds G x from it
  std::vector<double> diagonal_;  // (d) diagonal of F
  double trace_ = 0, logdet_ = 0;
};

class DynamicMfac : public LinearOperator {
 public:
  // An empty window (F = λI) of capacity m over d parameters. refresh_every: after this many
  // pushes M is recomputed from K by Cholesky (O(m³)) to discard the rounding that the O(m²)
  // updates accumulate; -1 means every m pushes (once per window turnover, adding O(m²) per push
  // on average), 0 never.
  DynamicMfac(index_t d, index_t m, double damping, index_t refresh_every = -1);

  // Adds a gradient of length d, replacing the oldest when the window is full.
  void push(const double* g);
  void push(const std::vector<double>& g);
  // Changes λ; recomputes M in O(m³).
  void set_damping(double damping);
  // Recomputes M = (mλI + K)⁻¹ from K by Cholesky now.
  void refactorize();

  std::string name() const override { return "mfac-dynamic"; }
  void mv(const double* v, double* out) override;  // O(d n), n = count()
  void inverse_mv(const double* v, double damping,
                  double* out) override;    // damping must be 0; O(d n + n²)
  std::vector<double> diagonal() override;  // of F, O(d n)
  double trace() override;                  // O(n)
  double logdet(double damping) override;   // damping must be 0; O(n³)
  bool has_inverse() const override { return true; }
  bool has_diagonal() const override { return true; }

  // F⁻¹x with its length checked.
  std::vector<double> solve(const std::vector<double>& x);

  index_t capacity() const { return m_; }
  index_t count() const { return n_; }  // gradients in the window (≤ capacity)
  // The gradients in the window, (count, d) row-major, in slot order.
  std::vector<double> window() const {
    return std::vector<double>(G_.begin(), G_.begin() + n_ * d_);
  }
  index_t pushes() const { return pushes_; }
  double damping() const { return lambda_; }

 private:
  void remove_slot(index_t r);
  void add_slot(index_t r);

  index_t d_, m_;
  double lambda_;
  index_t refresh_every_;
  index_t n_ = 0;     // occupied slots: 0..n−1 while filling, all m once full
  index_t next_ = 0;  // the slot the next push writes (the oldest once full)
  index_t pushes_ = 0, since_refresh_ = 0;
  std::vector<double> G_;      // (m, d) gradients by slot
  std::vector<double> K_;      // (m, m) Gram matrix G Gᵀ of the occupied slots
  std::vector<double> M_;      // (m, m) (mλI + K)⁻¹ on the occupied slots, zero elsewhere
  std::vector<double> u_, b_;  // (m) scratch
};

}  // namespace curv
