// GradientStream: per-example gradients of a chosen scalar, over any index list of a split and
// any parameter subset, delivered block by block — to a callback, or to a .npy file — and
// optionally projected to k dimensions by a seeded random map (linalg/projection.hpp). What
// influence estimators (TracIn, TRAK-style projections, representer points), pruning's OBS and
// Laplace's Jacobians consume, without an (N, P) matrix in memory.
//
// The scalar (Measurement), for example n with outputs zₙ and label yₙ:
//   loss        ℓₙ: rows are ∇ℓₙ (their mean is ∇L, curv's mean-loss gradient)
//   logit:c     zₙ,c
//   predicted   zₙ,ĉ with ĉ = argmax_c zₙ,c, the predicted class's logit (local ensembles)
//   margin      zₙ,yₙ − log Σ_{c≠yₙ} exp zₙ,c (classification: one label per example)
//   jacobian    every output: C rows per example, row n·C + c = ∂zₙ,c/∂θ
// Gradients over a subset are computed for the subset only (each op skips parameters outside it,
// ParamGrad::column), in the model's dtype. A jacobian over the weights of the linear layer that
// produces the outputs (z = W a + b, e.g. `last` of a classifier) takes no sweep: its rows are
// ∂z_c/∂W_ch = a_h and ∂z_c/∂b_c = 1, from the layer's inputs a seen while recording — what a
// last-layer Laplace predictive needs, at the cost of the forward pass. Other subsets take one
// backward sweep per output.
//
// Jacobians in factored form (GradientOptions::layer_factors): a layer that maps each of its R
// rows per example âₙ,ᵣ = [aₙ,ᵣ; 1] to W âₙ,ᵣ (linear: R = 1, or tokens; conv2d: R output
// positions, a the patches) has rows ∂zₙ,c/∂Ŵ = Σᵣ gₙ,c,ᵣ âₙ,ᵣᵀ, with gₙ,c,ᵣ the adjoint of
// output c at the layer's row r — so it can deliver the aₙ,ᵣ and gₙ,c,ᵣ instead of its C·out·din
// row entries per example whenever those are fewer, and its columns leave the rows. Kronecker
// posteriors use the form directly (laplace/predictive.hpp).
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "curv/curvature/subset.hpp"
#include "curv/data/split.hpp"
#include "curv/linalg/projection.hpp"
#include "curv/nn/model.hpp"

namespace curv {

template <class T>
class Loss;
template <class T>
class Objective;

struct Measurement {
  enum class Kind { Loss, Logit, Predicted, Margin, Jacobian };
  Kind kind = Kind::Loss;
  index_t logit = -1;  // Logit: which output

  // "loss", "logit:C", "predicted", "margin" or "jacobian"; throws a curv::Error naming the
  // accepted forms.
  static Measurement parse(const std::string& spec);
  std::string name() const;
  bool needs_labels() const { return kind == Kind::Loss || kind == Kind::Margin; }
};

struct GradientOptions {
  Measurement measurement;
  std::string subset = "all";  // ParamSubset::parse
  index_t batch = 256;         // examples per sweep
  index_t project = 0;         // k > 0: project each row to k dimensions; 0: the raw gradients
  ProjectionKind projection = ProjectionKind::Gaussian;
  std::uint64_t seed = 0;
  // jacobian over the output layer: deliver its inputs (GradientBlock::output_layer_inputs)
  // without the rows they determine (data null), for consumers that use the structure.
  bool inputs_for_output_layer = false;
  // jacobian: every linear and conv2d layer of the subset applied once per forward pass whose
  // factored form is smaller than its rows, R·(C·out + in) ≤ C·out·in, gives its rows' inputs
  // and output adjoints (GradientBlock::factors) instead of its columns, which the rows then
  // leave out (GradientStream::row_columns). Which layers those are is read from a recording of
  // the list's first example.
  bool layer_factors = false;
  // The projection matrix is kept when P·k fits; otherwise it is generated slice by slice once
  // per chunk of `chunk` examples, whose gradients are held together for it.
  std::size_t cache_bytes = std::size_t(512) << 20;
  index_t chunk = 2048;
};

// One layer's Jacobian rows in factored form: row (n, c) over its weight W:(out, in) is
// Σᵣ g[(n·C + c)·R + r] ⊗ a[n·R + r]ᵀ, and over its bias Σᵣ g[(n·C + c)·R + r].
template <class T>
struct LayerFactors {
  std::string_view kind;       // "linear", "conv2d"
  index_t weight_offset = -1;  // in the flat parameter vector
  index_t bias_offset = -1;    // -1 when the layer has none or it is outside the subset
  index_t in = 0, out = 0;
  index_t rows_per_example = 1;  // R
  const T* a = nullptr;          // (examples · R, in): the layer's input rows
  const T* g = nullptr;          // (examples · C · R, out): output c's adjoints at its rows
};

template <class T>
struct GradientBlock {
  index_t first = 0;                 // position of the block's first example in the list
  index_t examples = 0;              // examples in the block
  index_t rows = 0;                  // examples × rows per example
  index_t columns = 0;               // the subset's size, or k
  const T* data = nullptr;           // (rows, columns), row-major; null when only the output
                                     // layer's inputs were asked for and given (below)
  std::span<const index_t> indices;  // the examples' indices in the split
  const T* outputs = nullptr;        // (examples, output_size): the model's outputs z at them
  index_t output_size = 0;           // per example: C, or positions × C for sequence models
  // jacobian rows written from the output layer's inputs (above): those inputs âₙ, a bias's 1
  // appended when the bias is in the subset, (examples, input_size); else null.
  const T* output_layer_inputs = nullptr;
  index_t input_size = 0;
  // GradientOptions::layer_factors: the factored layers, whose columns the rows leave out.
  std::span<const LayerFactors<T>> factors;
};

template <class T>
class GradientStream {
 public:
  // `model` and `split` must outlive the stream. Throws a one-line curv::Error for an empty or
  // out-of-range list, a logit outside the model's outputs, a projection dimension outside
  // 1..P, or a measurement that needs labels on a split without them.
  GradientStream(const Model<T>& model, const Split<T>& split, std::vector<index_t> indices,
                 GradientOptions options);
  ~GradientStream();

  index_t examples() const { return index_t(indices_.size()); }
  index_t rows_per_example() const;  // C for jacobian, else 1
  index_t columns() const;  // k when projecting, else the subset's size less factored layers'
  // (A subset of single entries: rows are computed over the tensors it touches, then its entries
  // gathered; row_columns() then names those tensors' columns before the gathering.)
  const ParamSubset& subset() const { return subset_; }
  // (flat parameter offset, column in a row) of every parameter the rows hold, in flat order.
  const std::vector<std::pair<index_t, index_t>>& row_columns() const { return columns_; }
  // The layers given as LayerFactors (layer_factors); their a and g are set in the blocks only.
  const std::vector<LayerFactors<T>>& factored_layers() const;

  // Calls f with every block, in list order.
  void run(const std::function<void(const GradientBlock<T>&)>& f);
  // All rows as one (examples · rows_per_example, columns) .npy array, written to a temporary
  // and renamed (float32 or float64 as T): a failure leaves no file. progress: examples written.
  void write_npy(const std::string& path,
                 const std::function<void(index_t examples_done)>& progress = {});

  // Seconds spent so far: recording and per-example sweeps, projecting, generating R.
  struct Timings {
    double gradients = 0, projection = 0, generation = 0;
  };
  Timings timings() const;

 private:
  // (n · r, subset) rows for list[first, +n); their outputs to block_outputs_ from `at` on.
  void gradients_of(index_t first, index_t n, T* rows, index_t at);
  // jacobian: writes the rows from the output layer's inputs if the subset lies in that layer.
  // Its inputs â go to layer_inputs_ from example `at` on.
  bool output_layer_jacobian(index_t n, T* rows, index_t at);
  const Model<T>& model_;
  const Split<T>& split_;
  std::vector<index_t> indices_;
  GradientOptions opt_;
  ParamSubset subset_, support_;  // support_: the tensors a subset of single entries touches
  std::vector<index_t> picks_;    // such a subset's entries' columns among the support's rows
  std::vector<std::pair<index_t, index_t>> columns_;  // (parameter offset, column in a row)
  index_t width_ = 0;                                 // columns in a row before projection
  index_t outputs_ = 0;
  std::vector<T> block_outputs_;  // the current block's outputs z
  index_t output_size_ = 0;       // their size per example, known once a batch is recorded
  std::vector<T> layer_inputs_;   // the output layer's inputs â, when its rows came from them
  index_t input_size_ = 0;        // 0 when a batch of the block took the sweeps
  struct LinearInputs;  // the last linear layer's forward event, the factored layers' a and g
  std::unique_ptr<LinearInputs> linear_inputs_;  // jacobian only
  std::vector<LayerFactors<T>> block_factors_;   // the factored layers with the block's a and g
  // layer_factors: find the factored layers from a recording of the first example.
  void factor_layers();
  std::unique_ptr<RandomProjection<T>> projection_;
  double gradient_seconds_ = 0;
  // One batch's recording, re-recorded in place for the next batch (its tape keeps its memory).
  Batch<T> batch_;
  std::unique_ptr<Loss<T>> loss_;
  std::unique_ptr<Objective<T>> obj_;
};

extern template class GradientStream<float>;
extern template class GradientStream<double>;

}  // namespace curv
