// Derivative checks in float64, for every op, loss and small model: the math behind `curv check`
// and the test suite. Each check returns rows (subject, pass, error, tolerance); errors are
// relative: max|a − b| / max(max|a|, max|b|).
//
//   op passes     vjp vs central differences of ⟨u, y⟩ (every input and parameter coordinate);
//                 jvp vs central differences along (ẋ, θ̇); the adjoint identity ⟨u,Jv⟩ = ⟨Jᵀu,v⟩;
//                 vjp_rop vs central differences of the vjp; accumulate (+=) semantics of
//                 gradients; assignment of every tangent entry and of adjoints an op is first
//                 to write (buffers pre-filled with +inf, dlib's trick);
//                 per-example parameter gradients summing to the batch's.
//   losses        gradient and output Hessian vs differences; square-root factors vs the Hessian;
//                 the sampled factor's mean vs the Hessian.
//   models        gradient vs differences; J and H built column by column vs differences; H·v and
//                 G·v vs those dense matrices; H symmetric; G positive semi-definite; mean of
//                 per-example gradients vs the batch gradient.
// Inputs are drawn away from relu and max-pool kinks, so differences never straddle one.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "curv/autodiff/tape.hpp"
#include "curv/core/rng.hpp"

namespace curv::check {

struct Row {
  std::string subject;  // "linear", "loss/cross_entropy", "model/mlp-tanh"
  std::string pass;     // "vjp", "jvp", …
  double error = 0;
  double tolerance = 0;
  bool ok() const { return error <= tolerance; }  // NaN fails
};

// The tolerances the issue sets for float64.
inline constexpr double kDerivativeTol = 1e-6;  // against finite differences
inline constexpr double kAdjointTol = 1e-10;  // ⟨u,Jv⟩ = ⟨Jᵀu,v⟩ and other exact identities
inline constexpr double kDenseTol = 1e-8;     // products against dense matrices

// One op under test: the shapes of its (differentiable) inputs and parameters, and how to
// record it. `sample` draws inputs (default N(0,1)); ops with kinks draw away from them.
struct OpCase {
  std::string name;
  std::vector<Shape> inputs;
  std::vector<Shape> params;
  std::function<Value(Tape<double>&, const std::vector<Value>&,
                      const std::vector<ParamRef<double>>&)>
      build;
  std::function<void(Rng&, std::vector<double>&)> sample;
  // Inputs that are data, not differentiated (e.g. token ids), passed to build after the
  // differentiable ones, drawn once by sample_constants.
  std::vector<Shape> constants = {};
  std::function<void(Rng&, std::vector<double>&)> sample_constants = {};
};

// Every op of the library, each with a small instance.
const std::vector<OpCase>& op_cases();
const OpCase& op_case(const std::string& name);

std::vector<Row> check_op(const OpCase& c, std::uint64_t seed = 1);
// The three losses, each also weighted per example and as a Bregman divergence
// (loss/adapted.hpp): "cross_entropy", "weighted:cross_entropy", "bregman:cross_entropy", ….
std::vector<std::string> loss_case_names();
std::vector<Row> check_loss(const std::string& loss, std::uint64_t seed = 1);
// "mlp-tanh" (cross-entropy), "mlp-relu" (mse), "cnn" (conv, relu, max-pool, avg-pool;
// cross-entropy), "residual" (shared input and a residual add; bce), "sequential" (a model file
// with every layer type; cross-entropy).
std::vector<std::string> model_case_names();
std::vector<Row> check_model(const std::string& name, std::uint64_t seed = 1);

// The full-size models "mlp" and "lenet5", along random directions: gradient and H·v against
// differences, G·v against Jᵀ H_out J v, G symmetric and positive, per-example mean.
std::vector<Row> check_model_directional(const std::string& name, std::uint64_t seed = 1);

// Everything above.
std::vector<Row> check_all(std::uint64_t seed = 1);

// A table of rows: subject, pass, error, tolerance, ok/FAIL.
void print_table(std::ostream& out, const std::vector<Row>& rows);

// max|a − b| / max(max|a|, max|b|); 0 when both are zero.
double relative_error(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace curv::check
