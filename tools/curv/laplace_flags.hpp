// The flags that choose a Laplace posterior (laplace/fit.hpp), with one meaning and one default
// in every subcommand that fits one (laplace, ood --score laplace):
//   --examples          the training examples: N and the curvature (train:all)
//   --weights           all | last (default) | layer names | subnet (--subnet-size k weights by
//                       --subnet-by variance (default) | magnitude; laplace/subnet.hpp)
//   --structure         kron (default) | diag | lowrank | full
//   --rank              lowrank: eigenpairs kept (50)
//   --curvature         ggn (default) | ef | fisher, --mc-samples for fisher
//   --prior             scalar (default) | layer
//   --prior-precision   marglik (default: fitted from N·weight decay, or 1) | linearized (the
//                       marginal likelihood at the linearized model's mode, laplace/evidence.hpp,
//                       started from the marglik fit) | val-nll (the
//                       lowest validation NLL over 41 values of δ log-spaced from 1e-4 to 1e4,
//                       on the labelled examples of --val) | a value δ > 0
//   --linearized-model  affine (default: f(θ*) + J(θ − θ*)) | jacobian (J θ, no offset), the
//                       model whose mode the linearized evidence is taken at
//   --noise             regression (mse models): σ, marglik (default: fitted with the prior from
//                       the training residuals' σ̂) | a value > 0
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "curv/laplace/fit.hpp"

namespace curv::cli {

struct LaplaceFlags {
  std::string examples = "train:all", weights = "last", structure = "kron", curvature = "ggn";
  std::string prior = "scalar", prior_precision = "marglik", val, noise = "marglik";
  std::string linearized_model = "affine";
  index_t rank = 50, mc_samples = 1, subnet_size = 0;
  std::string subnet_by = "variance";

  void add(CLI::App* cmd);
  // Names and values known; throws a one-line curv::Error naming the flag otherwise.
  void check() const;
  // The spec for `checkpoint` fitted on n examples: the prior starts at N·wd when the checkpoint
  // records a weight decay wd, else at 1.
  laplace::LaplaceSpec spec(const std::string& checkpoint, double n, index_t batch,
                            std::uint64_t seed) const;
  bool fitted_prior() const { return prior_precision == "marglik" || linearized_prior(); }
  bool linearized_prior() const { return prior_precision == "linearized"; }
  bool tuned_prior() const { return prior_precision == "val-nll"; }
  // val-nll's grid of δ.
  static std::vector<double> prior_grid();
};

// A fitted posterior's weights as ParamSubset::parse reads them (FitReport::weights): whether
// they are a subnetwork's single entries ("entries:…"), and how a label names them.
bool is_subnetwork(const std::string& weights);
std::string weights_label(const std::string& weights);  // "last layer", "a subnetwork", …

}  // namespace curv::cli
