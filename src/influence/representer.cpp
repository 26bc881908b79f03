#include "curv/influence/representer.hpp"

#include <algorithm>
#include <cmath>

#include "curv/core/error.hpp"
#include "curv/kernels/gemm.hpp"
#include "curv/linalg/linear_solvers.hpp"
#include "curv/linalg/operator.hpp"

namespace curv::influence {

namespace {

// The last layer's inputs âₙ = [aₙ; 1] (n, d), the model's logits (n, C) and the labels.
struct Features {
  std::vector<double> a, z;
  std::vector<index_t> labels;
  index_t n = 0, d = 0, C = 0;
};

template <class T>
Features features_of(const Model<T>& model, const Split<T>& split, const std::vector<index_t>& list,
                     index_t batch) {
  GradientOptions g;
  g.measurement = Measurement::parse("jacobian");
  g.subset = "last", g.batch = batch, g.inputs_for_output_layer = true;
  GradientStream<T> stream(model, split, list, g);
  Features f;
  f.n = index_t(list.size());
  stream.run([&](const GradientBlock<T>& b) {
    CURV_CHECK(b.output_layer_inputs != nullptr,
               "representer: expected a model whose output is a linear layer applied to one row "
               "per example, found ",
               model.name());
    f.d = b.input_size, f.C = b.output_size;
    f.a.insert(f.a.end(), b.output_layer_inputs, b.output_layer_inputs + b.examples * f.d);
    f.z.insert(f.z.end(), b.outputs, b.outputs + b.examples * f.C);
    for (index_t e = 0; e < b.examples; ++e) {
      const index_t i = b.indices[std::size_t(e)];
      const std::int64_t y = split.class_of(i);
      CURV_CHECK(y >= 0 && y < f.C, "representer: expected a class label in 0..", f.C - 1,
                 " for example ", i, " of ", split.name(), ", found ", y);
      f.labels.push_back(index_t(y));
    }
  });
  return f;
}

// softmax(r) of one row of C, in place.
void softmax_row(double* r, index_t C) {
  const double top = *std::max_element(r, r + C);
  double sum = 0;
  for (index_t c = 0; c < C; ++c) sum += (r[c] = std::exp(r[c] - top));
  for (index_t c = 0; c < C; ++c) r[c] /= sum;
}

// Mean cross-entropy and accuracy of logits z (n, C) against the labels.
std::pair<double, double> loss_and_accuracy(const std::vector<double>& z,
                                            const std::vector<index_t>& y, index_t C) {
  const index_t n = index_t(y.size());
  double loss = 0, right = 0;
  for (index_t i = 0; i < n; ++i) {
    const double* r = z.data() + i * C;
    const double top = *std::max_element(r, r + C);
    double sum = 0;
    for (index_t c = 0; c < C; ++c) sum += std::exp(r[c] - top);
    loss += top + std::log(sum) - r[y[std::size_t(i)]];
    right += double(std::max_element(r, r + C) - r == y[std::size_t(i)]);
  }
  return {loss / double(n), right / double(n)};
}

// The fit's logits Z = F Wᵀ (n, C).
std::vector<double> logits(const Features& f, const std::vector<double>& W) {
  std::vector<double> Z(std::size_t(f.n * f.C));
  gemm<double>(Trans::No, Trans::Yes, f.n, f.C, f.d, 1.0, f.a.data(), W.data(), 0.0, Z.data());
  return Z;
}

// ∇²F at W as an operator on (C, d) matrices: (1/N) Σₙ [(diag pₙ − pₙpₙᵀ)(V âₙ)] âₙᵀ + λV.
class FitHessian final : public LinearOperator {
 public:
  FitHessian(const Features& f, const std::vector<double>& p, double lambda)
      : LinearOperator(f.C * f.d), f_(f), p_(p), lambda_(lambda) {}
  std::string name() const override { return "last-layer fit Hessian"; }
  void mv(const double* v, double* out) override {
    const index_t n = f_.n, C = f_.C, d = f_.d;
    std::vector<double> u(std::size_t(n * C));
    gemm<double>(Trans::No, Trans::Yes, n, C, d, 1.0, f_.a.data(), v, 0.0, u.data());
    for (index_t i = 0; i < n; ++i) {
      double* ui = u.data() + i * C;
      const double* pi = p_.data() + i * C;
      double s = 0;
      for (index_t c = 0; c < C; ++c) s += pi[c] * ui[c];
      for (index_t c = 0; c < C; ++c) ui[c] = pi[c] * (ui[c] - s);
    }
    gemm<double>(Trans::Yes, Trans::No, C, d, n, 1.0 / double(n), u.data(), f_.a.data(), 0.0, out);
    for (index_t j = 0; j < C * d; ++j) out[j] += lambda_ * v[j];
  }

 private:
  const Features& f_;
  const std::vector<double>& p_;
  double lambda_;
};

// F(W), and its gradient (1/N)(P − Y)ᵀ F̂ + λW with the probabilities P at W.
double objective(const Features& f, const std::vector<double>& W, double lambda,
                 std::vector<double>* grad, std::vector<double>* probs) {
  std::vector<double> Z = logits(f, W);
  double sq = 0;
  for (double w : W) sq += w * w;
  const double value = loss_and_accuracy(Z, f.labels, f.C).first + 0.5 * lambda * sq;
  if (grad) {
    for (index_t i = 0; i < f.n; ++i) softmax_row(Z.data() + i * f.C, f.C);
    if (probs) *probs = Z;
    for (index_t i = 0; i < f.n; ++i) Z[std::size_t(i * f.C + f.labels[std::size_t(i)])] -= 1;
    grad->assign(W.begin(), W.end());
    gemm<double>(Trans::Yes, Trans::No, f.C, f.d, f.n, 1.0 / double(f.n), Z.data(), f.a.data(),
                 lambda, grad->data());
  }
  return value;
}

double norm(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x * x;
  return std::sqrt(s);
}

// W* by Newton's method from W = 0 (F is strictly convex: the start does not matter).
std::vector<double> fit_last_layer(const Features& f, const RepresenterOptions& o,
                                   RepresenterFit& r) {
  std::vector<double> W(std::size_t(f.C * f.d), 0.0), g, p, trial;
  double value = objective(f, W, o.lambda, &g, &p);
  for (r.steps = 0; r.steps < o.max_steps && norm(g) > o.gradient_tolerance; ++r.steps) {
    FitHessian H(f, p, o.lambda);
    std::vector<double> minus_g(g.size());
    for (std::size_t j = 0; j < g.size(); ++j) minus_g[j] = -g[j];
    linalg::CgOptions c;
    c.tolerance = 1e-12, c.max_iterations = 10 * H.size();
    const auto step = linalg::cg(H, minus_g, c);
    r.products += step.iterations + 1;
    double slope = 0;  // gᵀs < 0
    for (std::size_t j = 0; j < g.size(); ++j) slope += g[j] * step.x[j];
    // Backtracking on F, until the predicted decrease is below what float64 resolves in F:
    // then the full step is Newton's quadratic phase and only ‖∇F‖ is judged.
    const bool resolvable = -slope > 1e-13 * std::abs(value);
    double t = 1;
    for (int halvings = 0;; ++halvings) {
      trial = W;
      for (std::size_t j = 0; j < W.size(); ++j) trial[j] += t * step.x[j];
      const double v = objective(f, trial, o.lambda, nullptr, nullptr);
      if (!resolvable || v <= value + 1e-4 * t * slope || halvings == 40) break;
      t *= 0.5;
    }
    W.swap(trial);
    value = objective(f, W, o.lambda, &g, &p);
  }
  r.gradient_norm = norm(g);
  CURV_CHECK(r.gradient_norm <= o.gradient_tolerance,
             "representer: the last-layer fit stopped at ‖∇F‖ = ", r.gradient_norm, " after ",
             r.steps, " Newton steps, above ", o.gradient_tolerance);
  return W;
}

// ∂m/∂z at the fit's logits for each row: the loss's p − e_y, or the margin's e_y − the softmax
// over the other classes.
std::vector<double> output_gradients(const Features& f, const std::vector<double>& W,
                                     const Measurement& m) {
  std::vector<double> Z = logits(f, W);
  const index_t C = f.C;
  for (index_t i = 0; i < f.n; ++i) {
    double* r = Z.data() + i * C;
    const index_t y = f.labels[std::size_t(i)];
    if (m.kind == Measurement::Kind::Loss) {
      softmax_row(r, C);
      r[y] -= 1;
    } else {
      double top = -INFINITY, sum = 0;
      for (index_t c = 0; c < C; ++c)
        if (c != y) top = std::max(top, r[c]);
      for (index_t c = 0; c < C; ++c)
        if (c != y) sum += (r[c] = std::exp(r[c] - top));
      for (index_t c = 0; c < C; ++c) r[c] = c == y ? 1.0 : -r[c] / sum;
    }
  }
  return Z;
}

template <class T>
std::pair<Features, std::vector<double>> fitted(const Model<T>& model, const Split<T>& split,
                                                const std::vector<index_t>& train,
                                                const RepresenterOptions& o,
                                                RepresenterFit* report) {
  CURV_CHECK(o.lambda > 0,
             "representer: expected the last-layer fit's λ > 0 (weight decay + --damping), "
             "found ",
             o.lambda);
  CURV_CHECK(model.loss() == "cross_entropy",
             "representer: expected a classifier trained with the cross-entropy, found loss '",
             model.loss(), "'");
  CURV_CHECK(o.query.kind == Measurement::Kind::Loss || o.query.kind == Measurement::Kind::Margin,
             "representer: expected the loss or the margin as the queries' scalar, found ",
             o.query.name());
  Features f = features_of(model, split, train, o.batch);
  RepresenterFit r;
  std::vector<double> W = fit_last_layer(f, o, r);
  std::tie(r.model_loss, r.model_accuracy) = loss_and_accuracy(f.z, f.labels, f.C);
  std::tie(r.fit_loss, r.fit_accuracy) = loss_and_accuracy(logits(f, W), f.labels, f.C);
  r.classes = f.C, r.features = f.d, r.weights = W;
  if (report) *report = std::move(r);
  return {std::move(f), std::move(W)};
}

}  // namespace

template <class T>
std::vector<double> representer_scores(const Model<T>& model, const Split<T>& train_split,
                                       const std::vector<index_t>& train,
                                       const Split<T>& query_split,
                                       const std::vector<index_t>& queries,
                                       const RepresenterOptions& o, RepresenterFit* report) {
  const auto [f, W] = fitted(model, train_split, train, o, report);
  const Features q = features_of(model, query_split, queries, o.batch);
  const std::vector<double> g = output_gradients(f, W, Measurement::parse("loss"));
  const std::vector<double> gq = output_gradients(q, W, o.query);
  const index_t Q = q.n, N = f.n;
  // s = (1/λ) (G' Gᵀ) ∘ (Â' Âᵀ), both (Q, N).
  std::vector<double> S(std::size_t(Q * N)), K(std::size_t(Q * N));
  gemm<double>(Trans::No, Trans::Yes, Q, N, f.C, 1.0 / o.lambda, gq.data(), g.data(), 0.0,
               S.data());
  gemm<double>(Trans::No, Trans::Yes, Q, N, f.d, 1.0, q.a.data(), f.a.data(), 0.0, K.data());
  for (std::size_t i = 0; i < S.size(); ++i) S[i] *= K[i];
  return S;
}

template <class T>
std::vector<double> representer_self_scores(const Model<T>& model, const Split<T>& split,
                                            const std::vector<index_t>& train,
                                            const RepresenterOptions& o, RepresenterFit* report) {
  CURV_CHECK(o.query.kind == Measurement::Kind::Loss,
             "representer: self-influence scores the training loss on both sides: expected the "
             "loss, found ",
             o.query.name());
  const auto [f, W] = fitted(model, split, train, o, report);
  const std::vector<double> g = output_gradients(f, W, Measurement::parse("loss"));
  std::vector<double> s(std::size_t(f.n));
  for (index_t n = 0; n < f.n; ++n) {
    double gg = 0, aa = 0;
    for (index_t c = 0; c < f.C; ++c)
      gg += g[std::size_t(n * f.C + c)] * g[std::size_t(n * f.C + c)];
    for (index_t j = 0; j < f.d; ++j)
      aa += f.a[std::size_t(n * f.d + j)] * f.a[std::size_t(n * f.d + j)];
    s[std::size_t(n)] = gg * aa / o.lambda;
  }
  return s;
}

template std::vector<double> representer_scores(const Model<float>&, const Split<float>&,
                                                const std::vector<index_t>&, const Split<float>&,
                                                const std::vector<index_t>&,
                                                const RepresenterOptions&, RepresenterFit*);
template std::vector<double> representer_scores(const Model<double>&, const Split<double>&,
                                                const std::vector<index_t>&, const Split<double>&,
                                                const std::vector<index_t>&,
                                                const RepresenterOptions&, RepresenterFit*);
template std::vector<double> representer_self_scores(const Model<float>&, const Split<float>&,
                                                     const std::vector<index_t>&,
                                                     const RepresenterOptions&, RepresenterFit*);
template std::vector<double> representer_self_scores(const Model<double>&, const Split<double>&,
                                                     const std::vector<index_t>&,
                                                     const RepresenterOptions&, RepresenterFit*);

}  // namespace curv::influence
