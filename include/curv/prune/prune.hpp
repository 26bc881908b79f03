// One-shot pruning of a model's weights to a target sparsity (docs/methods/pruning.md):
//   magnitude   |w|
//   obd         w² F_qq / 2 with the exact diagonal of the GGN or the empirical Fisher
//   obs-dense   OBS with the damped empirical Fisher inverted densely (small models: the reference)
//   woodfisher  OBS with F in blocks of `block` weights (WoodFisher)
//   mfac        OBS with static M-FAC over all prunable weights
//   kfac-obs    OBS with K-FAC blocks of the pruned layers (factors from `diagonal`: ef
//               approximates the empirical Fisher above; ggn the exact GGN's), or the blocks of
//               `kfac` (an optimizer's running factors); damped as A ⊗ G + λI (eigen) or as
//               (A + π√λI) ⊗ (G + √λ/π I) (factored, π = 1 without `kfac_pi`)
// OBS methods estimate F = λI + (1/m) Σ ∇ℓᵢ∇ℓᵢᵀ from the per-example gradients of m examples
// (curvature/gradients.hpp, over the prunable weights only), remove weights by WoodFisher's rule
// (or WoodTaylor's with `taylor`, using the same examples' mean gradient), and reach the target
// in `recomputations` steps along the cubic schedule s_r = s + (s₀ − s)(1 − r/R)³, F estimated
// again at each. Prunable: the weights of linear and conv2d layers (rank ≥ 2, named *.weight);
// biases and norm parameters never. Weights already masked stay masked and count toward the
// sparsity.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "curv/curvature/kinds.hpp"
#include "curv/data/split.hpp"
#include "curv/nn/model.hpp"

namespace curv {

class KfacOperator;

struct PruneOptions {
  std::string method = "magnitude";
  double sparsity = 0.5;      // of the prunable weights, in [0, 1)
  bool per_layer = false;     // the same sparsity in every layer, instead of one global ranking
  index_t block = 128;        // woodfisher: weights per block
  bool layer_blocks = false;  // woodfisher: one block per layer instead (WoodFisher's MNIST runs)
  index_t grads = 100;        // m
  double damping = 1e-5;      // λ of the OBS methods
  index_t recomputations = 1;
  bool taylor = false;
  bool float32 = false;  // mfac: the O(m²d) work in float32 (prune/fisher_inverse.hpp)
  FactorKind diagonal = FactorKind::EF;  // obd's diagonal, kfac-obs's output factor: ef or ggn
  // kfac-obs: these blocks instead of fresh ones — e.g. a K-FAC optimizer's running factors
  // (Optimizer::curvature()), a moving average of the sampled Fisher. Must cover every pruned
  // layer; not owned.
  KfacOperator* kfac = nullptr;
  // kfac-obs: eigen adds λI to A ⊗ G (the one damping contract of linalg/operator.hpp);
  // factored damps each factor with √λ (Martens & Grosse's Tikhonov form), whose cross terms
  // √λ(A ⊗ I + I ⊗ G) damp far more strongly than λI for small λ. kfac_pi: π-adjusted factors;
  // off, A + √λI and G + √λI, the WoodFisher repository's K-FAC pruner.
  KfacDamping kfac_damping = KfacDamping::Eigen;
  bool kfac_pi = true;
  index_t batch = 256;
  // Told what each pruning step is doing: `done` of `total` units of `what` (total 0: a stage
  // without units, e.g. "step 2/5: inverting F"). Runs on the calling thread; may be empty.
  std::function<void(const std::string& what, long done, long total)> progress;
};

// The names of every method, and a check of options that can fail before any work.
std::vector<std::string> prune_methods();
void check_prune_options(const PruneOptions& o);

struct PruneReport {
  std::vector<std::uint8_t> keep;  // per parameter of the flat vector (1: kept)
  std::vector<double>
      first_scores;     // the first step's saliency per parameter; +inf where not prunable
  double sparsity = 0;  // achieved, over the prunable weights
  std::vector<std::pair<std::string, double>> layer_sparsity;  // per prunable parameter
  double seconds = 0;
};

// The pruned share of the prunable weights (by the store's mask), globally and per parameter.
struct Sparsity {
  double global = 0;
  std::vector<std::pair<std::string, double>> layers;
};
template <class T>
Sparsity prunable_sparsity(const ParamStore<T>& params);

// Prunes `model` in place (values and mask). The OBS and OBD curvature is estimated on the first
// `grads` of `examples` of `split`.
template <class T>
PruneReport prune(Model<T>& model, const Split<T>& split, const std::vector<index_t>& examples,
                  const PruneOptions& options);

}  // namespace curv
