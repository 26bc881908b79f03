// Gradient streams against references computed another way, on a tiny float64 model: loss and
// margin rows against central differences of the per-example scalar, logit and Jacobian rows
// against the forward-mode Jacobian; subsets computed alone equal the gathered full rows;
// projections equal G·R with R read row by row, cached or sliced; the count sketch explicitly;
// and the bad inputs named.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "curv/check/check.hpp"
#include "curv/curvature/gradients.hpp"
#include "curv/io/npy.hpp"
#include "curv/nn/objective.hpp"
#include "support/dense_curvature.hpp"
#include "support/errors.hpp"
#include "support/memory_split.hpp"

using namespace curv;
using namespace curv::testing;
using curv::check::relative_error;

namespace {

Matrix collect(GradientStream<double>& s) {
  Matrix all;
  s.run([&](const GradientBlock<double>& b) {
    CHECK(b.rows == b.examples * s.rows_per_example());
    CHECK(b.columns == s.columns());
    all.insert(all.end(), b.data, b.data + b.rows * b.columns);
  });
  return all;
}

// Per-example scalars f(θ) of every example, differentiated by central differences: (N, P).
template <class F>
Matrix central_differences(Model<double>& m, index_t N, F f) {
  const index_t P = m.params().size();
  Matrix rows(std::size_t(N * P));
  double* theta = m.params().data();
  const double h = 1e-6;
  for (index_t p = 0; p < P; ++p) {
    const double t0 = theta[p];
    theta[p] = t0 + h;
    const std::vector<double> up = f();
    theta[p] = t0 - h;
    const std::vector<double> down = f();
    theta[p] = t0;
    for (index_t n = 0; n < N; ++n) rows[n * P + p] = (up[n] - down[n]) / (2 * h);
  }
  return rows;
}

}  // namespace

TEST_CASE("every measurement's rows equal their reference") {
  auto model = tiny("mlp");
  const index_t N = 7, P = model->params().size(), C = model->outputs();
  const Batch<double> all = concatenate(random_batches(*model, {N}, 5));
  MemorySplit split(concatenate(random_batches(*model, {N}, 5)));
  std::vector<index_t> idx(static_cast<std::size_t>(N));
  for (index_t i = 0; i < N; ++i) idx[i] = i;
  const Dense d = dense_of(*model, all, false);
  auto outputs = [&] {
    auto loss = make_loss<double>(model->loss());
    Objective<double> obj(*model, *loss);
    obj.set_batch(all.x.view(), all.targets());
    std::vector<double> per(static_cast<std::size_t>(N));
    loss->per_example(per.data());
    const View<const double> z = obj.output();
    return std::pair(per, std::vector<double>(z.data, z.data + N * C));
  };
  for (index_t batch : {3, 7}) {
    CAPTURE(batch);
    auto stream = [&](const std::string& m) {
      GradientOptions o;
      o.measurement = Measurement::parse(m), o.batch = batch;
      return GradientStream<double>(*model, split, idx, o);
    };
    auto s_loss = stream("loss");
    const Matrix loss_fd = central_differences(*model, N, [&] { return outputs().first; });
    CHECK(relative_error(collect(s_loss), loss_fd) <= 1e-7);

    auto s_margin = stream("margin");
    const Matrix margin_fd = central_differences(*model, N, [&] {
      const auto z = outputs().second;
      std::vector<double> m(static_cast<std::size_t>(N));
      for (index_t n = 0; n < N; ++n) {
        const index_t y = index_t(all.labels[std::size_t(n)]);
        double s = 0;
        for (index_t c = 0; c < C; ++c)
          if (c != y) s += std::exp(z[n * C + c]);
        m[n] = z[n * C + y] - std::log(s);
      }
      return m;
    });
    CHECK(relative_error(collect(s_margin), margin_fd) <= 1e-7);

    auto s_logit = stream("logit:2");
    Matrix J2(std::size_t(N * P));
    for (index_t n = 0; n < N; ++n)
      for (index_t p = 0; p < P; ++p) J2[n * P + p] = d.J[(n * C + 2) * P + p];
    CHECK(relative_error(collect(s_logit), J2) <= 1e-13);

    // The predicted class's row of the Jacobian (no labels needed).
    auto s_pred = stream("predicted");
    const std::vector<double> z = outputs().second;
    Matrix Jhat(std::size_t(N * P));
    for (index_t n = 0; n < N; ++n) {
      const index_t c = index_t(std::max_element(z.begin() + n * C, z.begin() + (n + 1) * C) -
                                (z.begin() + n * C));
      for (index_t p = 0; p < P; ++p) Jhat[n * P + p] = d.J[(n * C + c) * P + p];
    }
    CHECK(relative_error(collect(s_pred), Jhat) <= 1e-13);

    auto s_jac = stream("jacobian");
    CHECK(s_jac.rows_per_example() == C);
    CHECK(relative_error(collect(s_jac), d.J) <= 1e-13);
  }
}

// The jacobian over `last` (the output layer) is written from the layer's inputs without a
// sweep, and sweeps for a subset stop at its earliest layer; over every weight the sweeps go
// all the way: all must agree.
TEST_CASE("a subset's rows, computed for the subset alone, are the full rows gathered") {
  for (const char* which : {"mlp", "conv", "sequence"}) {
    CAPTURE(which);
    auto model = tiny(which);
    const index_t N = 5;
    MemorySplit split(concatenate(random_batches(*model, {N}, 8)));
    const std::vector<index_t> idx = {4, 1, 3};
    for (const char* m : {"loss", "jacobian"}) {
      GradientOptions o;
      o.measurement = Measurement::parse(m), o.batch = 2;
      GradientStream<double> full(*model, split, idx, o);
      const Matrix F = collect(full);
      // "fc3,fc2": sweeps that stop at fc2, with the layers named out of flat order; single
      // entries (a subnetwork), spread over the first, a middle and the last tensor.
      const index_t P0 = model->params().size();
      const std::string entries = "entries:0," + std::to_string(P0 / 3) + "-" +
                                  std::to_string(P0 / 3 + 2) + "," + std::to_string(P0 - 1);
      for (const std::string spec : {"last", "fc1", "fc3,fc2", entries.c_str()}) {
        if (std::string(which) != "mlp" && spec != "last" && spec != entries) continue;
        CAPTURE(spec);
        o.subset = spec;
        GradientStream<double> part(*model, split, idx, o);
        const ParamSubset& s = part.subset();
        const index_t P = model->params().size(), rows = index_t(F.size()) / P;
        Matrix gathered(std::size_t(rows * s.size()));
        for (index_t r = 0; r < rows; ++r)
          s.gather(F.data() + r * P, gathered.data() + r * s.size());
        CHECK(collect(part) == gathered);  // same sums, same order: bit for bit
      }
    }
  }
}

TEST_CASE("the output layer's inputs instead of its Jacobian rows, when asked") {
  auto model = tiny("mlp");  // fc3: 5 → 3, with bias
  const index_t N = 5, C = model->outputs();
  MemorySplit split(concatenate(random_batches(*model, {N}, 8)));
  const std::vector<index_t> idx = {4, 1, 3, 0};
  GradientOptions o;
  o.measurement = Measurement::parse("jacobian"), o.subset = "last", o.batch = 3;
  GradientStream<double> rows(*model, split, idx, o);
  const Matrix J = collect(rows);
  o.inputs_for_output_layer = true;
  GradientStream<double> inputs(*model, split, idx, o);
  const index_t d = inputs.subset().size(), H = d / C - 1;
  Matrix got, want;
  inputs.run([&](const GradientBlock<double>& b) {
    CHECK(b.data == nullptr);
    REQUIRE(b.input_size == H + 1);
    got.insert(got.end(), b.output_layer_inputs, b.output_layer_inputs + b.examples * (H + 1));
  });
  for (index_t e = 0; e < index_t(idx.size()); ++e) {  // row (e, c = 0): [a | 0…] and b₀'s 1
    const double* row = J.data() + e * C * d;
    want.insert(want.end(), row, row + H);
    want.push_back(row[C * H]);
  }
  CHECK(got == want);
  o.project = 2;
  CHECK_THROWS_WITH_AS(GradientStream<double>(*model, split, idx, o),
                       doctest::Contains("given instead of rows, not projected"), Error);
}

// Factored layers: rows over the other parameters plus, per factored layer, its rows' inputs a
// and the C adjoints g, from which Σᵣ gᵣ ⊗ aᵣᵀ and Σᵣ gᵣ rebuild the full rows — in the mlp every
// layer; in the conv model the fc layer (its conv's 9 patches hold more numbers than its rows);
// in the wide conv model both; in the sequence model fc2 (fc1's three tokens per example hold
// more numbers than its rows).
TEST_CASE("layers in factored form rebuild the full Jacobian rows") {
  for (const char* which : {"mlp", "conv", "conv-wide", "sequence"}) {
    CAPTURE(which);
    auto model = tiny(which);
    const index_t N = 5, C = model->outputs(), P = model->params().size();
    MemorySplit split(concatenate(random_batches(*model, {N}, 8)));
    const std::vector<index_t> idx = {4, 1, 3, 0, 2};
    const std::string w = which;
    for (const char* spec : {"all", "last"}) {
      CAPTURE(spec);
      const bool all = spec == std::string("all");
      GradientOptions o;
      o.measurement = Measurement::parse("jacobian"), o.batch = 2, o.subset = spec;
      GradientStream<double> full(*model, split, idx, o);
      const Matrix F = collect(full);
      const index_t S = full.subset().size();
      o.layer_factors = true;
      GradientStream<double> factored(*model, split, idx, o);
      const std::size_t layers = !all ? 1 : w == "mlp" ? 3 : w == "conv-wide" ? 2 : 1;
      CHECK(factored.factored_layers().size() == layers);
      index_t dropped = 0;
      for (const auto& f : factored.factored_layers()) {
        dropped += f.out * (f.in + 1);
        CHECK(f.rows_per_example == (f.kind == "conv2d" ? 4 : 1));
      }
      CHECK(factored.columns() == S - dropped);
      Matrix got(F.size(), std::numeric_limits<double>::infinity());
      std::vector<index_t> where(static_cast<std::size_t>(P), -1);  // flat offset → subset position
      for (index_t p = 0, at = 0; p < P; ++p)
        if (factored.subset().contains(p)) where[std::size_t(p)] = at++;
      factored.run([&](const GradientBlock<double>& b) {
        for (index_t r = 0; r < b.rows; ++r) {
          double* row = got.data() + (b.first * C + r) * S;
          for (const auto& [offset, column] : factored.row_columns()) {
            const index_t end = column + [&] {
              for (const ParamInfo& p : model->params().info())
                if (p.offset == offset) return p.shape.numel();
              return index_t(0);
            }();
            for (index_t j = column; j < end; ++j)
              row[where[std::size_t(offset + j - column)]] = b.data[r * b.columns + j];
          }
          for (const LayerFactors<double>& f : b.factors) {
            const index_t R = f.rows_per_example;
            for (index_t q = 0; q < f.out; ++q) {
              for (index_t i = 0; i < f.in; ++i) {
                double s = 0;
                for (index_t t = 0; t < R; ++t)
                  s += f.g[(r * R + t) * f.out + q] * f.a[((r / C) * R + t) * f.in + i];
                row[where[std::size_t(f.weight_offset + q * f.in + i)]] = s;
              }
              if (f.bias_offset >= 0) {
                double s = 0;
                for (index_t t = 0; t < R; ++t) s += f.g[(r * R + t) * f.out + q];
                row[where[std::size_t(f.bias_offset + q)]] = s;
              }
            }
          }
        }
      });
      // Every entry written; one-row layers bit for bit (each entry the sweep's own product),
      // sums over rows to rounding.
      CHECK(relative_error(got, F) <= 1e-14);
      if (w == "mlp") CHECK(got == F);
    }
  }
  auto model = tiny("mlp");
  MemorySplit split(concatenate(random_batches(*model, {3}, 8)));
  GradientOptions o;
  o.layer_factors = true;
  CHECK_THROWS_WITH_AS(GradientStream<double>(*model, split, {0, 1}, o),
                       doctest::Contains("factored form for the jacobian only, found 'loss'"),
                       Error);
}

TEST_CASE("projections are G·R with R read row by row, cached or generated in slices") {
  const index_t P = 300, k = 17, n = 6;
  Rng rng(3);
  Matrix G(static_cast<std::size_t>(n * P));
  for (auto& x : G) x = rng.normal();
  for (auto kind : {ProjectionKind::Gaussian, ProjectionKind::Rademacher, ProjectionKind::Sparse}) {
    CAPTURE(projection_name(kind));
    RandomProjection<double> cached(kind, P, k, 9), sliced(kind, P, k, 9, 0, 64);
    CHECK((kind == ProjectionKind::Sparse || (cached.cached() && !sliced.cached())));
    Matrix ref(std::size_t(n * k), 0.0);
    for (index_t i = 0; i < P; ++i) {
      const auto r = cached.row(i);
      CHECK(r == sliced.row(i));
      if (kind == ProjectionKind::Sparse) {
        index_t nonzero = 0;
        for (double x : r) {
          nonzero += x != 0 ? 1 : 0;
          CHECK((x == 0 || std::abs(x) == 1));
        }
        CHECK(nonzero == 1);
      }
      for (index_t e = 0; e < n; ++e)
        for (index_t j = 0; j < k; ++j) ref[e * k + j] += G[e * P + i] * r[std::size_t(j)];
    }
    Matrix a(std::size_t(n * k)), b(std::size_t(n * k));
    cached.apply(G.data(), n, a.data());
    sliced.apply(G.data(), n, b.data());
    CHECK(relative_error(a, ref) <= 1e-13);
    CHECK(relative_error(b, ref) <= 1e-13);
  }
  RandomProjection<double> jl(ProjectionKind::Rademacher, 40, 40, 2);
  double diag = 0;
  for (index_t i = 0; i < 40; ++i) {
    const auto r = jl.row(i);
    for (double x : r) diag += x * x;
  }
  CHECK(diag == doctest::Approx(40.0).epsilon(1e-12));  // Rademacher rows have norm 1 exactly
}

TEST_CASE("a projected stream is the raw stream times R, cached or chunked") {
  auto model = tiny("mlp");
  const index_t N = 9, P = model->params().size(), k = 5;
  MemorySplit split(concatenate(random_batches(*model, {N}, 4)));
  std::vector<index_t> idx(static_cast<std::size_t>(N));
  for (index_t i = 0; i < N; ++i) idx[i] = N - 1 - i;
  GradientOptions o;
  o.batch = 4;
  GradientStream<double> raw(*model, split, idx, o);
  const Matrix G = collect(raw);
  for (std::size_t cache : {std::size_t(1) << 20, std::size_t(0)}) {
    CAPTURE(cache);
    o.project = k, o.projection = ProjectionKind::Gaussian, o.seed = 11, o.cache_bytes = cache;
    o.chunk = 6;  // two chunks of 8 (whole batches) when R is regenerated
    GradientStream<double> projected(*model, split, idx, o);
    RandomProjection<double> R(ProjectionKind::Gaussian, P, k, 11);
    Matrix ref(std::size_t(N * k));
    R.apply(G.data(), N, ref.data());
    CHECK(relative_error(collect(projected), ref) <= 1e-13);
    const auto t = projected.timings();
    CHECK(t.gradients > 0);
    CHECK(t.projection > 0);
  }
}

TEST_CASE("gradients written to .npy read back as the stream's rows; failures leave no file") {
  auto model = tiny("mlp");
  MemorySplit split(concatenate(random_batches(*model, {5}, 2)));
  GradientOptions o;
  o.batch = 2, o.subset = "last";
  GradientStream<double> s(*model, split, {0, 1, 2, 3, 4}, o);
  TempDir dir;
  s.write_npy(dir.file("g.npy"));
  const NpyArray a = read_npy(dir.file("g.npy"));
  CHECK(a.shape == std::vector<std::int64_t>{5, s.columns()});
  CHECK(a.to_double() == collect(s));
  CHECK(!error_of([&] { s.write_npy(dir.file("missing/g.npy")); }).empty());
  CHECK(!std::filesystem::exists(dir.file("missing")));
}

TEST_CASE("bad input to a gradient stream is named") {
  auto model = tiny("mlp");
  const index_t P = model->params().size();
  MemorySplit split(concatenate(random_batches(*model, {4}, 2)));
  MemorySplit unlabelled(concatenate(random_batches(*model, {4}, 2)), false);
  auto make = [&](const Split<double>& sp, GradientOptions o) {
    return GradientStream<double>(*model, sp, {0, 1}, o);
  };
  GradientOptions o;
  o.project = -1;
  CHECK(error_of([&] { make(split, o); }) == "projection: expected a dimension k in 1.." +
                                                 std::to_string(P) +
                                                 " (the gradient's length), found -1");
  o.project = P + 1;
  CHECK(error_of([&] { make(split, o); }).find("found " + std::to_string(P + 1)) !=
        std::string::npos);
  o.project = 0;
  CHECK(error_of([&] { Measurement::parse("hessian"); }) ==
        "unknown measurement 'hessian': expected loss, logit:C, predicted, margin or jacobian");
  CHECK(error_of([&] { Measurement::parse("logit:x"); }) ==
        "measurement 'logit:x': expected logit:C with C a whole number, found 'x'");
  o.measurement = Measurement::parse("logit:3");
  CHECK(error_of([&] { make(split, o); }) ==
        "measurement 'logit:3': expected a logit in 0..2 of " + model->name() + ", found 3");
  for (const char* m : {"loss", "margin"}) {
    o.measurement = Measurement::parse(m);
    CHECK(error_of([&] { make(unlabelled, o); }) ==
          std::string("measurement '") + m +
              "': expected examples with labels, found memory/train without them (logit:C, "
              "predicted and jacobian need none)");
  }
  o.measurement = Measurement::parse("jacobian");
  CHECK(make(unlabelled, o).rows_per_example() == 3);  // needs no labels
  o.measurement = Measurement::parse("predicted");
  CHECK(make(unlabelled, o).rows_per_example() == 1);
  CHECK(error_of([&] {
          GradientStream<double>(*model, split, {0, 4}, GradientOptions{});
        }) == "memory/train: expected example indices in 0..3, found 4");
}
