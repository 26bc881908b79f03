#include "laplace_flags.hpp"

#include <cmath>
#include <cstdlib>

#include "curv/core/error.hpp"
#include "curv/laplace/tune.hpp"
#include "curv/nn/checkpoint.hpp"
#include "provenance.hpp"

namespace curv::cli {
namespace {

// 0 for one of the keywords (a value to fit), else the finite value > 0 that `text` spells;
// otherwise throws naming `flag`, its keywords and `value` ("a value > 0", "a value σ > 0").
double keyword_or_positive(const std::string& text, std::initializer_list<const char*> keywords,
                           const std::string& flag, const std::string& value) {
  std::string known;
  for (const char* k : keywords) {
    if (text == k) return 0;
    known += (known.empty() ? "" : ", ") + std::string(k);
  }
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  CURV_CHECK(end && *end == '\0' && v > 0 && std::isfinite(v), "laplace: expected ", flag, " ",
             known, " or ", value, ", found '", text, "'");
  return v;
}

double prior_value(const std::string& text) {
  return keyword_or_positive(text, {"marglik", "linearized", "val-nll"}, "--prior-precision",
                             "a value > 0");
}

double noise_value(const std::string& text) {
  return keyword_or_positive(text, {"marglik"}, "--noise", "a value σ > 0");
}

}  // namespace

void LaplaceFlags::add(CLI::App* cmd) {
  cmd->add_option("--examples", examples,
                  "The training examples the posterior is fitted on: N and the curvature")
      ->capture_default_str();
  cmd->add_option("--weights", weights,
                  "all, last (the last layer), comma-separated layer names, or subnet (the "
                  "--subnet-size weights chosen by --subnet-by)")
      ->capture_default_str();
  cmd->add_option("--subnet-size", subnet_size, "subnet: the number of weights kept");
  cmd->add_option("--subnet-by", subnet_by,
                  "subnet: variance (the largest marginal variances under a diagonal Laplace "
                  "posterior over all weights) or magnitude (the largest |θ*|)")
      ->capture_default_str();
  cmd->add_option("--structure", structure,
                  "kron (K-FAC blocks, the prior added exactly in their eigenbasis), diag, "
                  "lowrank (top --rank eigenpairs by Lanczos), or full (dense, up to 6000 weights)")
      ->capture_default_str();
  cmd->add_option("--rank", rank, "lowrank: eigenpairs of the curvature kept")
      ->capture_default_str();
  cmd->add_option("--curvature", curvature,
                  "ggn (exact Gauss-Newton), ef (empirical Fisher) or fisher (sampled labels)")
      ->capture_default_str();
  cmd->add_option("--mc-samples", mc_samples, "fisher: labels drawn per example")
      ->capture_default_str();
  cmd->add_option("--prior", prior, "scalar, or layer (one precision per layer)")
      ->capture_default_str();
  cmd->add_option("--prior-precision", prior_precision,
                  "marglik (fitted from N·weight decay, or 1), linearized (the marginal "
                  "likelihood at the linearized model's mode, from the marglik fit), val-nll (the "
                  "lowest NLL on --val "
                  "over δ from 1e-4 to 1e4) or a value δ")
      ->capture_default_str();
  cmd->add_option("--linearized-model", linearized_model,
                  "linearized: the model whose mode the evidence is taken at, affine (f(θ*) + "
                  "J(θ − θ*)) or jacobian (J θ, without the offset)")
      ->capture_default_str();
  cmd->add_option("--noise", noise,
                  "Regression (mse models): the observation noise σ, marglik (fitted with the "
                  "prior) or a value")
      ->capture_default_str();
  cmd->add_option("--val", val,
                  "val-nll: labelled examples held out from --examples (an index list)");
}

void LaplaceFlags::check() const {
  check_one_of(structure, {"kron", "diag", "lowrank", "full"}, "laplace", "--structure");
  check_one_of(subnet_by, {"variance", "magnitude"}, "laplace", "--subnet-by");
  CURV_CHECK(subnet_size >= 0, "laplace: expected --subnet-size >= 1, found ", subnet_size);
  CURV_CHECK((weights == "subnet") == (subnet_size > 0), "laplace: --weights subnet goes with ",
             "--subnet-size k >= 1, found --weights ", weights, " and --subnet-size ", subnet_size);
  CURV_CHECK(weights != "subnet" || structure != "kron", "laplace: a subnetwork holds single ",
             "weights, which Kronecker blocks of whole layers cannot: expected --structure full, ",
             "diag or lowrank, found kron");
  check_one_of(curvature, {"ggn", "ef", "fisher"}, "laplace", "--curvature");
  check_one_of(prior, {"scalar", "layer"}, "laplace", "--prior");
  prior_value(prior_precision);
  noise_value(noise);
  check_one_of(linearized_model, {"affine", "jacobian"}, "laplace", "--linearized-model");
  CURV_CHECK(linearized_model == "affine" || linearized_prior(), "laplace: --linearized-model ",
             "is the model of the linearized evidence: expected --prior-precision linearized, ",
             "found ", prior_precision);
  CURV_CHECK(!tuned_prior() || !val.empty(),
             "laplace: --prior-precision val-nll needs --val LIST (labelled examples held out from "
             "--examples), found none");
  CURV_CHECK(rank >= 1 && mc_samples >= 1, "laplace: expected --rank and --mc-samples >= 1, found ",
             rank, " and ", mc_samples);
}

laplace::LaplaceSpec LaplaceFlags::spec(const std::string& checkpoint, double n, index_t batch,
                                        std::uint64_t seed) const {
  laplace::LaplaceSpec s;
  s.weights = weights, s.structure = structure, s.curvature = curvature, s.prior = prior;
  s.subnet_size = subnet_size, s.subnet_by = subnet_by;
  s.prior_precision = prior_value(prior_precision), s.rank = rank, s.mc_samples = mc_samples;
  if (linearized_prior()) s.evidence = "linearized";
  s.linearized_model = linearized_model;
  s.noise = noise_value(noise);
  s.batch = batch, s.seed = seed;
  // The prior implied by training: δ = N·wd for weight decay wd on the mean loss.
  if (const double wd = recorded_weight_decay(checkpoint); wd > 0) s.prior_start = n * wd;
  if (tuned_prior()) s.prior_precision = s.prior_start;  // where the grid's trials start from
  return s;
}

std::vector<double> LaplaceFlags::prior_grid() { return laplace::log_grid(1e-4, 1e4, 41); }

bool is_subnetwork(const std::string& weights) { return weights.rfind("entries:", 0) == 0; }

std::string weights_label(const std::string& weights) {
  if (weights == "last") return "last layer";
  if (weights == "all") return "all weights";
  return is_subnetwork(weights) ? "a subnetwork" : weights;
}

}  // namespace curv::cli
