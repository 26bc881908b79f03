// KroneckerBlock: one layer's curvature block in Kronecker-factored form, the piece K-FAC and
// EK-FAC operators are assembled from.
//
// Layout. The layer maps a row a to W a + b with W:(out, in). Its parameters are handled as
// Ŵ = [W | b]:(out, din), din = in + 1 with a bias (in without), and the block acts on Ŵ as
//     M vec(Ŵ) = vec(G Ŵ A)      i.e. M[(o,i),(o',i')] = G[o,o'] A[i',i]
// with A:(din, din) the input factor (the bias adds a ones entry to a) and G:(out, out) the
// output-gradient factor. (Row-major vec, so this is the matrix A ⊗ G in curv's index order.)
//
// Eigenbasis. With A = Q_A diag(α) Q_Aᵀ and G = Q_G diag(γ) Q_Gᵀ the block is
//     M vec(Ŵ) = Q_G [ (Q_Gᵀ Ŵ Q_A) ⊙ S ] Q_Aᵀ,   S[o,i] = γ_o α_i      (K-FAC)
// and EK-FAC keeps the basis but replaces S by a re-fitted scaling (George et al. 2018), the
// diagonal of the true block in this basis. Inverses, log-determinants and the diagonal follow
// from the same form.
//
// Damping: inverse_mv and logdet with λ are (M + λI)⁻¹ and log det(M + λI), S + λ in the
// eigenbasis. Factored Tikhonov damping is a block of other factors, A + π√γ I and G + √γ/π I
// (curvature/kfac.hpp, factored_damping), with π below.
#pragma once

#include <string>
#include <vector>

#include "curv/core/shape.hpp"

namespace curv {

// The products a Kronecker-factored block is applied with, on V, out: (O, din) row-major and a
// work buffer of O·din, in the caller's dtype: the operators' float64 KroneckerBlocks and the
// optimizers' float32/float64 preconditioners (optim/) apply their blocks through these same
// functions, so the two cannot drift apart.
//   eigen     out = Q_G [(Q_Gᵀ V Q_A) ⊙ scale] Q_Aᵀ          (Q's row-major, column j = vector j)
//   sandwich  out = L V R                                    (G V A, or G⁻¹ V A⁻¹ when factored)
template <class T>
void kronecker_eigen(const T* QG, const T* QA, index_t O, index_t din, const T* scale, const T* V,
                     T* out, T* work);
template <class T>
void kronecker_sandwich(const T* L, const T* R, index_t O, index_t din, const T* V, T* out,
                        T* work);

// π of factored Tikhonov damping, √((tr A / din) / (tr G / out)) for symmetric A (din, din) and
// G (out, out); 1 when either trace is not positive.
double pi_adjustment(const std::vector<double>& A, index_t din, const std::vector<double>& G,
                     index_t out);

struct KfacLayer {
  std::string kind;              // "linear", "conv2d"
  index_t weight_offset = -1;    // in the full flat parameter vector
  index_t bias_offset = -1;      // -1 without a bias
  index_t out = 0, in = 0;       // W:(out, in); conv2d: in = channels·kh·kw (KFC patches)
  index_t rows_per_example = 1;  // output positions (conv2d) or tokens (sequence models)
  index_t din() const { return in + (bias_offset >= 0 ? 1 : 0); }
  index_t size() const { return out * din(); }
};

class KroneckerBlock {
 public:
  KroneckerBlock(KfacLayer layer, std::vector<double> A, std::vector<double> G);

  const KfacLayer& layer() const { return layer_; }
  const std::vector<double>& A() const { return A_; }
  const std::vector<double>& G() const { return G_; }
  // Eigendecompositions, computed on first use: values ascending and clipped at 0 (the factors
  // are positive semi-definite; a negative eigenvalue is rounding), Q row-major (column j is
  // eigenvector j).
  const std::vector<double>& eigenvalues_A();
  const std::vector<double>& eigenvalues_G();
  const std::vector<double>& eigenvectors_A();
  const std::vector<double>& eigenvectors_G();
  // The π of factored damping.
  double pi() const;

  // EK-FAC: the scaling S:(out, din) in this block's eigenbasis; replaces γ αᵀ from then on.
  void set_refit(std::vector<double> S);
  bool refitted() const { return !S_.empty(); }
  // The scaling in use: γ αᵀ, or the re-fit.
  std::vector<double> scaling();

  // V, out: (out, din) matrices Ŵ. out = M V.
  void mv(const double* V, double* out);
  // out = (M + λI)⁻¹ V.
  void inverse_mv(const double* V, double lambda, double* out);
  // out = (M + λI)^(-1/2) V = Q [(Qᵀ V) ⊙ (S + λ)^(-1/2)]: the symmetric root of the inverse.
  void inverse_root_mv(const double* V, double lambda, double* out);
  void diagonal(double* d);  // (out, din)
  // The diagonal of (M + λI)⁻¹, (out, din): Σ_{a,b} Q_G[o,a]² Q_A[i,b]² / (S[a,b] + λ).
  void inverse_diagonal(double lambda, double* d);
  // Covariances J (M + λI)⁻¹ Jᵀ of k scalars per input under this block, the GLM predictive's
  // Σ = J P⁻¹ Jᵀ summed block by block. Both add into out (n, k, k).
  //
  // Factored rows: a layer applied to R rows âₙ,ᵣ per input (a bias's 1 included; a: (n·R, din))
  // gives scalar c, whose adjoints at the layer's rows are gₙ,c,ᵣ, the Jacobian row
  // Jₙ,c = Σᵣ gₙ,c,ᵣ ⊗ âₙ,ᵣᵀ with respect to Ŵ. With R = 1 it has rank one, and
  //   Σₙ[c,c'] += Σ_o (Q_Gᵀgₙ,c)_o (Q_Gᵀgₙ,c')_o Σ_i (Q_Aᵀâₙ)_i² / (S[o,i] + λ)
  // in din² + k·out² + out·din + k²·out multiply-adds per input, where applying (M + λI)⁻¹ to
  // the k rows takes k·(out²·din + out·din²). With R > 1 (conv2d positions, tokens),
  // Yₙ,c = Σᵣ (Q_Gᵀgₙ,c,ᵣ)(Q_Aᵀâₙ,ᵣ)ᵀ = G̃ₙ,cᵀ Ãₙ and Σₙ[c,c'] += Σ_{o,i} Yₙ,c ⊙ Yₙ,c' / (S + λ):
  // R·(din² + k·out²) + k·R·out·din + k²·out·din. g: (n·k·R, out), row (e·k + c)·R + r; null
  // for a layer's own outputs (R = 1, gₙ,c = e_c, k = out): a last-layer predictive's Σ.
  void inverse_factored_covariance(const double* a, const double* g, index_t n, index_t rows,
                                   index_t k, double lambda, double* out);
  // Any rows: V (n, k, out, din), row (n, c) the Jacobian of scalar c at input n over Ŵ (conv2d
  // layers sum a rank-one term per output position). With Yₙ,c = Q_Gᵀ Vₙ,c Q_A,
  //   Σₙ[c,c'] += Σ_{o,i} Yₙ,c[o,i] Yₙ,c'[o,i] / (S[o,i] + λ)
  // — the rotation is half of inverse_mv's work and is batched over all rows.
  void inverse_covariance(const double* V, index_t n, index_t k, double lambda, double* out);
  // The diagonal of this block's matrix M in another Kronecker eigenbasis (`basis`'s, same
  // layer): entry (o,i) is (q_G,o ⊗ q_A,i)ᵀ M (q_G,o ⊗ q_A,i) for basis's eigenvectors q. EK-FAC
  // carries its running scaling over to a new basis with it.
  std::vector<double> diagonal_in(KroneckerBlock& basis);
  double trace();
  double logdet(double lambda);  // log det(M + λI)

 private:
  void ensure_eigen();
  // (Q_G∘Q_G)ᵀ s (Q_A∘Q_A) for row-major Q's: the diagonal matrix s (out, din) seen in the basis
  // whose vectors are the columns of Q_G and Q_A (written into d, (out, din)).
  void squared_sandwich(const std::vector<double>& QG, const std::vector<double>& QA,
                        const std::vector<double>& s, double* d);
  // out = Q_G [ (Q_Gᵀ V Q_A) ⊙ scale ] Q_Aᵀ.
  void in_eigenbasis(const double* V, const std::vector<double>& scale, double* out);
  KfacLayer layer_;
  std::vector<double> A_, G_, S_;
  std::vector<double> alpha_, gamma_, QA_, QG_;
  std::vector<double> work_;
  // 1 / (S + λ), computed once per λ.
  const std::vector<double>& inverse_scaling(double lambda);
  // (S + λ)^(-1/2): the root's scaling, for sampling and the covariance forms.
  std::vector<double> inverse_root_scaling(double lambda);
  // The inverted damped scaling of the last inverse_mv, reused while λ stays the same (CG and
  // Lanczos call it with one λ many times).
  std::vector<double> inverse_scale_;
  double inverse_lambda_ = -1;
};

}  // namespace curv
