// A fitted Laplace posterior on disk, so predictions need neither the training data nor another
// pass over it: one safetensors file (float64) holding
//   theta                 θ* on the posterior's weights (S)
//   prior                 δ per prior group
//   the curvature C in its structure (the prior is added again on reading, exactly as fitted):
//     kron                kron.<i>.A (din, din), kron.<i>.G (out, out) per layer block i (a
//                         re-fitted EK-FAC scaling is refused: its eigenbasis is not saved)
//     diag                diag (S)
//     full                full (S, S)
//     lowrank             lowrank.U (m, S): C = UᵀU
// and the metadata key "curv.posterior", a JSON object with the structure, the weights spec,
// the curvature's name, the prior kind and its groups, N, Σₙ ℓₙ(θ*), a regression's noise σ² and
// outputs D (keys "noise", "outputs"; absent for a classifier), the K-FAC layers, and the
// fingerprint of the model weights it was fitted at (weights_fingerprint), which reading checks
// so a posterior is never used with another checkpoint.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "curv/laplace/posterior.hpp"
#include "curv/nn/model.hpp"

namespace curv::laplace {

struct StoredPosterior {
  std::string structure, weights, curvature, prior;
  std::unique_ptr<Posterior> posterior;
};

// FNV-1a over every parameter as float32 bytes, in flat order: the same for a checkpoint read
// in float32 or float64 (float32 values widen exactly).
template <class T>
std::uint64_t weights_fingerprint(const Model<T>& model);

// Writes `post` (its prior as set) to `path` through a temporary file renamed over it. The
// structure must be one of the four above; `weights`, `curvature` and `prior` are recorded for
// the reader.
template <class T>
void save_posterior(const std::string& path, Posterior& post, const Model<T>& model,
                    const std::string& structure, const std::string& weights,
                    const std::string& curvature, const std::string& prior);

// Reads a posterior written by save_posterior for `model` at its current weights. Throws a
// one-line curv::Error naming the file for a missing or corrupt file, a file that is not a
// posterior, or a posterior of other weights (fingerprint or parameter layout mismatch).
template <class T>
StoredPosterior load_posterior(const std::string& path, const Model<T>& model);

}  // namespace curv::laplace
