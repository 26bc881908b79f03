// LARS and LAMB: their updates against hand computations in float64 (per-tensor trust ratios,
// the exclusion of one-dimensional tensors, weight decay, momentum and bias correction), their
// state and masks, the registry, and bad settings.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "curv/optim/registry.hpp"
#include "support/errors.hpp"

using namespace curv;
using curv::testing::error_of;

namespace {

// A 2×3 weight and a bias of 3: one tensor that takes the trust ratio, one that is excluded.
struct Layer {
  ParamStore<double> ps;
  Layer() {
    ps.add("fc.weight", Shape{2, 3});
    ps.add("fc.bias", Shape{3});
    const double init[9] = {0.5, -1.0, 2.0, 1.5, 0.25, -0.75, 0.3, -0.2, 0.1};
    std::copy(init, init + 9, ps.data());
  }
};

// ∇L = a∘θ + c: the weight's gradient is large against its norm and the bias's small, so the two
// tensors get very different trust ratios.
void gradient_at(const double* theta, double* g) {
  const double a[9] = {2.0, 1.0, 3.0, -1.0, 4.0, 0.5, 0.2, 0.1, 0.3};
  const double c[9] = {1.0, -2.0, 0.5, 3.0, -1.5, 2.5, 0.05, -0.02, 0.01};
  for (int i = 0; i < 9; ++i) g[i] = a[i] * theta[i] + c[i];
}

// The tensors' slices of the flat vector: [offset, offset + size), and one-dimensional or not.
struct Slice {
  int offset, size;
  bool one_d;
};
const Slice kSlices[2] = {{0, 6, false}, {6, 3, true}};

double norm(const double* x, int n) {
  double s = 0;
  for (int i = 0; i < n; ++i) s += x[i] * x[i];
  return std::sqrt(s);
}

void check_equal(const ParamStore<double>& ps, const std::vector<double>& expected) {
  for (int i = 0; i < 9; ++i) {
    CAPTURE(i);
    CHECK(ps.data()[i] == doctest::Approx(expected[std::size_t(i)]).epsilon(1e-12));
  }
}

}  // namespace

TEST_CASE("lars: one step by hand on a weight and a bias") {
  // W = [3, 4], ∇W = [0.6, 0.8]: ‖W‖ = 5, ‖∇W‖ = 1, so with η = 0.1 and wd = 0.2
  // ρ = 0.1·5 / (1 + 0.2·5) = 0.25 and d = ∇W + 0.2W = [1.2, 1.6]: W ← W − 0.25·d = [2.7, 3.6].
  // b = [1, −1], ∇b = [0.5, 0.5], excluded: b ← b − ∇b. Taking the ratio instead:
  // ρ = 0.1·√2 / (√½ + 0.2·√2) = 1/7 and d = [0.7, 0.3].
  for (bool exclude : {true, false}) {
    CAPTURE(exclude);
    ParamStore<double> ps;
    ps.add("w", Shape{1, 2}), ps.add("b", Shape{2});
    const double theta[4] = {3, 4, 1, -1}, grad[4] = {0.6, 0.8, 0.5, 0.5};
    std::copy(theta, theta + 4, ps.data()), std::copy(grad, grad + 4, ps.grad());
    make_lars<double>(1.0, 0.9, 0.2, 0.1, exclude)->step(ps);
    CHECK(ps.data()[0] == doctest::Approx(2.7).epsilon(1e-14));
    CHECK(ps.data()[1] == doctest::Approx(3.6).epsilon(1e-14));
    CHECK(ps.data()[2] == doctest::Approx(exclude ? 0.5 : 1 - 0.7 / 7).epsilon(1e-14));
    CHECK(ps.data()[3] == doctest::Approx(exclude ? -1.5 : -1 - 0.3 / 7).epsilon(1e-14));
  }
}

TEST_CASE("lars: two steps with momentum and weight decay follow the paper's update") {
  // v ← μv + lr·ρ·(g + wd·w), w ← w − v, ρ per tensor; 1-D tensors ρ = 1, wd = 0 unless
  // exclude_1d is off; μ = 0 keeps no buffer.
  const double lr = 0.5, eta = 0.02, wd = 0.01;
  for (double mu : {0.9, 0.0})
    for (bool exclude : {true, false}) {
      CAPTURE(mu);
      CAPTURE(exclude);
      Layer layer;
      auto opt = make_lars<double>(lr, mu, wd, eta, exclude);
      std::vector<double> w(layer.ps.data(), layer.ps.data() + 9), v(9, 0.0), g(9);
      std::vector<double> rho_seen;
      for (int t = 1; t <= 2; ++t) {
        gradient_at(layer.ps.data(), layer.ps.grad());
        opt->step(layer.ps);
        gradient_at(w.data(), g.data());
        for (const Slice& s : kSlices) {
          const bool ratio = !(exclude && s.one_d);
          const double decay = ratio ? wd : 0;
          const double wn = norm(&w[s.offset], s.size), gn = norm(&g[s.offset], s.size);
          const double rho = ratio ? eta * wn / (gn + decay * wn) : 1;
          rho_seen.push_back(rho);
          for (int i = s.offset; i < s.offset + s.size; ++i) {
            const double d = g[i] + decay * w[i];
            v[i] = mu * v[i] + lr * rho * d;
            w[i] -= v[i];
          }
        }
      }
      check_equal(layer.ps, w);
      // The ratios differ between the tensors (and are far from 1): a rule applying one ratio to
      // the whole vector, or none, would not pass.
      CHECK(std::abs(rho_seen[0] - rho_seen[1]) > 0.01);
      CHECK(rho_seen[0] < 0.1);
      CHECK(opt->state().buffers.size() == (mu > 0 ? 1u : 0u));
    }
}

TEST_CASE("lars: a zero tensor or a zero gradient takes ρ = 1") {
  ParamStore<double> ps;
  ps.add("w", Shape{2, 1}), ps.add("u", Shape{1, 2});
  const double theta[4] = {0, 0, 1, 2}, grad[4] = {0.5, -0.5, 0, 0};
  std::copy(theta, theta + 4, ps.data()), std::copy(grad, grad + 4, ps.grad());
  make_lars<double>(0.1, 0.0, 0.0, 1e-3)->step(ps);
  CHECK(ps.data()[0] == doctest::Approx(-0.05).epsilon(1e-14));  // ‖w‖ = 0: plain SGD
  CHECK(ps.data()[1] == doctest::Approx(0.05).epsilon(1e-14));
  CHECK(ps.data()[2] == 1.0);  // zero gradient and no decay: nothing moves, nothing divides by 0
  CHECK(ps.data()[3] == 2.0);
}

TEST_CASE("lamb: one step by hand on a weight and a bias") {
  // The first step's bias-corrected moments are g and g², so rᵢ = gᵢ/(|gᵢ| + ε) + wd·wᵢ.
  // W = [3, 4], ∇W = [0.6, 0.8], wd = 0.1: r = [0.6/(0.6+ε) + 0.3, 0.8/(0.8+ε) + 0.4],
  // ρ = η·5/‖r‖. The bias b = [1, −1], ∇b = [0.5, −2], excluded: b ← b − lr·∇b/(|∇b| + ε).
  const double lr = 0.1, eps = 1e-6, eta = 0.5, wd = 0.1;
  for (bool exclude : {true, false}) {
    CAPTURE(exclude);
    ParamStore<double> ps;
    ps.add("w", Shape{1, 2}), ps.add("b", Shape{2});
    const double theta[4] = {3, 4, 1, -1}, grad[4] = {0.6, 0.8, 0.5, -2};
    std::copy(theta, theta + 4, ps.data()), std::copy(grad, grad + 4, ps.grad());
    make_lamb<double>(lr, 0.9, 0.999, eps, wd, eta, exclude)->step(ps);
    const double rw[2] = {0.6 / (0.6 + eps) + 0.3, 0.8 / (0.8 + eps) + 0.4};
    const double rho_w = eta * 5 / std::hypot(rw[0], rw[1]);
    CHECK(ps.data()[0] == doctest::Approx(3 - lr * rho_w * rw[0]).epsilon(1e-14));
    CHECK(ps.data()[1] == doctest::Approx(4 - lr * rho_w * rw[1]).epsilon(1e-14));
    const double rb[2] = {0.5 / (0.5 + eps) + (exclude ? 0 : 0.1),
                          -2 / (2 + eps) + (exclude ? 0 : -0.1)};
    const double rho_b = exclude ? 1 : eta * std::sqrt(2.0) / std::hypot(rb[0], rb[1]);
    CHECK(ps.data()[2] == doctest::Approx(1 - lr * rho_b * rb[0]).epsilon(1e-14));
    CHECK(ps.data()[3] == doctest::Approx(-1 - lr * rho_b * rb[1]).epsilon(1e-14));
  }
}

TEST_CASE("lamb: two steps with bias correction and decoupled weight decay") {
  // m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², r = m̂/(√v̂ + ε) + wd·w, ρ = η‖w‖/‖r‖, w ← w − lr·ρ·r.
  const double lr = 0.05, b1 = 0.8, b2 = 0.99, eps = 1e-6, wd = 0.05, eta = 0.7;
  for (bool exclude : {true, false}) {
    CAPTURE(exclude);
    Layer layer;
    auto opt = make_lamb<double>(lr, b1, b2, eps, wd, eta, exclude);
    std::vector<double> w(layer.ps.data(), layer.ps.data() + 9), m(9, 0.0), v(9, 0.0), g(9);
    std::vector<double> rho_seen;
    for (int t = 1; t <= 2; ++t) {
      gradient_at(layer.ps.data(), layer.ps.grad());
      opt->step(layer.ps);
      gradient_at(w.data(), g.data());
      for (const Slice& s : kSlices) {
        const bool ratio = !(exclude && s.one_d);
        std::vector<double> r(std::size_t(s.size));
        for (int i = s.offset; i < s.offset + s.size; ++i) {
          m[i] = b1 * m[i] + (1 - b1) * g[i];
          v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
          const double mh = m[i] / (1 - std::pow(b1, t)), vh = v[i] / (1 - std::pow(b2, t));
          r[std::size_t(i - s.offset)] = mh / (std::sqrt(vh) + eps) + (ratio ? wd : 0) * w[i];
        }
        const double rho = ratio ? eta * norm(&w[s.offset], s.size) / norm(r.data(), s.size) : 1;
        rho_seen.push_back(rho);
        for (int i = s.offset; i < s.offset + s.size; ++i)
          w[i] -= lr * rho * r[std::size_t(i - s.offset)];
      }
    }
    check_equal(layer.ps, w);
    CHECK(std::abs(rho_seen[0] - rho_seen[1]) > 0.1);
    const OptimizerState<double> s = opt->state();
    CHECK(s.scalars.at("step") == 2.0);
    for (int i = 0; i < 9; ++i) {
      CHECK(s.buffers.at("exp_avg")[std::size_t(i)] == doctest::Approx(m[i]).epsilon(1e-14));
      CHECK(s.buffers.at("exp_avg_sq")[std::size_t(i)] == doctest::Approx(v[i]).epsilon(1e-14));
    }
  }
}

TEST_CASE("lars and lamb state round-trips: a restored optimizer continues exactly") {
  for (const char* name : {"lars", "lamb"}) {
    CAPTURE(name);
    const bool lars = std::string(name) == "lars";
    auto make = [&] {
      return lars ? make_lars<double>(0.5, 0.9, 0.01, 0.02) : make_lamb<double>(0.05);
    };
    Layer layer;
    auto opt = make();
    for (int k = 0; k < 3; ++k) gradient_at(layer.ps.data(), layer.ps.grad()), opt->step(layer.ps);
    const OptimizerState<double> saved = opt->state();
    CHECK(saved.buffers.size() == (lars ? 1u : 2u));
    CHECK(saved.buffers.count(lars ? "momentum_buffer" : "exp_avg_sq") == 1);
    CHECK(opt->state_bytes() == saved.buffers.size() * 9 * sizeof(double));
    auto twin = make();
    twin->load_state(saved);
    CHECK(twin->state().buffers == saved.buffers);
    CHECK(twin->state().scalars == saved.scalars);
    // The same next two steps, bit for bit, from the same parameters.
    Layer other;
    std::copy(layer.ps.data(), layer.ps.data() + 9, other.ps.data());
    for (int k = 0; k < 2; ++k) {
      gradient_at(layer.ps.data(), layer.ps.grad()), opt->step(layer.ps);
      gradient_at(other.ps.data(), other.ps.grad()), twin->step(other.ps);
    }
    CHECK(std::equal(layer.ps.data(), layer.ps.data() + 9, other.ps.data()));
  }
  OptimizerState<double> wrong;
  wrong.buffers["exp_avg"] = {1.0};
  CHECK(error_of([&] { make_lars<double>(0.1)->load_state(wrong); }) ==
        "lars: expected state buffers among its own, found 'exp_avg'");
  wrong.buffers = {{"momentum_buffer", {1.0}}};
  CHECK(error_of([&] { make_lamb<double>(0.1)->load_state(wrong); }) ==
        "lamb: expected state buffers among its own, found 'momentum_buffer'");
}

TEST_CASE("lars and lamb: a mask zeroes the masked entries' state and leaves the rest") {
  const std::vector<std::uint8_t> keep{1, 0, 1, 1, 0, 1, 0, 1, 1};
  for (const char* name : {"lars", "lamb"}) {
    CAPTURE(name);
    auto opt = std::string(name) == "lars" ? make_lars<double>(0.5, 0.9) : make_lamb<double>(0.05);
    Layer layer;
    for (int k = 0; k < 2; ++k) gradient_at(layer.ps.data(), layer.ps.grad()), opt->step(layer.ps);
    const OptimizerState<double> before = opt->state();
    opt->apply_mask(keep);
    for (const auto& [n, buf] : opt->state().buffers) {
      CAPTURE(n);
      for (std::size_t i = 0; i < keep.size(); ++i) {
        CHECK(before.buffers.at(n)[i] != 0.0);  // every entry had moved
        CHECK(buf[i] == (keep[i] ? before.buffers.at(n)[i] : 0.0));
      }
    }
    CHECK(error_of([&] { opt->apply_mask(std::vector<std::uint8_t>(4, 1)); }) ==
          "mask: expected 9 entries (the parameter count), found 4");
  }
}

TEST_CASE("the registry builds lars and lamb with their defaults") {
  const auto names = optimizer_names();
  CHECK(std::find(names.begin(), names.end(), "lars") != names.end());
  CHECK(std::find(names.begin(), names.end(), "lamb") != names.end());
  CHECK(default_trust("lars") == 1e-3);
  CHECK(default_trust("lamb") == 1.0);
  CHECK(default_eps("lamb") == 1e-6);
  CHECK(default_eps("adam") == 1e-8);
  SecondOrderConfig cfg;
  cfg.weight_decay = 0.01;
  AdamConfig adam;
  adam.beta1 = 0.8, adam.eps = 1e-6;
  // make_optimizer with the default trust (0) and the rule built directly take the same steps.
  const std::pair<std::unique_ptr<Optimizer<double>>, std::unique_ptr<Optimizer<double>>> pairs[] =
      {{make_optimizer<double>("lars", 2.0, 0.9, false, cfg, adam),
        make_lars<double>(2.0, 0.9, 0.01, 1e-3, true)},
       {make_optimizer<double>("lamb", 0.01, 0.9, false, cfg, adam, {0.5, false}),
        make_lamb<double>(0.01, 0.8, 0.999, 1e-6, 0.01, 0.5, false)}};
  for (const auto& [registered, direct] : pairs) {
    CAPTURE(direct->name());
    CHECK(registered->name() == direct->name());
    Layer a, b;
    for (int k = 0; k < 2; ++k) {
      gradient_at(a.ps.data(), a.ps.grad()), registered->step(a.ps);
      gradient_at(b.ps.data(), b.ps.grad()), direct->step(b.ps);
    }
    CHECK(std::equal(a.ps.data(), a.ps.data() + 9, b.ps.data()));
  }
}

TEST_CASE("lars and lamb refuse bad settings, naming the one at fault") {
  CHECK(error_of([] { make_lars<float>(0); }) == "lars: expected lr > 0, found 0");
  CHECK(error_of([] { make_lars<float>(1, 0.9, 0, 0); }) ==
        "lars: expected a trust coefficient > 0, found 0");
  CHECK(error_of([] { make_lars<float>(1, 1.0); }) == "lars: expected 0 <= momentum < 1, found 1");
  CHECK(error_of([] { make_lars<float>(1, -0.1); }) ==
        "lars: expected 0 <= momentum < 1, found -0.1");
  CHECK(error_of([] { make_lars<float>(1, 0.9, -1e-4); }) ==
        "lars: expected weight decay >= 0, found -0.0001");
  CHECK(error_of([] { make_lamb<float>(-0.01); }) == "lamb: expected lr > 0, found -0.01");
  CHECK(error_of([] { make_lamb<float>(0.01, 0.9, 0.999, 1e-6, 0, -1); }) ==
        "lamb: expected a trust coefficient > 0, found -1");
  CHECK(error_of([] { make_lamb<float>(0.01, 1.0); }) ==
        "lamb: expected betas in [0,1), found 1,0.999");
  CHECK(error_of([] { make_lamb<float>(0.01, 0.9, -0.5); }) ==
        "lamb: expected betas in [0,1), found 0.9,-0.5");
  CHECK(error_of([] { make_lamb<float>(0.01, 0.9, 0.999, 0); }) ==
        "lamb: expected eps > 0, found 0");
  CHECK(error_of([] { make_lamb<float>(0.01, 0.9, 0.999, 1e-6, -1); }) ==
        "lamb: expected weight decay >= 0, found -1");
  CHECK(error_of([] {
          make_optimizer<float>("lars", 1, 0.9, false, {}, {}, {-2, true});
        }) == "lars: expected a trust coefficient > 0, found -2");
  CHECK(error_of([] { make_lars<float>(1)->set_momentum(1.5); }) ==
        "lars: expected 0 <= momentum < 1, found 1.5");
}
