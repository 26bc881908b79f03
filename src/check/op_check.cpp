// The four-pass checks of one op (see check.hpp). Every quantity is handled as a function of
// one flat point z = [x₁, …, x_k, θ], so one finite-difference helper serves all inputs and
// parameters alike.
#include <algorithm>
#include <cmath>
#include <limits>

#include "curv/check/check.hpp"
#include "curv/nn/params.hpp"
#include "vectors.hpp"

namespace curv::check {
namespace {

using detail::dot;
using detail::Vec;

Vec random_vec(Rng& rng, std::size_t n) {
  Vec v(n);
  for (double& x : v) x = rng.normal();
  return v;
}

// Records an op case at a point z and runs its passes.
class Runner {
 public:
  Runner(const OpCase& c, Rng& rng) : c_(c) {
    for (std::size_t i = 0; i < c.params.size(); ++i) ps_.add("p" + std::to_string(i), c.params[i]);
    for (const Shape& s : c.inputs) in_size_ += s.numel();
    index_t nc = 0;
    for (const Shape& s : c.constants) nc += s.numel();
    constants_.resize(static_cast<std::size_t>(nc));
    if (c.sample_constants) c.sample_constants(rng, constants_);
  }
  std::size_t size() const { return static_cast<std::size_t>(in_size_ + ps_.size()); }
  index_t param_size() const { return ps_.size(); }
  index_t input_size() const { return in_size_; }

  Vec eval(const Vec& z) {
    record(z);
    const View<double> y = tape_.value(out_);
    return Vec(y.begin(), y.end());
  }

  // [x̄₁, …, x̄_k, θ̄] for the cotangent u. `prefill` (same layout) is what the gradient buffers
  // hold before the sweep, so accumulation can be checked; `poison` fills adjoints that are not
  // yet written with +inf, so an op that assigns a fresh adjoint only partly shows up.
  Vec vjp(const Vec& z, const Vec& u, const Vec* prefill = nullptr, bool poison = false) {
    record(z);
    View<double> seed = tape_.seed(out_, Bank::Grad);
    std::copy(u.begin(), u.end(), seed.data);
    Vec g(size(), 0.0);
    if (prefill) {
      g = *prefill;
      scatter_inputs(*prefill,
                     [&](std::size_t i) { return tape_.preset_adjoint(in_[i], Bank::Grad); });
    }
    if (poison) tape_.poison_fresh(Bank::Grad, std::numeric_limits<double>::infinity());
    tape_.reverse(Bank::Grad, ParamGrad<double>::sum(g.data() + in_size_));
    gather_inputs(g, [&](std::size_t i) { return tape_.adjoint(in_[i], Bank::Grad); });
    return g;
  }

  // Per-example parameter gradients summed over examples (must equal vjp's θ̄).
  Vec per_example_sum(const Vec& z, const Vec& u) {
    record(z);
    View<double> seed = tape_.seed(out_, Bank::Grad);
    std::copy(u.begin(), u.end(), seed.data);
    const index_t N = tape_.examples(), P = ps_.size();
    Vec G(static_cast<std::size_t>(N * P), 0.0);
    tape_.reverse(Bank::Grad, ParamGrad<double>::per_example(G.data(), P));
    Vec s(static_cast<std::size_t>(P), 0.0);
    for (index_t n = 0; n < N; ++n)
      for (index_t p = 0; p < P; ++p)
        s[static_cast<std::size_t>(p)] += G[static_cast<std::size_t>(n * P + p)];
    return s;
  }

  // ẏ for the tangent ż. With `poison`, the output tangent buffer is filled with +inf before a
  // second sweep, so an entry the op forgets to assign shows up.
  Vec jvp(const Vec& z, const Vec& zdot, bool poison = false) {
    record(z);
    set_input_tangents(zdot);
    const double* theta_dot = zdot.data() + in_size_;
    tape_.tangents(theta_dot);
    if (poison) {
      View<double> t = tape_.tangent(out_);
      std::fill(t.begin(), t.end(), std::numeric_limits<double>::infinity());
      tape_.tangents(theta_dot);
    }
    const View<double> t = tape_.tangent(out_);
    return Vec(t.begin(), t.end());
  }

  // [R{x̄₁}, …, R{θ̄}] for cotangent u, its R-derivative udot, and the tangent ż.
  Vec vjp_rop(const Vec& z, const Vec& zdot, const Vec& u, const Vec& udot, bool poison = false) {
    record(z);
    View<double> seed = tape_.seed(out_, Bank::Grad);
    std::copy(u.begin(), u.end(), seed.data);
    tape_.reverse(Bank::Grad, ParamGrad<double>::none());
    set_input_tangents(zdot);
    const double* theta_dot = zdot.data() + in_size_;
    tape_.tangents(theta_dot);
    View<double> rseed = tape_.seed_rop(out_);
    std::copy(udot.begin(), udot.end(), rseed.data);
    if (poison) tape_.poison_fresh_radjoints(std::numeric_limits<double>::infinity());
    Vec r(size(), 0.0);
    tape_.reverse_rop(theta_dot, r.data() + in_size_);
    gather_inputs(r, [&](std::size_t i) { return tape_.radjoint(in_[i]); });
    return r;
  }

  // Parameters the op reads that no node of its recording names in parameter_offsets(): a sweep
  // over them alone would stop above the op and miss them.
  index_t unreported_parameters() {
    eval(Vec(size(), 0.0));
    std::vector<index_t> named;
    for (std::size_t i = 0; i < tape_.size(); ++i)
      for (index_t o : tape_.node(i).parameter_offsets()) named.push_back(o);
    index_t missing = 0;
    for (index_t i = 0; i < ps_.count(); ++i)
      missing += std::find(named.begin(), named.end(), ps_.ref(i).offset) == named.end();
    return missing;
  }

  index_t out_size() {
    if (!out_.valid()) eval(Vec(size(), 0.0));
    return tape_.shape(out_).numel();
  }

 private:
  void record(const Vec& z) {
    tape_.clear();
    std::copy(z.begin() + in_size_, z.end(), ps_.data());
    x_.assign(z.begin(), z.begin() + in_size_);
    in_.clear();
    index_t off = 0;
    for (const Shape& s : c_.inputs) {
      in_.push_back(tape_.input(View<const double>(x_.data() + off, s), true));
      off += s.numel();
    }
    std::vector<Value> all = in_;
    off = 0;
    for (const Shape& s : c_.constants) {
      all.push_back(tape_.input(View<const double>(constants_.data() + off, s), false));
      off += s.numel();
    }
    std::vector<ParamRef<double>> refs;
    for (index_t i = 0; i < ps_.count(); ++i) refs.push_back(ps_.ref(i));
    out_ = c_.build(tape_, all, refs);
  }
  void set_input_tangents(const Vec& zdot) {
    scatter_inputs(zdot, [&](std::size_t i) { return tape_.input_tangent(in_[i]); });
  }
  template <class F>
  void scatter_inputs(const Vec& z, F slot) {
    index_t off = 0;
    for (std::size_t i = 0; i < in_.size(); ++i) {
      View<double> s = slot(i);
      std::copy(z.begin() + off, z.begin() + off + s.numel(), s.data);
      off += s.numel();
    }
  }
  template <class F>
  void gather_inputs(Vec& z, F slot) {
    index_t off = 0;
    for (std::size_t i = 0; i < in_.size(); ++i) {
      const View<double> s = slot(i);
      std::copy(s.begin(), s.end(), z.begin() + off);
      off += s.numel();
    }
  }

  const OpCase& c_;
  ParamStore<double> ps_;
  Tape<double> tape_;
  Vec x_, constants_;
  std::vector<Value> in_;
  Value out_;
  index_t in_size_ = 0;
};

constexpr double kStep = 1e-6;

// (f(z + h d) − f(z − h d)) / 2h
template <class F>
Vec central_difference(F&& f, const Vec& z, const Vec& d) {
  Vec zp = z, zm = z;
  for (std::size_t i = 0; i < z.size(); ++i) zp[i] += kStep * d[i], zm[i] -= kStep * d[i];
  Vec a = f(zp), b = f(zm);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = (a[i] - b[i]) / (2 * kStep);
  return a;
}

}  // namespace

std::vector<Row> check_op(const OpCase& c, std::uint64_t seed) {
  Rng rng(seed);
  Runner run(c, rng);
  const std::size_t nz = run.size();
  Vec z(nz);
  {  // inputs from the case's sampler (away from kinks), parameters N(0,1)
    Vec x(static_cast<std::size_t>(run.input_size()));
    if (c.sample)
      c.sample(rng, x);
    else
      for (double& v : x) v = rng.normal();
    std::copy(x.begin(), x.end(), z.begin());
    for (std::size_t i = x.size(); i < nz; ++i) z[i] = rng.normal();
  }
  const std::size_t ny = static_cast<std::size_t>(run.out_size());
  const Vec u = random_vec(rng, ny), udot = random_vec(rng, ny), zdot = random_vec(rng, nz);
  std::vector<Row> rows;
  auto add = [&](const char* pass, double err, double tol) {
    rows.push_back({c.name, pass, err, tol});
  };

  // vjp: every coordinate of ⟨u, y(z)⟩ by central differences.
  const Vec g = run.vjp(z, u);
  Vec g_fd(nz);
  for (std::size_t i = 0; i < nz; ++i) {
    Vec e(nz, 0.0);
    e[i] = 1;
    g_fd[i] = central_difference([&](const Vec& p) { return Vec{dot(u, run.eval(p))}; }, z, e)[0];
  }
  add("vjp", relative_error(g, g_fd), kDerivativeTol);

  // jvp: ẏ against the directional difference of y.
  const Vec ydot = run.jvp(z, zdot);
  add("jvp",
      relative_error(ydot, central_difference([&](const Vec& p) { return run.eval(p); }, z, zdot)),
      kDerivativeTol);

  // ⟨u, J ż⟩ = ⟨Jᵀu, ż⟩
  const double lhs = dot(u, ydot), rhs = dot(g, zdot);
  add("adjoint", std::abs(lhs - rhs) / std::max({std::abs(lhs), std::abs(rhs), 1e-300}),
      kAdjointTol);

  // vjp_rop: the derivative of the vjp along (ż, u̇).
  const Vec r = run.vjp_rop(z, zdot, u, udot);
  Vec zu(nz + ny), zu_dot(nz + ny);  // differentiate vjp as a function of (z, u) jointly
  std::copy(z.begin(), z.end(), zu.begin());
  std::copy(u.begin(), u.end(), zu.begin() + static_cast<std::ptrdiff_t>(nz));
  std::copy(zdot.begin(), zdot.end(), zu_dot.begin());
  std::copy(udot.begin(), udot.end(), zu_dot.begin() + static_cast<std::ptrdiff_t>(nz));
  const Vec r_fd = central_difference(
      [&](const Vec& p) {
        return run.vjp(Vec(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(nz)),
                       Vec(p.begin() + static_cast<std::ptrdiff_t>(nz), p.end()));
      },
      zu, zu_dot);
  add("vjp_rop", relative_error(r, r_fd), kDerivativeTol);

  // Gradients accumulate: buffers holding c end up holding c + vjp.
  const Vec c0 = random_vec(rng, nz);
  Vec acc = run.vjp(z, u, &c0);
  for (std::size_t i = 0; i < nz; ++i) acc[i] -= c0[i];
  add("accumulate", relative_error(acc, g), kAdjointTol);

  // Tangents, and adjoints an op is first to write, are assigned: buffers pre-filled with +inf
  // are fully overwritten.
  add("assign", relative_error(run.jvp(z, zdot, true), ydot), kAdjointTol);
  add("vjp_fresh", relative_error(run.vjp(z, u, nullptr, true), g), kAdjointTol);
  add("vjp_rop_fresh", relative_error(run.vjp_rop(z, zdot, u, udot, true), r), kAdjointTol);

  if (run.param_size() > 0) {
    const Vec pe = run.per_example_sum(z, u);
    add("per_example", relative_error(pe, Vec(g.begin() + run.input_size(), g.end())), kAdjointTol);
    add("params_named", double(run.unreported_parameters()), 0);  // a count: 0 expected
  }
  return rows;
}

}  // namespace curv::check
