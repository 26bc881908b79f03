// CurvatureData's lifecycle: products refuse parameters that changed after recording, refresh()
// re-records, a bounded cache and a streamed source give the same products as everything held,
// and single-batch operators are the curvature of their batch alone.
#include <doctest/doctest.h>

#include <cstring>

#include "curv/check/check.hpp"
#include "curv/curvature/kfac.hpp"
#include "curv/curvature/model_operators.hpp"
#include "support/dense_curvature.hpp"
#include "support/errors.hpp"
#include "support/memory_split.hpp"

using namespace curv;
using namespace curv::testing;
using curv::check::relative_error;

namespace {

Matrix ggn_of(CurvatureData<double>& data) {
  ModelOperator<double> op(data, ModelCurvature::GGN,
                           ParamSubset::all(data.model().params().info()));
  return materialize(op);
}

}  // namespace

TEST_CASE("a product after θ changed throws; refresh() then matches a freshly built operator") {
  auto model = tiny("mlp");
  CurvatureData<double> data(*model, random_batches(*model, {4, 3}, 5));
  const auto all = ParamSubset::all(model->params().info());
  ModelOperator<double> op(data, ModelCurvature::GGN, all);
  const Matrix before = materialize(op);

  model->params().data()[0] += 0.25;  // a training step would do this
  const std::string m = error_of([&] { materialize(op); });
  CHECK(m.find("ggn: the model's parameters changed after the curvature data was recorded") == 0);
  CHECK(m.find("call refresh()") != std::string::npos);
  CHECK(error_of([&] { make_kfac(data, all, KfacOptions{}); }).find("kfac: the model's") == 0);

  data.refresh();
  const Matrix after = materialize(op);
  CurvatureData<double> fresh(*model, random_batches(*model, {4, 3}, 5));
  CHECK(relative_error(after, ggn_of(fresh)) <= 1e-12);
  CHECK(relative_error(after, before) > 1e-6);  // the edit did change the curvature
  // The Hessian and the output factors (ef, mc) follow the refresh as well.
  for (auto kind : {ModelCurvature::Hessian, ModelCurvature::EF, ModelCurvature::Fisher}) {
    ModelOperator<double> a(data, kind, all, 2, 3), b(fresh, kind, all, 2, 3);
    CHECK(relative_error(materialize(a), materialize(b)) <= 1e-12);
  }
}

TEST_CASE("a cache smaller than the data re-records batches and gives the same products") {
  for (const char* which : {"mlp", "conv"}) {
    CAPTURE(which);
    auto model = tiny(which);
    CurvatureData<double> held(*model, random_batches(*model, {3, 2, 4}, 8));
    CurvatureData<double> tight(*model, random_batches(*model, {3, 2, 4}, 8), {.cache_bytes = 0});
    const Matrix G = ggn_of(held);
    CHECK(relative_error(ggn_of(tight), G) == 0.0);
    CHECK(held.cached_batches() == 3);
    CHECK(tight.cached_batches() == 0);
    CHECK(tight.cached_bytes() == 0);
    CHECK(held.recordings() == 3);
    CHECK(tight.recordings() > 3 * 10);  // one recording per batch per product
    const auto all = ParamSubset::all(model->params().info());
    for (auto kind : {FactorKind::GGN, FactorKind::MC}) {
      KfacOptions o;
      o.factors = kind, o.samples = 2, o.seed = 4;
      CHECK(relative_error(materialize(*make_kfac(tight, all, o)),
                           materialize(*make_kfac(held, all, o))) == 0.0);
    }
    CHECK(tight.loss() == doctest::Approx(held.loss()).epsilon(1e-15));
  }
}

TEST_CASE("a streamed source over an index list equals the same batches held in memory") {
  auto model = tiny("mlp");
  MemorySplit split(concatenate(random_batches(*model, {10}, 9)));
  const std::vector<index_t> idx = {7, 2, 9, 0, 4, 5, 1};
  // Held: the same examples in the same batches of 3 (3, 3, 1).
  std::vector<Batch<double>> parts(3);
  for (std::size_t b = 0; b < 3; ++b) {
    const auto first = idx.begin() + std::ptrdiff_t(3 * b);
    split.fill(std::span<const index_t>(&*first, std::min<std::size_t>(3, idx.size() - 3 * b)),
               nullptr, parts[b]);
  }
  CurvatureData<double> held(*model, std::move(parts));
  for (std::size_t cache : {std::size_t(0), std::size_t(1) << 30}) {
    CurvatureData<double> streamed(*model, split, idx, 3, {.cache_bytes = cache});
    CHECK(streamed.batches() == 3);
    CHECK(streamed.examples() == 7);
    CHECK(streamed.weight(2) == doctest::Approx(1.0 / 7));
    CHECK(relative_error(ggn_of(streamed), ggn_of(held)) == 0.0);
  }
  CHECK(error_of([&] {
          CurvatureData<double>(*model, split, {0, 10}, 3);
        }).find("memory/train: expected example indices in 0..9, found 10") == 0);
}

TEST_CASE("a single-batch operator is the curvature of that batch alone") {
  auto model = tiny("mlp");
  auto same = random_batches(*model, {3, 4}, 12);
  std::vector<Batch<double>> second;
  second.push_back(std::move(same[1]));
  CurvatureData<double> data(*model, random_batches(*model, {3, 4}, 12)),
      alone(*model, std::move(second));
  const auto all = ParamSubset::all(model->params().info());
  for (auto kind : {ModelCurvature::Hessian, ModelCurvature::GGN}) {
    ModelOperator<double> op(data, kind, all), ref(alone, kind, all);
    op.use_batch(1);
    CHECK(relative_error(materialize(op), materialize(ref)) <= 1e-14);
    op.use_batch(-1);
    CHECK(relative_error(materialize(op), materialize(ref)) > 1e-3);
  }
  ModelOperator<double> op(data, ModelCurvature::GGN, all);
  CHECK(error_of([&] { op.use_batch(2); }) ==
        "ggn: expected a batch in 0..1 (or -1 for all), found 2");
}
