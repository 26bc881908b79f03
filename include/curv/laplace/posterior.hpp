// The Laplace approximation around trained weights θ*, on the parameters of a subset S (all,
// the last layer, named layers):
//   posterior   N(θ*, P⁻¹),   P = N·C + P₀,   P₀ = diag(δ), δ constant within each prior group
// C is the mean-loss curvature on S (any operator with an exact inverse: kfac, diag, lowrank,
// or a dense one for "full" — curvature/factory.hpp), so N·C is the summed-loss curvature of the
// N training examples. The prior implied by weight decay wd on the mean loss is δ = N·wd.
//   log Z = log p(D|θ*) − ½ θ*ᵀP₀θ* − ½ log det P + ½ log det P₀,   log p(D|θ*) = −Σₙ ℓₙ(θ*)
// (the prior's mean is 0). Its gradient in the log prior precisions, used to tune them:
//   ∂ log Z / ∂ log δ_g = ½ n_g − ½ δ_g (‖θ*_g‖² + tr_g P⁻¹)
// The fit and prior terms may be evaluated at another point θ̂ than θ* (set_mode): the linearized
// evidence (laplace/evidence.hpp) puts them at the linearized model's mode, with log p(D|θ̂) the
// linearized model's summed loss there; P, and with it the log determinant, stays at θ*.
// where n_g is the group's size and tr_g the trace of P⁻¹ over the group's entries.
// Regression (mean squared error, ℓₙ = ½‖yₙ − f(xₙ)‖² over D outputs) with observation noise σ²
// has a Gaussian likelihood and a precision scaled by it (set_noise):
//   log p(D|θ) = −Σₙ ℓₙ/σ² − (N·D/2) log 2πσ²,   P = (N/σ²)·C + P₀,   C the unit-noise GGN
//   ∂ log Z / ∂ log σ² = Σₙ ℓₙ/σ² − N·D/2 + ½ (S − Σ_g δ_g tr_g P⁻¹)     (S: the subset's size)
// the last term because ∂P/∂ log σ² = −(P − P₀). P is built
// for each prior as one exact structure (curvature/compose.hpp, plus_diagonal): a Kronecker
// curvature takes a prior per layer exactly (constant within its blocks), not per parameter.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "curv/curvature/subset.hpp"
#include "curv/linalg/operator.hpp"

namespace curv {
class KfacOperator;
class KroneckerBlock;
}  // namespace curv

namespace curv::laplace {

struct PriorGroup {
  std::string name;
  index_t begin = 0, size = 0;  // entries [begin, begin + size) of the subset vector
};

// "scalar": one group over the whole subset; "layer": one per layer (NAME.weight and NAME.bias
// share NAME's). Throws naming the two otherwise.
std::vector<PriorGroup> prior_groups(const ParamSubset& subset, const std::string& kind);

// σ̂² = Σₙ ‖yₙ − f(xₙ)‖² / (N·D) = 2 Σₙ ℓₙ / (N·D) for the MSE's ℓ = ½‖y − f‖²: the noise that
// maximizes the likelihood at the trained weights (the regression fit's start, MAP's noise).
double residual_noise(double summed_loss, double n, index_t outputs);

class Posterior {
 public:
  // curvature: C on the subset (mean-loss scale), n_data: N, theta: θ* on the subset,
  // summed_loss: Σₙ ℓₙ(θ*) over the N examples, groups: the prior's (see prior_groups).
  Posterior(std::unique_ptr<LinearOperator> curvature, double n_data, std::vector<double> theta,
            double summed_loss, std::vector<PriorGroup> groups);

  // One precision per group, each > 0; rebuilds P.
  void set_prior(std::vector<double> delta);
  const std::vector<double>& prior() const { return delta_; }
  // A Gaussian likelihood with noise variance σ² > 0 over `outputs` (D) values per example, for a
  // curvature and summed loss of the unit-noise MSE; rebuilds P. Without it the likelihood is
  // exp(−Σₙ ℓₙ) (classification).
  void set_noise(double sigma2, index_t outputs);
  bool gaussian() const { return sigma2_ > 0; }
  double noise() const { return sigma2_; }  // σ², 0 without a Gaussian likelihood
  index_t outputs() const { return outputs_; }
  const std::vector<PriorGroup>& groups() const { return groups_; }
  double n_data() const { return n_; }
  double summed_loss() const { return summed_loss_; }
  const std::vector<double>& theta() const { return theta_; }
  // Where log Z's fit and prior terms are evaluated: θ* and Σₙ ℓₙ(θ*) unless set. set_mode
  // puts them at `mode` (on the subset) with `summed_loss` the loss there (the linearized
  // evidence: the linearized model's mode and summed loss); predictions stay around θ*.
  void set_mode(std::vector<double> mode, double summed_loss);
  const std::vector<double>& mode() const { return mode_; }
  double mode_loss() const { return mode_loss_; }
  LinearOperator& curvature() { return *C_; }  // C, without the prior
  index_t size() const { return index_t(theta_.size()); }

  LinearOperator& precision();  // P
  double log_marglik();
  std::vector<double> log_marglik_gradient();  // per group, in log δ
  double log_marglik_noise_gradient();         // in log σ² (Gaussian likelihood)
  std::vector<double> variances();             // diag P⁻¹
  // out[j] = P⁻¹ V[j] for k vectors V:(k, size).
  void covariance_mm(const double* V, index_t k, double* out);
  // When the subset is one linear layer producing the model's `outputs` and P one Kronecker block
  // (structure kron): Σₙ = Jₙ P⁻¹ Jₙᵀ for its inputs â (n, din; the bias's 1 included), whose
  // Jacobians are Jₙ = I ⊗ âₙᵀ, through the block's eigenbases without forming Jₙ
  // (KroneckerBlock::inverse_factored_covariance), added into out (n, outputs, outputs). Returns
  // false, writing nothing, for any other structure or shape.
  bool output_layer_covariance(const double* a, index_t n, index_t din, index_t outputs,
                               double* out);
  // Whether P has that form: one linear layer's Kronecker block with `outputs` outputs.
  bool has_output_layer_form(index_t outputs);
  // P as Kronecker blocks, one per layer (structure kron, with any prior: the prior sits in each
  // block's scaling), or null for any other structure.
  KfacOperator* kronecker();

  // Maximizes log Z over log δ from the current prior, by quasi-Newton ascent (BFGS with a
  // backtracking line search) on the exact gradient, until every |∂ log Z / ∂ log δ_g| ≤
  // tolerance·n_g, no ascent is left that log Z's rounding can show, or `steps` are taken.
  // Returns the steps taken. (laplace-torch runs Adam on log δ for a fixed number of steps;
  // this stops where the gradient vanishes.) `moved`, if given, is called after every change of
  // the prior, before log Z is evaluated there: the linearized evidence re-solves its mode.
  // With `noise` (a Gaussian likelihood) log σ² is fitted with the log δ, its gradient held to
  // tolerance·N·D.
  int fit_prior(int steps = 100, double tolerance = 1e-6, const std::function<void()>& moved = {},
                bool noise = false);

 private:
  std::unique_ptr<LinearOperator> C_, P_;
  double n_, summed_loss_, mode_loss_;
  double sigma2_ = 0;    // σ² of a Gaussian likelihood; 0: exp(−Σₙ ℓₙ)
  index_t outputs_ = 0;  // D, with σ²
  void rebuild();        // P from C, the likelihood's scale and δ
  // ∂ log Z/∂ log δ_g per group, then ∂/∂ log σ² when `noise`: one pass over P⁻¹'s diagonal.
  std::vector<double> gradient(bool noise);
  std::vector<double> theta_, mode_, delta_;
  std::vector<PriorGroup> groups_;
  std::vector<double> squared_;  // ‖mode_g‖² per group (θ* unless set_mode)
  KroneckerBlock* output_layer_block(index_t outputs);
};

}  // namespace curv::laplace
