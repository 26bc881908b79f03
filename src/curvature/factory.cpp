#include "curv/curvature/factory.hpp"

#include "curv/core/error.hpp"
#include "curv/curvature/kfac.hpp"
#include "curv/curvature/low_rank_operator.hpp"
#include "curv/curvature/model_operators.hpp"

namespace curv {

std::vector<std::string> operator_names() {
  return {"hessian",
          "ggn",
          "ef",
          "fisher",
          "kfac",
          "kfac-factored",
          "ekfac",
          "diag",
          "lowrank",
          "blockdiag-hessian",
          "blockdiag-ggn",
          "blockdiag-ef",
          "blockdiag-fisher"};
}

namespace {

ModelCurvature model_curvature(const std::string& name) {
  if (name == "hessian") return ModelCurvature::Hessian;
  if (name == "ggn") return ModelCurvature::GGN;
  if (name == "ef") return ModelCurvature::EF;
  if (name == "fisher") return ModelCurvature::Fisher;
  std::string known;
  for (const auto& n : operator_names()) known += (known.empty() ? "" : ", ") + n;
  fail("unknown curvature operator '", name, "': expected one of ", known);
}

// (1/m) Σ gᵢgᵢᵀ over every example's gradient, restricted to the subset.
template <class T>
std::unique_ptr<LinearOperator> lowrank(CurvatureData<T>& data, const ParamSubset& subset) {
  data.check_current("lowrank");
  const index_t P = data.parameters(), d = subset.size(), m = data.examples();
  std::vector<double> grads(static_cast<std::size_t>(m * d));
  std::vector<double> full(static_cast<std::size_t>(P));
  index_t row = 0;
  for (index_t b = 0; b < data.batches(); ++b) {
    Objective<T>& obj = data.objective(b);
    const index_t N = obj.examples();
    std::vector<T> G(static_cast<std::size_t>(N * P));
    obj.per_example_gradients(G.data());
    for (index_t n = 0; n < N; ++n, ++row) {
      for (index_t i = 0; i < P; ++i) full[i] = double(G[n * P + i]);
      subset.gather(full.data(), grads.data() + row * d);
    }
  }
  return std::make_unique<LowRankOperator>(std::move(grads), m, d, 1.0 / double(m));
}

}  // namespace

template <class T>
std::unique_ptr<LinearOperator> make_operator(CurvatureData<T>& data, const OperatorSpec& spec) {
  const ParamSubset subset = ParamSubset::parse(spec.subset, data.model().params().info());
  CURV_CHECK(!subset.partial() || spec.name == "diag" || spec.name == "hessian" ||
                 spec.name == "ggn" || spec.name == "ef" || spec.name == "fisher",
             "curvature: ", spec.name, " acts on whole layers: expected hessian, ggn, ef, fisher ",
             "or diag on a subset of single entries");
  KfacOptions kopt;
  kopt.factors = spec.factors, kopt.samples = spec.samples, kopt.seed = spec.seed;
  if (spec.name == "kfac") return make_kfac(data, subset, kopt);
  if (spec.name == "kfac-factored")
    return factored_damping(*make_kfac(data, subset, kopt), spec.factored_damping,
                            spec.pi_adjusted);
  if (spec.name == "ekfac") return make_ekfac(data, subset, kopt);
  if (spec.name == "lowrank") return lowrank(data, subset);
  if (spec.name == "diag") {
    const ModelCurvature kind = spec.factors == FactorKind::GGN  ? ModelCurvature::GGN
                                : spec.factors == FactorKind::EF ? ModelCurvature::EF
                                                                 : ModelCurvature::Fisher;
    ModelOperator<T> op(data, kind, subset, spec.samples, spec.seed);
    return std::make_unique<DiagonalOperator>(
        op.diagonal(), std::string("diag-") + factor_kind_name(spec.factors));
  }
  if (spec.name.rfind("blockdiag-", 0) == 0)
    return layer_blocks(data, model_curvature(spec.name.substr(10)), subset, spec.samples,
                        spec.seed);
  return std::make_unique<ModelOperator<T>>(data, model_curvature(spec.name), subset, spec.samples,
                                            spec.seed);
}

template std::unique_ptr<LinearOperator> make_operator(CurvatureData<float>&, const OperatorSpec&);
template std::unique_ptr<LinearOperator> make_operator(CurvatureData<double>&, const OperatorSpec&);

}  // namespace curv
