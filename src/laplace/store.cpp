#include "curv/laplace/store.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "curv/core/error.hpp"
#include "curv/curvature/compose.hpp"
#include "curv/curvature/kfac.hpp"
#include "curv/curvature/low_rank_operator.hpp"
#include "curv/data/split.hpp"
#include "curv/io/safetensors.hpp"

namespace curv::laplace {
namespace {

constexpr const char* kKey = "curv.posterior";

std::string hex(std::uint64_t h) {
  char s[17];
  std::snprintf(s, sizeof s, "%016llx", static_cast<unsigned long long>(h));
  return s;
}

}  // namespace

template <class T>
std::uint64_t weights_fingerprint(const Model<T>& model) {
  std::uint64_t h = fnv1a(nullptr, 0);
  const T* p = model.params().data();
  for (index_t i = 0; i < model.params().size(); ++i) {
    const float f = static_cast<float>(p[i]);
    h = fnv1a(&f, sizeof f, h);
  }
  return h;
}

template <class T>
void save_posterior(const std::string& path, Posterior& post, const Model<T>& model,
                    const std::string& structure, const std::string& weights,
                    const std::string& curvature, const std::string& prior) {
  const index_t S = post.size();
  CURV_CHECK(ParamSubset::parse(weights, model.params().info()).size() == S,
             "laplace: expected a posterior over the ", S, " weights of '", weights, "', found ",
             ParamSubset::parse(weights, model.params().info()).size());
  post.precision();  // a prior must be set
  std::vector<TensorToWrite> tensors = {
      {"theta", "F64", Shape{S}, post.theta().data()},
      {"prior", "F64", Shape{index_t(post.prior().size())}, post.prior().data()}};
  nlohmann::json meta = {{"structure", structure},
                         {"weights", weights},
                         {"curvature", curvature},
                         {"prior", prior},
                         {"n", post.n_data()},
                         {"summed_loss", post.summed_loss()},
                         {"size", S},
                         {"model", model.name()},
                         {"parameters", model.params().size()},
                         {"weights_fingerprint", hex(weights_fingerprint(model))}};
  if (post.mode() != post.theta()) {  // the linearized evidence's mode, which its log Z needs
    tensors.push_back({"mode", "F64", Shape{S}, post.mode().data()});
    meta["mode_loss"] = post.mode_loss();
  }
  if (post.gaussian()) meta["noise"] = post.noise(), meta["outputs"] = post.outputs();
  for (const PriorGroup& g : post.groups())
    meta["groups"].push_back({{"name", g.name}, {"begin", g.begin}, {"size", g.size}});
  LinearOperator& C = post.curvature();
  if (structure == "kron") {
    auto* kfac = dynamic_cast<KfacOperator*>(&C);
    CURV_CHECK(kfac, "laplace: expected K-FAC blocks to save a kron posterior, found ", C.name());
    for (std::size_t i = 0; i < kfac->blocks().size(); ++i) {
      KroneckerBlock& b = kfac->blocks()[i];
      const KfacLayer& L = b.layer();
      // A re-fitted (EK-FAC) scaling belongs to one eigenbasis, which A and G need not fix
      // (repeated eigenvalues): only factors are saved.
      CURV_CHECK(!b.refitted(), "laplace: expected K-FAC blocks to save, found a re-fitted ",
                 "(EK-FAC) scaling in the block at offset ", L.weight_offset);
      meta["layers"].push_back({{"kind", L.kind},
                                {"weight_offset", L.weight_offset},
                                {"bias_offset", L.bias_offset},
                                {"out", L.out},
                                {"in", L.in},
                                {"rows_per_example", L.rows_per_example}});
      const std::string at = "kron." + std::to_string(i) + ".";
      tensors.push_back({at + "A", "F64", Shape{L.din(), L.din()}, b.A().data()});
      tensors.push_back({at + "G", "F64", Shape{L.out, L.out}, b.G().data()});
    }
  } else if (structure == "diag") {
    auto* d = dynamic_cast<DiagonalOperator*>(&C);
    CURV_CHECK(d, "laplace: expected a diagonal to save a diag posterior, found ", C.name());
    tensors.push_back({"diag", "F64", Shape{S}, d->values().data()});
  } else if (structure == "full") {
    auto* d = dynamic_cast<DenseOperator*>(&C);
    CURV_CHECK(d, "laplace: expected a dense matrix to save a full posterior, found ", C.name());
    tensors.push_back({"full", "F64", Shape{S, S}, d->matrix().data()});
  } else if (structure == "lowrank") {
    auto* l = dynamic_cast<LowRankOperator*>(&C);
    CURV_CHECK(
        l && l->scale() == 1 &&
            std::all_of(l->shift().begin(), l->shift().end(), [](double d) { return d == 0; }),
        "laplace: expected UᵀU to save a lowrank posterior, found ", C.name());
    tensors.push_back({"lowrank.U", "F64", Shape{l->rank(), S}, l->factor().data()});
  } else {
    fail("laplace: expected a structure among kron, diag, full, lowrank to save, found '",
         structure, "'");
  }
  write_safetensors(path, tensors, {{kKey, meta.dump()}});
}

template <class T>
StoredPosterior load_posterior(const std::string& path, const Model<T>& model) {
  const Safetensors file = read_safetensors(path);
  const auto m = file.metadata.find(kKey);
  CURV_CHECK(m != file.metadata.end(), path, ": expected a Laplace posterior (metadata '", kKey,
             "'), found none");
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(m->second);
  } catch (const std::exception& e) {
    fail(path, ": expected the posterior's metadata as JSON, found: ", e.what());
  }
  auto tensor = [&](const std::string& name, Shape shape) {
    const auto t = file.tensors.find(name);
    CURV_CHECK(t != file.tensors.end(), path, ": expected tensor '", name, "', found none");
    CURV_CHECK(t->second.shape == shape, path, ": expected '", name, "' of shape ", shape.str(),
               ", found ", t->second.shape.str());
    return t->second.template as<double>(name);
  };
  StoredPosterior out;
  try {
    const std::string want = meta.at("weights_fingerprint").get<std::string>(),
                      found = hex(weights_fingerprint(model));
    CURV_CHECK(meta.at("parameters").get<index_t>() == model.params().size() && want == found, path,
               ": expected a posterior of these weights (", model.name(), ", ",
               model.params().size(), " parameters, fingerprint ", found, "), found one fitted at ",
               meta.at("model").get<std::string>(), " with ", meta.at("parameters").get<index_t>(),
               " parameters, fingerprint ", want);
    out.structure = meta.at("structure").get<std::string>();
    out.weights = meta.at("weights").get<std::string>();
    out.curvature = meta.at("curvature").get<std::string>();
    out.prior = meta.at("prior").get<std::string>();
    const ParamSubset subset = ParamSubset::parse(out.weights, model.params().info());
    const index_t S = meta.at("size").get<index_t>();
    CURV_CHECK(S == subset.size(), path, ": expected ", subset.size(), " weights for '",
               out.weights, "', found ", S);
    std::vector<PriorGroup> groups;
    for (const auto& g : meta.at("groups"))
      groups.push_back({g.at("name").get<std::string>(), g.at("begin").get<index_t>(),
                        g.at("size").get<index_t>()});
    std::unique_ptr<LinearOperator> C;
    if (out.structure == "kron") {
      std::vector<KroneckerBlock> blocks;
      for (std::size_t i = 0; i < meta.at("layers").size(); ++i) {
        const auto& l = meta.at("layers")[i];
        KfacLayer L;
        L.kind = l.at("kind").get<std::string>();
        L.weight_offset = l.at("weight_offset").get<index_t>();
        L.bias_offset = l.at("bias_offset").get<index_t>();
        L.out = l.at("out").get<index_t>(), L.in = l.at("in").get<index_t>();
        L.rows_per_example = l.at("rows_per_example").get<index_t>();
        const std::string at = "kron." + std::to_string(i) + ".";
        blocks.emplace_back(L, tensor(at + "A", Shape{L.din(), L.din()}),
                            tensor(at + "G", Shape{L.out, L.out}));
      }
      C = std::make_unique<KfacOperator>("kfac-" + out.curvature, subset, std::move(blocks));
    } else if (out.structure == "diag") {
      C = std::make_unique<DiagonalOperator>(tensor("diag", Shape{S}), "diag-" + out.curvature);
    } else if (out.structure == "full") {
      C = std::make_unique<DenseOperator>(tensor("full", Shape{S, S}), S, "full-" + out.curvature);
    } else if (out.structure == "lowrank") {
      const auto t = file.tensors.find("lowrank.U");
      CURV_CHECK(t != file.tensors.end(), path, ": expected tensor 'lowrank.U' (m, ", S,
                 "), found none");
      CURV_CHECK(t->second.shape.rank() == 2, path, ": expected 'lowrank.U' of shape (m, ", S,
                 "), found ", t->second.shape.str());
      const index_t rank = t->second.shape[0];
      C = std::make_unique<LowRankOperator>(tensor("lowrank.U", Shape{rank, S}), rank, S, 1.0,
                                            std::vector<double>{}, "lowrank-" + out.curvature);
    } else {
      fail(path, ": expected a structure among kron, diag, full, lowrank, found '", out.structure,
           "'");
    }
    out.posterior = std::make_unique<Posterior>(std::move(C), meta.at("n").get<double>(),
                                                tensor("theta", Shape{S}),
                                                meta.at("summed_loss").get<double>(), groups);
    if (meta.contains("noise"))
      out.posterior->set_noise(meta.at("noise").get<double>(), meta.at("outputs").get<index_t>());
    out.posterior->set_prior(tensor("prior", Shape{index_t(groups.size())}));
    if (meta.contains("mode_loss"))
      out.posterior->set_mode(tensor("mode", Shape{S}), meta.at("mode_loss").get<double>());
  } catch (const nlohmann::json::exception& e) {
    fail(path, ": expected the posterior's metadata fields, found: ", e.what());
  }
  return out;
}

template std::uint64_t weights_fingerprint(const Model<float>&);
template std::uint64_t weights_fingerprint(const Model<double>&);
template void save_posterior(const std::string&, Posterior&, const Model<float>&,
                             const std::string&, const std::string&, const std::string&,
                             const std::string&);
template void save_posterior(const std::string&, Posterior&, const Model<double>&,
                             const std::string&, const std::string&, const std::string&,
                             const std::string&);
template StoredPosterior load_posterior(const std::string&, const Model<float>&);
template StoredPosterior load_posterior(const std::string&, const Model<double>&);

}  // namespace curv::laplace
