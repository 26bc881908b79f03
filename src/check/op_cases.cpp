// One small instance of every op, for `curv check` and the test suite. Adding an op: add a
// line here (its shapes and how to record it).
#include <algorithm>
#include <numeric>

#include "curv/check/check.hpp"
#include "curv/ops/ops.hpp"

namespace curv::check {
namespace {

using Ins = std::vector<Value>;
using Ps = std::vector<ParamRef<double>>;
using T = Tape<double>;

// |x| ≥ 0.1: central differences never cross relu's kink at 0.
void away_from_zero(Rng& rng, std::vector<double>& x) {
  for (double& v : x) {
    const double m = 0.1 + std::abs(rng.normal());
    v = rng.uniform() < 0.5 ? -m : m;
  }
}

// Distinct values at least 0.05 apart: every pooling window has a clear maximum.
void distinct(Rng& rng, std::vector<double>& x) {
  std::vector<std::size_t> order(x.size());
  std::iota(order.begin(), order.end(), 0);
  for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  for (std::size_t i = 0; i < x.size(); ++i)
    x[order[i]] = 0.05 * double(i) - 0.025 * double(x.size());
}

// Scratch running statistics for batch_norm in train mode (their values do not enter y).
View<double> running(index_t channels) {
  static double buf[2][8];
  static int k = 0;
  k ^= 1;
  std::fill(buf[k], buf[k] + 8, 1.0);
  return View<double>(buf[k], Shape{channels});
}

// Token ids in [0, 4), with a repeat so that two rows share an embedding.
void token_ids(Rng& rng, std::vector<double>& x) {
  for (double& v : x) v = double(rng.below(4));
  if (x.size() > 1) x[1] = x[0];
}

std::vector<OpCase> make_cases() {
  return {
      {"linear",
       {{3, 4}},
       {{5, 4}, {5}},
       [](T& t, const Ins& x, const Ps& p) { return ops::linear(t, x[0], p[0], p[1]); },
       {}},
      {"linear/no-bias",
       {{3, 4}},
       {{5, 4}},
       [](T& t, const Ins& x, const Ps& p) {
         return ops::linear(t, x[0], p[0], ParamRef<double>{});
       },
       {}},
      {"linear/tokens",
       {{2, 3, 4}},
       {{5, 4}, {5}},
       [](T& t, const Ins& x, const Ps& p) { return ops::linear(t, x[0], p[0], p[1]); },
       {}},
      {"conv2d",
       {{2, 2, 5, 5}},
       {{3, 2, 3, 3}, {3}},
       [](T& t, const Ins& x, const Ps& p) { return ops::conv2d(t, x[0], p[0], p[1], 1, 1); },
       {}},
      // Large enough that its patches exceed one im2col chunk (about 64k entries): one image per
      // chunk, three chunks, so every pass sums parameter gradients across chunks.
      {"conv2d/chunks",
       {{3, 4, 31, 31}},
       {{2, 4, 3, 3}, {2}},
       [](T& t, const Ins& x, const Ps& p) { return ops::conv2d(t, x[0], p[0], p[1], 1, 1); },
       {}},
      {"conv2d/stride2",
       {{2, 2, 6, 6}},
       {{3, 2, 3, 3}, {3}},
       [](T& t, const Ins& x, const Ps& p) { return ops::conv2d(t, x[0], p[0], p[1], 2, 1); },
       {}},
      {"conv2d/no-bias",
       {{2, 3, 4, 4}},
       {{2, 3, 2, 2}},
       [](T& t, const Ins& x, const Ps& p) {
         return ops::conv2d(t, x[0], p[0], ParamRef<double>{}, 1, 0);
       },
       {}},
      {"max_pool2d",
       {{2, 2, 4, 4}},
       {},
       [](T& t, const Ins& x, const Ps&) { return ops::max_pool2d(t, x[0], 2, 2); },
       distinct},
      {"max_pool2d/overlap",
       {{1, 2, 5, 5}},
       {},
       [](T& t, const Ins& x, const Ps&) { return ops::max_pool2d(t, x[0], 3, 2); },
       distinct},
      {"max_pool2d/padded",
       {{1, 2, 6, 6}},
       {},
       [](T& t, const Ins& x, const Ps&) { return ops::max_pool2d(t, x[0], 3, 2, 1); },
       distinct},
      {"avg_pool2d",
       {{2, 2, 4, 4}},
       {},
       [](T& t, const Ins& x, const Ps&) { return ops::avg_pool2d(t, x[0], 2, 2); },
       {}},
      {"relu",
       {{3, 5}},
       {},
       [](T& t, const Ins& x, const Ps&) { return ops::relu(t, x[0]); },
       away_from_zero},
      {"tanh", {{3, 5}}, {}, [](T& t, const Ins& x, const Ps&) { return ops::tanh(t, x[0]); }, {}},
      {"sigmoid",
       {{3, 5}},
       {},
       [](T& t, const Ins& x, const Ps&) { return ops::sigmoid(t, x[0]); },
       {}},
      {"gelu", {{3, 5}}, {}, [](T& t, const Ins& x, const Ps&) { return ops::gelu(t, x[0]); }, {}},
      {"softmax",
       {{3, 5}},
       {},
       [](T& t, const Ins& x, const Ps&) { return ops::softmax(t, x[0]); },
       {}},
      {"log_softmax",
       {{3, 5}},
       {},
       [](T& t, const Ins& x, const Ps&) { return ops::log_softmax(t, x[0]); },
       {}},
      {"add",
       {{3, 4}, {3, 4}},
       {},
       [](T& t, const Ins& x, const Ps&) { return ops::add(t, x[0], x[1]); },
       {}},
      {"add/shared-input",
       {{3, 4}},
       {},
       [](T& t, const Ins& x, const Ps&) { return ops::add(t, x[0], ops::tanh(t, x[0])); },
       {}},
      {"reshape",
       {{2, 3, 4}},
       {},
       [](T& t, const Ins& x, const Ps&) {
         return ops::tanh(t, ops::reshape(t, x[0], Shape{2, 12}));
       },
       {}},
      {"flatten",
       {{2, 2, 2, 3}},
       {},
       [](T& t, const Ins& x, const Ps&) { return ops::sigmoid(t, ops::flatten(t, x[0])); },
       {}},
      {"layer_norm",
       {{2, 3, 5}},
       {{5}, {5}},
       [](T& t, const Ins& x, const Ps& p) { return ops::layer_norm(t, x[0], p[0], p[1]); },
       {}},
      {"embedding",
       {},
       {{4, 3}},
       [](T& t, const Ins& x, const Ps& p) { return ops::embedding(t, x[0], p[0]); },
       {},
       {{2, 3}},
       token_ids},
      {"positional",
       {{2, 3, 4}},
       {{5, 4}},
       [](T& t, const Ins& x, const Ps& p) { return ops::positional(t, x[0], p[0]); },
       {}},
      {"self_attention",
       {{2, 3, 12}},
       {},
       [](T& t, const Ins& x, const Ps&) { return ops::self_attention(t, x[0], 2, false); },
       {}},
      {"self_attention/causal",
       {{2, 4, 12}},
       {},
       [](T& t, const Ins& x, const Ps&) { return ops::self_attention(t, x[0], 2, true); },
       {}},
      {"dropout",
       {{3, 5}},
       {},
       [](T& t, const Ins& x, const Ps&) {
         Rng mask(11);  // the same mask at every recording
         return ops::tanh(t, ops::dropout(t, x[0], 0.4, mask));
       },
       {}},
      {"batch_norm/train",
       {{3, 2, 2, 2}},
       {{2}, {2}},
       [](T& t, const Ins& x, const Ps& p) {
         return ops::batch_norm(t, x[0], p[0], p[1], running(2), running(2), true);
       },
       {}},
      {"batch_norm/train-2d",
       {{4, 3}},
       {{3}, {3}},
       [](T& t, const Ins& x, const Ps& p) {
         return ops::batch_norm(t, x[0], p[0], p[1], running(3), running(3), true);
       },
       {}},
      {"batch_norm/eval",
       {{3, 2, 2, 2}},
       {{2}, {2}},
       [](T& t, const Ins& x, const Ps& p) {
         static double mean[2] = {0.3, -0.2}, var[2] = {1.5, 0.7};
         return ops::batch_norm(t, x[0], p[0], p[1], View<double>(mean, Shape{2}),
                                View<double>(var, Shape{2}), false);
       },
       {}},
      {"slice_tokens",
       {{2, 5, 3}},
       {},
       [](T& t, const Ins& x, const Ps&) { return ops::slice_tokens(t, x[0], 1, 4); },
       {}},
      {"cross_attention",
       {{2, 3, 4}, {2, 5, 8}},
       {},
       [](T& t, const Ins& x, const Ps&) { return ops::cross_attention(t, x[0], x[1], 2); },
       {}},
  };
}

}  // namespace

const std::vector<OpCase>& op_cases() {
  static const std::vector<OpCase> cases = make_cases();
  return cases;
}

const OpCase& op_case(const std::string& name) {
  for (const OpCase& c : op_cases())
    if (c.name == name) return c;
  fail("check: expected a known op case, found '", name, "'");
}

}  // namespace curv::check
