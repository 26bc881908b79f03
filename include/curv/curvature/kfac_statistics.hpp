// Observers that turn the layer events of backward sweeps into K-FAC's Kronecker factors and
// EK-FAC's re-fitted scalings. Ops know nothing of K-FAC: every linear and conv2d layer reports
// (a, ȳ) rows during sweeps that ask for it (autodiff/node.hpp, LayerEvent), and these observers do
// the rest — so the factors can be gathered alongside a gradient pass (the optimizers) or from
// dedicated pullbacks of the loss's square-root factor columns (the operators).
//
// Definitions, per batch of N examples with R rows per layer (R = N·T: T = 1 for plain linear
// layers, T output positions for conv2d (KFC, Grosse & Martens 2016), T tokens for linear
// layers in sequence models ("expand", Eschenhagen et al. 2023)), â = [a; 1] with a bias:
//     A = (1/R) Σ_rows â âᵀ                     (a mean over rows)
//     G = s Σ_sweeps Σ_rows ȳ ȳᵀ                 (a sum; s = g_scale)
// For sweeps seeded with square-root factor columns (curvature/data.hpp) s = 1, and with N = 1,
// T = 1 the product A ⊗ G is exactly the layer's GGN (or EF, or MC-Fisher) block. For a gradient
// sweep (seed ∇L = ∇ℓₙ/N) s = N makes G the empirical Fisher's output factor (1/N) Σ ∇ℓ∇ℓᵀ.
// Over several batches each batch's factors are weighted (N_b/N for the mean loss).
// With T > 1 the positions are summed in G and averaged in A, so A ⊗ G has the scale of the
// per-example sum over positions (KFC's Ω ⊗ Γ with its 1/T moved into Ω): the scale at which the
// true block's diagonal is matched when positions are independent.
#pragma once

#include <functional>
#include <map>
#include <vector>

#include "curv/autodiff/node.hpp"
#include "curv/curvature/kronecker.hpp"
#include "curv/curvature/subset.hpp"

namespace curv {

template <class T>
class KfacStatistics : public LayerObserver<T> {
 public:
  // Collects the layers whose weight is in `subset` (every observed layer if null; the subset
  // must outlive this object). A bias outside the subset is left out of the layer.
  explicit KfacStatistics(const ParamSubset* subset = nullptr) : subset_(subset) {}

  // Starts a batch: A is taken from the next sweep only (it does not depend on the seed), G from
  // every sweep until the next begin_batch. `weight` multiplies both, `g_scale` G. `keep`
  // scales what was accumulated before, on the batch's first write to each factor: 1 sums
  // batches, ε < 1 makes the factors exponential moving averages (weight = 1 − ε), at no cost
  // (it is the syrk's beta).
  void begin_batch(double weight, double g_scale = 1.0, double keep = 1.0);
  // Whether sweeps add to G (off: A only, as FOOF needs, or while a sweep that does not define
  // G, such as the gradient's under a sampled Fisher, runs).
  void set_collect_g(bool on) { collect_g_ = on; }
  // Changes g_scale within a batch: the gradient's sweep (s = N) gives A, sweeps seeded with
  // square-root factor columns (s = 1) then give G.
  void set_g_scale(double g_scale) { g_scale_ = g_scale; }
  void end_sweep() { collect_a_ = false; }
  // Forgets all statistics, keeping nothing.
  void clear();
  void on_backward(const LayerEvent<T>& e) override;
  bool reads_output_adjoints() const override { return collect_g_; }
  bool observes(std::string_view, index_t weight_offset) const override {
    return !subset_ || subset_->contains(weight_offset);
  }

  index_t layers() const { return static_cast<index_t>(layers_.size()); }
  const KfacLayer& layer(index_t i) const { return layers_[static_cast<std::size_t>(i)].info; }
  // Every factor's storage in place, layer by layer (A, then G if collected), for `f` to
  // change: a data-parallel run averages them across its processes (distributed K-FAC).
  void for_each_factor(const std::function<void(T* data, std::size_t n)>& f);
  // Symmetric factors of layer i: A (din, din), G (out, out), row-major.
  std::vector<double> A(index_t i) const;
  std::vector<double> G(index_t i) const;

 private:
  struct Layer {
    KfacLayer info;
    // Lower triangles, accumulated in the model's dtype by syrk straight into place (no
    // scratch, no conversion pass: for a 785-wide input factor those passes cost as much as
    // the update). Read, symmetrized and in float64, through A()/G().
    std::vector<T> A, G;
    bool a_fresh = true, g_fresh = true;  // not yet written in this batch
  };
  Layer& find_or_add(const LayerEvent<T>& e);
  const ParamSubset* subset_;
  std::vector<Layer> layers_;
  std::map<index_t, std::size_t> by_offset_;
  double weight_ = 1, g_scale_ = 1, keep_ = 1;
  bool collect_a_ = true, collect_g_ = true;
  std::vector<T> ones_;  // for the bias row's column sums, as one gemv
};

// EK-FAC's re-fit (George et al. 2018): for each block's eigenbasis Q_A ⊗ Q_G, the scaling
//     S[o,i] = s Σ_sweeps Σₙ ( Q_Gᵀ Dₙ Q_A )[o,i]²,   Dₙ = Σ_{rows of n} ȳ âᵀ
// i.e. the diagonal, in that basis, of the Gauss-Newton-type matrix the sweeps' seeds define
// (Dₙ is example n's gradient of the layer for that seed), for any number of rows per example.
// Computed in the model's dtype; the order of the products is chosen per layer for the fewest
// multiply-adds (rank-one examples, or rotating rows before or after the per-example sum).
template <class T>
class EkfacRefit : public LayerObserver<T> {
 public:
  // The blocks give the bases (their eigendecompositions are computed here if needed) and
  // must outlive this object.
  explicit EkfacRefit(std::vector<KroneckerBlock*> blocks);
  void begin_batch(double weight, double g_scale = 1.0) { weight_ = weight, g_scale_ = g_scale; }
  // Zeroes the scalings (a new batch in the same bases).
  void clear();
  void on_backward(const LayerEvent<T>& e) override;
  bool observes(std::string_view, index_t weight_offset) const override {
    return by_offset_.count(weight_offset) > 0;
  }
  // The accumulated scaling of block i, (out, din).
  const std::vector<double>& scaling(index_t i) const { return S_[static_cast<std::size_t>(i)]; }

 private:
  struct Basis {
    std::vector<T> QA, QG;  // the eigenvectors in T, row-major
  };
  std::vector<KroneckerBlock*> blocks_;
  std::vector<Basis> bases_;
  std::vector<std::vector<double>> S_;
  std::map<index_t, std::size_t> by_offset_;
  double weight_ = 1, g_scale_ = 1;
  std::vector<T> a_, ta_, tg_, stacked_, rotated_;  // work space, kept between sweeps
};

// Forwards layer events to two observers, so one sweep feeds both (K-FAC's factors and EK-FAC's
// re-fit); either may be null.
template <class T>
struct ObserverPair final : LayerObserver<T> {
  LayerObserver<T>* first = nullptr;
  LayerObserver<T>* second = nullptr;
  void on_backward(const LayerEvent<T>& e) override {
    if (first) first->on_backward(e);
    if (second) second->on_backward(e);
  }
  bool reads_output_adjoints() const override {
    return (first && first->reads_output_adjoints()) || (second && second->reads_output_adjoints());
  }
  bool observes(std::string_view kind, index_t weight_offset) const override {
    return (first && first->observes(kind, weight_offset)) ||
           (second && second->observes(kind, weight_offset));
  }
};

extern template class KfacStatistics<float>;
extern template class KfacStatistics<double>;
extern template class EkfacRefit<float>;
extern template class EkfacRefit<double>;

}  // namespace curv
