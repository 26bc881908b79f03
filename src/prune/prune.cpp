#include "curv/prune/prune.hpp"

#include <chrono>
#include <cmath>
#include <limits>

#include "curv/core/error.hpp"
#include "curv/core/memory.hpp"
#include "curv/curvature/gradients.hpp"
#include "curv/curvature/kfac.hpp"
#include "curv/curvature/model_operators.hpp"
#include "curv/prune/obs.hpp"

namespace curv {

std::vector<std::string> prune_methods() {
  return {"magnitude", "obd", "obs-dense", "woodfisher", "mfac", "kfac-obs"};
}

void check_prune_options(const PruneOptions& o) {
  std::string known;
  bool found = false;
  for (const auto& m : prune_methods()) {
    known += (known.empty() ? "" : ", ") + m;
    found = found || m == o.method;
  }
  CURV_CHECK(found, "unknown pruning method '", o.method, "': expected one of ", known);
  CURV_CHECK(o.sparsity >= 0 && o.sparsity < 1, "pruning: expected a sparsity in [0, 1), found ",
             o.sparsity);
  CURV_CHECK(o.block >= 1, "pruning: expected a block size >= 1, found ", o.block);
  CURV_CHECK(o.grads >= 1, "pruning: expected at least 1 gradient (m), found ", o.grads);
  CURV_CHECK(o.recomputations >= 1, "pruning: expected at least 1 recomputation, found ",
             o.recomputations);
  const bool obs = o.method != "magnitude" && o.method != "obd";
  CURV_CHECK(!obs || (std::isfinite(o.damping) && o.damping > 0),
             "pruning: expected a damping λ > 0 for OBS, found ", o.damping);
  CURV_CHECK(!o.taylor || obs, "pruning: --taylor needs an OBS method, found '", o.method, "'");
  CURV_CHECK(!o.float32 || o.method == "mfac", "pruning: float32 is static M-FAC's (mfac), found '",
             o.method, "'");
  CURV_CHECK(o.kfac_damping == KfacDamping::Eigen || o.method == "kfac-obs",
             "pruning: factored damping is kfac-obs's, found '", o.method, "'");
  CURV_CHECK(o.kfac_pi || o.kfac_damping == KfacDamping::Factored,
             "pruning: turning π off needs factored K-FAC damping, found eigen");
}

namespace {

struct Layer {
  std::string name;
  index_t begin, size;  // in the prunable vector
};

// The prunable parameters: weights of linear and conv2d layers (rank >= 2, named *.weight).
template <class T>
std::vector<Layer> prunable_layers(const ParamStore<T>& ps) {
  std::vector<Layer> layers;
  index_t at = 0;
  for (const ParamInfo& p : ps.info())
    if (p.shape.rank() >= 2 && p.name.size() > 7 && p.name.ends_with(".weight")) {
      layers.push_back({p.name, at, p.shape.numel()});
      at += p.shape.numel();
    }
  return layers;
}

template <class T>
std::vector<double> obd_diagonal(Model<T>& model, const Split<T>& split,
                                 const std::vector<index_t>& examples, const ParamSubset& subset,
                                 const PruneOptions& o) {
  CurvatureData<T> data(model, split, examples, o.batch);
  const ModelCurvature kind = o.diagonal == FactorKind::GGN  ? ModelCurvature::GGN
                              : o.diagonal == FactorKind::EF ? ModelCurvature::EF
                                                             : ModelCurvature::Fisher;
  ModelOperator<T> op(data, kind, subset);
  return op.diagonal();
}

// m per-example gradients over the subset, (m, d) stored as S (float64, or float32 for the
// float32 M-FAC), and their mean in float64 (∇L on the examples).
template <class S, class T, class Progress>
std::vector<S> gradients(const Model<T>& model, const Split<T>& split,
                         const std::vector<index_t>& examples, const std::string& subset,
                         index_t batch, std::vector<double>& mean, const Progress& progress) {
  GradientOptions g;
  g.subset = subset, g.batch = batch;
  GradientStream<T> s(model, split, examples, g);
  std::vector<S> G;
  reserve_large(G, std::size_t(s.examples() * s.columns()));
  progress("per-example gradients", 0, long(s.examples()));
  s.run([&](const GradientBlock<T>& b) {
    G.insert(G.end(), b.data, b.data + b.rows * b.columns);
    progress("per-example gradients", long(G.size()) / long(b.columns), long(s.examples()));
  });
  const index_t m = s.examples(), d = s.columns();
  mean.assign(std::size_t(d), 0.0);
  for (index_t i = 0; i < m; ++i)
    for (index_t j = 0; j < d; ++j)
      mean[std::size_t(j)] += double(G[std::size_t(i * d + j)]) / double(m);
  return G;
}

}  // namespace

template <class T>
PruneReport prune(Model<T>& model, const Split<T>& split, const std::vector<index_t>& examples,
                  const PruneOptions& o) {
  check_prune_options(o);
  const auto t0 = std::chrono::steady_clock::now();
  ParamStore<T>& ps = model.params();
  std::string names;
  const std::vector<Layer> layers = prunable_layers(ps);
  std::vector<index_t> flat;  // entry j of the prunable vector is entry flat[j] of θ
  for (const Layer& L : layers) {
    names += (names.empty() ? "" : ",") + L.name;
    const index_t offset = ps.info(ps.find(L.name)).offset;
    for (index_t i = 0; i < L.size; ++i) flat.push_back(offset + i);
  }
  const auto d = index_t(flat.size());
  CURV_CHECK(d > 0, model.name(), ": expected linear or conv2d weights to prune, found none");
  const ParamSubset subset = ParamSubset::parse(names, ps.info());
  const index_t P = ps.size();
  std::vector<std::uint8_t> keep =
      ps.mask().empty() ? std::vector<std::uint8_t>(std::size_t(P), 1) : ps.mask();
  std::vector<double> w(static_cast<std::size_t>(d));
  std::vector<std::uint8_t> kept(static_cast<std::size_t>(d));
  auto read = [&] {
    for (index_t j = 0; j < d; ++j)
      w[std::size_t(j)] = double(ps.data()[flat[std::size_t(j)]]),
      kept[std::size_t(j)] = keep[std::size_t(flat[std::size_t(j)])] != 0;
  };
  read();
  index_t pruned0 = 0;
  for (auto k : kept) pruned0 += k ? 0 : 1;
  const double s0 = double(pruned0) / double(d);
  std::vector<index_t> layer_sizes;
  for (const Layer& L : layers) layer_sizes.push_back(L.size);
  const std::vector<index_t> grad_examples(
      examples.begin(),
      examples.begin() + std::min<std::size_t>(examples.size(), std::size_t(o.grads)));
  CURV_CHECK(!grad_examples.empty() || o.method == "magnitude",
             "pruning: expected examples for the curvature, found none");

  PruneReport report;
  for (index_t r = 1; r <= o.recomputations; ++r) {
    const std::string step =
        "step " + std::to_string(r) + "/" + std::to_string(o.recomputations) + ": ";
    const auto progress = [&](const std::string& what, long done, long total) {
      if (o.progress) o.progress(step + what, done, total);
    };
    const double frac = 1.0 - double(r) / double(o.recomputations);
    const double target = std::max(s0, o.sparsity + (s0 - o.sparsity) * frac * frac * frac);
    read();
    std::vector<double> scores, g;
    // kfac-obs: fresh blocks, and the factored-damped blocks F⁻¹ is then read from.
    std::unique_ptr<KfacOperator> kfac, damped;
    std::unique_ptr<FisherInverse> F;
    if (o.method == "magnitude") {
      scores = magnitude_scores(w);
    } else if (o.method == "obd") {
      progress("the exact diagonal", 0, 0);
      scores = obd_scores(w, obd_diagonal(model, split, grad_examples, subset, o));
    } else if (o.method == "kfac-obs") {
      // K-FAC blocks of the layers whose weights are pruned (weights and biases): given (an
      // optimizer's running factors), or estimated on the same examples with the output factor
      // of --factors (ef: it approximates the F above).
      KfacOperator* K = o.kfac;
      if (!K) {
        CurvatureData<T> data(model, split, grad_examples, o.batch);
        std::string layer_names;
        for (const Layer& L : layers) {
          if (!layer_names.empty()) layer_names += ',';
          layer_names.append(L.name, 0, L.name.size() - 7);  // the layer: NAME of NAME.weight
        }
        KfacOptions ko;
        ko.factors = o.diagonal;
        progress("K-FAC factors", 0, 0);
        kfac = make_kfac(data, ParamSubset::parse(layer_names, ps.info()), ko);
        K = kfac.get();
      }
      std::vector<index_t> positions;  // the prunable weights within K's vector
      index_t at = 0, covered = 0;
      for (const std::string& name : K->subset().names()) {
        const ParamInfo& p = ps.info(ps.find(name));
        if (subset.contains(p.offset)) {
          for (index_t i = 0; i < p.shape.numel(); ++i) positions.push_back(at + i);
          ++covered;
        }
        at += p.shape.numel();
      }
      CURV_CHECK(covered == index_t(layers.size()), "kfac-obs: expected K-FAC blocks over all ",
                 layers.size(), " pruned layers, found ", covered, " in ", K->name());
      progress("inverting the blocks", 0, 0);
      if (o.kfac_damping == KfacDamping::Factored) {  // λ is part of the blocks' factors
        damped = factored_damping(*K, o.damping, o.kfac_pi);
        F = kfac_fisher_inverse(*damped, std::move(positions), 0.0);
      } else {
        F = kfac_fisher_inverse(*K, std::move(positions), o.damping);
      }
      if (o.taylor) {
        gradients<double>(model, split, grad_examples, names, o.batch, g, progress);
        scores = woodtaylor_scores(w, g, *F);
      } else {
        scores = obs_scores(w, *F);
      }
    } else {
      const auto m = index_t(grad_examples.size());
      if (o.method == "mfac" && o.float32) {
        auto G = gradients<float>(model, split, grad_examples, names, o.batch, g, progress);
        progress("inverting F", 0, 0);
        F = mfac_fisher_inverse(std::move(G), m, d, o.damping);
      } else {
        std::vector<double> G =
            gradients<double>(model, split, grad_examples, names, o.batch, g, progress);
        progress("inverting F", 0, 0);
        F = o.method == "obs-dense" ? dense_fisher_inverse(G, m, d, o.damping)
            : o.method == "woodfisher"
                ? (o.layer_blocks ? block_fisher_inverse(G, m, d, o.damping, layer_sizes)
                                  : block_fisher_inverse(G, m, d, o.damping, o.block))
                : mfac_fisher_inverse(std::move(G), m, d, o.damping);
      }
      scores = o.taylor ? woodtaylor_scores(w, g, *F) : obs_scores(w, *F);
    }
    progress("removing weights", 0, 0);
    if (r == 1) {
      report.first_scores.assign(std::size_t(P), std::numeric_limits<double>::infinity());
      for (index_t j = 0; j < d; ++j)
        report.first_scores[std::size_t(flat[std::size_t(j)])] = scores[std::size_t(j)];
    }
    // The weights to remove now: the lowest scores among those still kept, globally or per layer.
    std::vector<index_t> Q;
    if (o.per_layer) {
      for (const Layer& L : layers) {
        std::vector<double> ls(scores.begin() + L.begin, scores.begin() + L.begin + L.size);
        std::vector<std::uint8_t> le(kept.begin() + L.begin, kept.begin() + L.begin + L.size);
        index_t have = 0;
        for (auto k : le) have += k ? 0 : 1;
        const auto want = index_t(std::llround(target * double(L.size)));
        for (index_t q : lowest_scores(ls, std::max<index_t>(0, want - have), le))
          Q.push_back(L.begin + q);
      }
    } else {
      index_t have = 0;
      for (auto k : kept) have += k ? 0 : 1;
      const auto want = index_t(std::llround(target * double(d)));
      Q = lowest_scores(scores, std::max<index_t>(0, want - have), kept);
    }
    std::vector<double> after = w;
    if (F) after = o.taylor ? woodtaylor_update(w, g, Q, *F) : woodfisher_update(w, Q, *F);
    for (index_t q : Q) after[std::size_t(q)] = 0, kept[std::size_t(q)] = 0;
    // Weights pruned before stay exactly zero whatever the correction proposed.
    for (index_t i = 0; i < d; ++i)
      if (!kept[std::size_t(i)]) after[std::size_t(i)] = 0;
    for (index_t j = 0; j < d; ++j) {
      const index_t i = flat[std::size_t(j)];
      ps.data()[i] = T(after[std::size_t(j)]);
      keep[std::size_t(i)] = kept[std::size_t(j)];
    }
    ps.set_mask(keep);
  }
  index_t zeros = 0;
  for (const Layer& L : layers) {
    index_t z = 0;
    for (index_t i = L.begin; i < L.begin + L.size; ++i) z += kept[std::size_t(i)] ? 0 : 1;
    report.layer_sparsity.emplace_back(L.name, double(z) / double(L.size));
    zeros += z;
  }
  report.sparsity = double(zeros) / double(d);
  report.keep = keep;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

template <class T>
Sparsity prunable_sparsity(const ParamStore<T>& ps) {
  Sparsity out;
  index_t zeros = 0, total = 0;
  for (const Layer& L : prunable_layers(ps)) {
    const index_t z = ps.masked_count(ps.find(L.name));
    out.layers.emplace_back(L.name, double(z) / double(L.size));
    zeros += z, total += L.size;
  }
  out.global = total > 0 ? double(zeros) / double(total) : 0.0;
  return out;
}

template Sparsity prunable_sparsity(const ParamStore<float>&);
template Sparsity prunable_sparsity(const ParamStore<double>&);
template PruneReport prune(Model<float>&, const Split<float>&, const std::vector<index_t>&,
                           const PruneOptions&);
template PruneReport prune(Model<double>&, const Split<double>&, const std::vector<index_t>&,
                           const PruneOptions&);

}  // namespace curv
