// CurvatureData: the examples a curvature matrix is defined on — a model, its loss and a fixed
// list of batches — with each batch's forward pass recorded for the products a solver asks for.
//
// Lifecycle. Batches are recorded when first used. Recordings are kept while they fit in the
// cache (Options::cache_bytes); the batches beyond it are recorded again each time they are
// used, one at a time, so memory stays bounded by the cache plus one batch however many
// examples there are (a streamed source fills those batches from the split on demand too).
// A recording belongs to the parameters it was made at: the data keeps a fingerprint of θ, and
// every product checks it (check_current), throwing a one-line error when θ has changed since —
// a product would otherwise mix new weights with old activations. refresh() accepts the new θ:
// it drops every recording and output factor, so the next product records again.
//
// Every operator refers to the mean loss over all examples, L = (1/N) Σₙ ℓₙ: a product over
// several batches is the size-weighted mean of the per-batch products (batch b weighs N_b/N).
//
// Output factors. Gauss-Newton-type matrices are Jᵀ B J with a per-example output block Bₙ, and
// each comes with a factor Sₙ:(C,K), Bₙ = Sₙ Sₙᵀ, whose columns, pulled back through the network
// one at a time, give exact diagonals and K-FAC's output-gradient factor:
//   ggn   Bₙ = ∇²ℓₙ/N (the loss's closed-form square root, K = C): the generalized Gauss-Newton
//   ef    Bₙ = ∇ℓₙ∇ℓₙᵀ/N (K = 1): the empirical Fisher
//   mc    Bₙ = Sₙ Sₙᵀ with M labels sampled from the model (K = M), E[Bₙ] = ∇²ℓₙ/N: the
//         Monte-Carlo Fisher. Samples are drawn once, from the seed, so the operator is fixed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "curv/curvature/kinds.hpp"
#include "curv/data/batch.hpp"
#include "curv/data/split.hpp"
#include "curv/nn/objective.hpp"

namespace curv {

template <class T>
class CurvatureData {
 public:
  struct Options {
    // Recordings (tape, loss state, output factor) kept between products; the rest are redone.
    std::size_t cache_bytes = std::size_t(512) << 20;
  };

  // Batches held in memory. The model must outlive this object.
  CurvatureData(const Model<T>& model, std::vector<Batch<T>> batches, Options options);
  CurvatureData(const Model<T>& model, std::vector<Batch<T>> batches)
      : CurvatureData(model, std::move(batches), Options{}) {}
  // A streamed source: `indices` of `split`, `batch` examples at a time in order (the last batch
  // may be smaller), filled from the split when a batch is recorded. The split must outlive this.
  CurvatureData(const Model<T>& model, const Split<T>& split, std::vector<index_t> indices,
                index_t batch, Options options = {});
  ~CurvatureData();
  CurvatureData(const CurvatureData&) = delete;
  CurvatureData& operator=(const CurvatureData&) = delete;

  const Model<T>& model() const { return model_; }
  index_t parameters() const { return model_.params().size(); }
  index_t batches() const { return static_cast<index_t>(parts_.size()); }
  index_t examples() const { return examples_; }
  // N_b / N: the weight of batch b in every product.
  double weight(index_t b) const;
  index_t batch_examples(index_t b) const { return part(b).examples; }
  // Batch b recorded at the current θ (recorded now if it is not cached). The reference is
  // valid until the next call for another batch that is not cached.
  Objective<T>& objective(index_t b);
  // Batch b's examples (recorded now if need be; valid as long as objective(b)'s reference).
  const Batch<T>& batch(index_t b);
  // The mean loss over all examples (records the batches not recorded yet).
  double loss();

  // Sₙ for every example of batch b: (N_b, C, K), computed with the recording and kept as long
  // as it is. For kind mc, `samples` labels per example are drawn from a generator seeded by
  // (seed, b), so a batch recorded again draws the same labels.
  const Tensor<T>& output_factor(index_t b, FactorKind kind, index_t samples = 1,
                                 std::uint64_t seed = 0);

  // Sets the observer that batch b's sweeps report layer events to when they ask for it
  // (Objective::pullback/gradient with notify_observer); null removes it.
  void set_observer(index_t b, LayerObserver<T>* observer) {
    objective(b).tape().set_observer(observer);
  }

  // Throws a curv::Error naming `who` when θ differs from the parameters the data was recorded
  // at (or last refreshed at).
  void check_current(const std::string& who) const;
  // Accepts the model's current θ: drops every recording, so each batch is recorded again.
  void refresh();
  // A hash of the model's parameter values (what check_current compares).
  std::uint64_t parameter_fingerprint() const;

  // Memory: bytes held by cached recordings, how many batches are cached, and how many
  // recordings have been made so far (a batch recorded twice counts twice).
  std::size_t cached_bytes() const { return cached_bytes_; }
  index_t cached_batches() const;
  index_t recordings() const { return recordings_; }

 private:
  struct Part;
  Part& part(index_t b) const { return *parts_[static_cast<std::size_t>(b)]; }
  void record(Part& p);
  void release(Part& p);
  void add_part(index_t examples);

  const Model<T>& model_;
  Options opt_;
  const Split<T>* split_ = nullptr;  // streamed source, or null when batches are held
  std::vector<index_t> indices_;
  std::vector<std::unique_ptr<Part>> parts_;
  index_t examples_ = 0;
  std::uint64_t fingerprint_ = 0;
  std::size_t cached_bytes_ = 0;
  index_t recordings_ = 0;
  // Batches beyond the cache share one recording, re-recorded in place: scratch_ is the part it
  // holds now.
  std::unique_ptr<Loss<T>> scratch_loss_;
  std::unique_ptr<Objective<T>> scratch_objective_;
  Part* scratch_ = nullptr;
};

extern template class CurvatureData<float>;
extern template class CurvatureData<double>;

}  // namespace curv
