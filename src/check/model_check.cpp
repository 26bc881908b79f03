// Whole-model checks: J, H and G built column by column on tiny models (see check.hpp).
#include <lapacke.h>

#include <cmath>

#include "curv/check/check.hpp"
#include "curv/nn/objective.hpp"
#include "curv/ops/ops.hpp"
#include "vectors.hpp"

namespace curv::check {
namespace {

using detail::Vec;
constexpr double kStep = 1e-6;

// conv → relu → max-pool → conv → tanh → avg-pool → linear: every image op in one graph.
class TinyCnn final : public Model<double> {
 public:
  TinyCnn() {
    c1_ = add_affine("conv1", Shape{2, 1, 3, 3});
    c2_ = add_affine("conv2", Shape{2, 2, 2, 2});
    fc_ = add_affine("fc", Shape{3, 2});
  }
  std::string name() const override { return "cnn"; }
  std::string config() const override { return "{}"; }
  Shape input_shape() const override { return Shape{1, 6, 6}; }
  index_t outputs() const override { return 3; }
  Value forward(Tape<double>& t, Value x) const override {
    Value h = ops::relu(t, ops::conv2d(t, x, weight(c1_), bias(c1_), 1, 1));  // (N,2,6,6)
    h = ops::max_pool2d(t, h, 2, 2);                                          // (N,2,3,3)
    h = ops::tanh(t, ops::conv2d(t, h, weight(c2_), bias(c2_), 1, 0));        // (N,2,2,2)
    h = ops::flatten(t, ops::avg_pool2d(t, h, 2, 2));                         // (N,2)
    return ops::linear(t, h, weight(fc_), bias(fc_));                         // (N,3)
  }

 private:
  index_t c1_, c2_, fc_;
};

// A value used twice and a residual add: h = tanh(fc1 x), r = h + sigmoid(fc2 h), out = fc3 r.
class Residual final : public Model<double> {
 public:
  Residual() {
    f1_ = add_affine("fc1", Shape{5, 4});
    f2_ = add_affine("fc2", Shape{5, 5});
    f3_ = add_affine("fc3", Shape{4, 5});
  }
  std::string name() const override { return "residual"; }
  std::string config() const override { return "{}"; }
  Shape input_shape() const override { return Shape{4}; }
  index_t outputs() const override { return 4; }
  Value forward(Tape<double>& t, Value x) const override {
    Value h = ops::tanh(t, ops::linear(t, x, weight(f1_), bias(f1_)));
    Value r = ops::add(t, h, ops::sigmoid(t, ops::linear(t, h, weight(f2_), bias(f2_))));
    return ops::linear(t, r, weight(f3_), bias(f3_));
  }

 private:
  index_t f1_, f2_, f3_;
};

struct ModelCase {
  std::unique_ptr<Model<double>> model;
  std::string loss;
  index_t vocab = 0;      // token models: inputs are ids in [0, vocab)
  index_t positions = 1;  // output rows per example
};

ModelCase make_case(const std::string& name) {
  if (name == "mlp-tanh") return {make_mlp<double>({6, 5, 4, 3}, "tanh"), "cross_entropy"};
  if (name == "mlp-relu") return {make_mlp<double>({6, 5, 3}, "relu"), "mse"};
  if (name == "mlp-layernorm")  // LayerNorm after each hidden layer (the mlp's "norm" option)
    return {make_model<double>("mlp", R"({"widths": [6, 5, 4, 3], "activation": "tanh",
                                          "norm": "layer"})"),
            "cross_entropy"};
  if (name == "cnn") return {std::make_unique<TinyCnn>(), "cross_entropy"};
  if (name == "residual") return {std::make_unique<Residual>(), "bce"};
  if (name == "sequential")  // every layer type of a model file (nn/models/sequential.cpp)
    return {make_model<double>("sequential", R"({"input": [1, 6, 6], "layers": [
      {"type": "conv2d", "name": "conv1", "out": 2, "kernel": 3, "padding": 1}, {"type": "relu"},
      {"type": "max_pool2d", "kernel": 2},
      {"type": "conv2d", "name": "conv2", "out": 2, "kernel": 2}, {"type": "gelu"},
      {"type": "avg_pool2d", "kernel": 2}, {"type": "flatten"},
      {"type": "layer_norm", "name": "norm"},
      {"type": "residual", "layers": [{"type": "linear", "name": "inner", "out": 2},
                                      {"type": "tanh"}]},
      {"type": "linear", "name": "fc", "out": 3}, {"type": "sigmoid"},
      {"type": "linear", "name": "out", "out": 3, "bias": false}]})"),
            "cross_entropy"};
  if (name == "sequential-tokens")  // the token layers: one output row per position
    return {make_model<double>("sequential", R"({"input": [3], "layers": [
      {"type": "embedding", "name": "tok", "vocab": 5, "dim": 4},
      {"type": "positional", "name": "pos", "context": 4},
      {"type": "residual", "layers": [{"type": "layer_norm", "name": "ln"},
        {"type": "linear", "name": "qkv", "out": 12}, {"type": "self_attention", "heads": 2},
        {"type": "dropout", "p": 0.5}, {"type": "linear", "name": "proj", "out": 4, "std": 0.5}]},
      {"type": "linear", "name": "kv", "out": 6},
      {"type": "self_attention", "heads": 1, "causal": false}, {"type": "gelu"},
      {"type": "linear", "name": "head", "out": 5}]})"),
            "cross_entropy", 5, 3};
  fail(
      "check: expected a model case (mlp-tanh, mlp-relu, mlp-layernorm, cnn, residual, "
      "sequential, sequential-tokens), found '",
      name, "'");
}

// Column i of a P×P (or M×P) matrix stored row-major as cols[i*rows + r] → transpose helper.
double at(const Vec& m, std::size_t cols, std::size_t r, std::size_t c) { return m[r * cols + c]; }

}  // namespace

std::vector<std::string> model_case_names() {
  return {"mlp-tanh", "mlp-relu",   "mlp-layernorm",    "cnn",
          "residual", "sequential", "sequential-tokens"};
}

std::vector<Row> check_model(const std::string& name, std::uint64_t seed) {
  Rng rng(seed);
  ModelCase mc = make_case(name);
  Model<double>& model = *mc.model;
  auto loss = make_loss<double>(mc.loss);
  Objective<double> obj(model, *loss);
  const std::string subject = "model/" + name;

  const index_t N = 4, C = model.outputs(), D = model.input_shape().numel();
  const index_t R = N * mc.positions;  // output rows
  const std::size_t P = static_cast<std::size_t>(model.params().size()),
                    M = static_cast<std::size_t>(R * C);
  for (index_t i = 0; i < model.params().size(); ++i) model.params().data()[i] = 0.5 * rng.normal();
  Vec x(static_cast<std::size_t>(N * D)), target(M);
  std::vector<std::int64_t> labels(static_cast<std::size_t>(R));
  for (double& v : x) v = mc.vocab ? double(rng.below(std::uint64_t(mc.vocab))) : rng.normal();
  for (double& v : target) v = mc.loss == "bce" ? rng.uniform() : rng.normal();
  for (auto& l : labels) l = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(C)));
  Shape xs = model.input_shape();
  Shape batch{N};
  for (int i = 0; i < xs.rank(); ++i) batch.push_back(xs[i]);
  const Targets<double> tg{labels.data(), View<const double>(target.data(), Shape{R, C})};
  const View<const double> xv(x.data(), batch);
  double* theta = model.params().data();
  const Vec theta0(theta, theta + P);

  auto at_theta = [&](const Vec& th) {
    std::copy(th.begin(), th.end(), theta);
    return obj.set_batch(xv, tg);
  };
  auto grad_at = [&](const Vec& th) {
    at_theta(th);
    Vec g(P);
    obj.gradient(g.data());
    return g;
  };
  auto out_at = [&](const Vec& th) {
    at_theta(th);
    const View<const double> o = obj.output();
    return Vec(o.begin(), o.end());
  };

  // Finite differences along each coordinate, at θ₀.
  Vec g_fd(P), H_fd(P * P), J_fd(M * P);  // H_fd, J_fd: column i stored as row i
  for (std::size_t i = 0; i < P; ++i) {
    Vec tp = theta0, tm = theta0;
    tp[i] += kStep, tm[i] -= kStep;
    g_fd[i] = (at_theta(tp) - at_theta(tm)) / (2 * kStep);
    const Vec gp = grad_at(tp), gm = grad_at(tm), op = out_at(tp), om = out_at(tm);
    for (std::size_t j = 0; j < P; ++j) H_fd[i * P + j] = (gp[j] - gm[j]) / (2 * kStep);
    for (std::size_t j = 0; j < M; ++j) J_fd[i * M + j] = (op[j] - om[j]) / (2 * kStep);
  }

  // Exact quantities at θ₀, on one recording.
  at_theta(theta0);
  Vec g(P), G_rows(static_cast<std::size_t>(N) * P), H(P * P), J(M * P), Gm(P * P);
  obj.gradient(g.data());
  obj.per_example_gradients(G_rows.data());
  for (std::size_t i = 0; i < P; ++i) {
    Vec e(P, 0.0);
    e[i] = 1;
    obj.hvp(e.data(), H.data() + i * P);
    obj.jvp(e.data(), J.data() + i * M);
    obj.ggn_vp(e.data(), Gm.data() + i * P);
  }
  // Dense output Hessian (M×M), and G = Jᵀ H_out J from the dense pieces.
  Vec Hout(M * M);
  for (std::size_t i = 0; i < M; ++i) {
    Vec e(M, 0.0);
    e[i] = 1;
    loss->hvp(e.data(), Hout.data() + i * M);
  }
  Vec G_dense(P * P, 0.0);
  for (std::size_t a = 0; a < P; ++a)
    for (std::size_t b = 0; b < P; ++b) {
      double acc = 0;
      for (std::size_t r = 0; r < M; ++r)
        for (std::size_t s = 0; s < M; ++s)
          acc += at(J, M, a, r) * at(Hout, M, r, s) * at(J, M, b, s);
      G_dense[a * P + b] = acc;
    }

  std::vector<Row> rows;
  auto add = [&](const char* pass, double err, double tol) {
    rows.push_back({subject, pass, err, tol});
  };
  add("gradient", relative_error(g, g_fd), kDerivativeTol);
  add("per_example_mean", relative_error(detail::mean_rows(G_rows, N, P), g), kAdjointTol);
  add("jacobian", relative_error(J, J_fd), kDerivativeTol);
  add("hessian", relative_error(H, H_fd), kDerivativeTol);

  // Products with random vectors against the dense matrices.
  Vec v(P), w(P), u(M);
  for (double& e : v) e = rng.normal();
  for (double& e : w) e = rng.normal();
  for (double& e : u) e = rng.normal();
  auto matvec = [&](const Vec& m, const Vec& vec) {
    Vec r(P, 0.0);
    for (std::size_t i = 0; i < P; ++i)
      for (std::size_t j = 0; j < P; ++j) r[j] += m[i * P + j] * vec[i];  // Σᵢ column i · vᵢ
    return r;
  };
  Vec Hv(P), Gv(P), Hw(P);
  obj.hvp(v.data(), Hv.data());
  obj.hvp(w.data(), Hw.data());
  obj.ggn_vp(v.data(), Gv.data());
  add("hvp_dense", relative_error(Hv, matvec(H, v)), kDenseTol);
  add("ggn_dense", relative_error(Gv, matvec(G_dense, v)), kDenseTol);
  add("ggn_columns", relative_error(Gm, G_dense), kDenseTol);

  double wHv = 0, vHw = 0;
  for (std::size_t i = 0; i < P; ++i) wHv += w[i] * Hv[i], vHw += v[i] * Hw[i];
  add("hessian_symmetric", std::abs(wHv - vHw) / std::max(std::abs(wHv), std::abs(vHw)),
      kAdjointTol);

  // ⟨u, J v⟩ = ⟨Jᵀ u, v⟩
  Vec Jv(M), JTu(P);
  obj.jvp(v.data(), Jv.data());
  obj.vjp(u.data(), JTu.data());
  double uJv = 0, JTuv = 0;
  for (std::size_t i = 0; i < M; ++i) uJv += u[i] * Jv[i];
  for (std::size_t i = 0; i < P; ++i) JTuv += JTu[i] * v[i];
  add("adjoint", std::abs(uJv - JTuv) / std::max(std::abs(uJv), std::abs(JTuv)), kAdjointTol);

  // G is positive semi-definite: its smallest eigenvalue is ≥ −tol · its largest.
  Vec eig(P), Gs = Gm;
  LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'U', int(P), Gs.data(), int(P), eig.data());
  add("ggn_psd", std::max(0.0, -eig.front()) / std::max(eig.back(), 1e-300), kAdjointTol);
  return rows;
}

}  // namespace curv::check
