#include "curv/curvature/kfac.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

#include "curv/core/error.hpp"
#include "curv/curvature/kfac_statistics.hpp"

namespace curv {

KfacOperator::KfacOperator(std::string name, ParamSubset subset, std::vector<KroneckerBlock> blocks)
    : LinearOperator(subset.size()),
      name_(std::move(name)),
      subset_(std::move(subset)),
      blocks_(std::move(blocks)) {
  // Where each parameter of the subset starts in the subset vector, and who covers it.
  const auto& ranges = subset_.ranges();
  std::vector<index_t> start(ranges.size());
  std::vector<bool> covered(ranges.size(), false);
  for (std::size_t r = 0, s = 0; r < ranges.size(); s += std::size_t(ranges[r].size), ++r)
    start[r] = index_t(s);
  auto place_of = [&](index_t offset, index_t size) -> index_t {
    for (std::size_t r = 0; r < ranges.size(); ++r)
      if (ranges[r].offset == offset && ranges[r].size == size && !covered[r]) {
        covered[r] = true;
        return start[r];
      }
    fail(name_, ": a layer's parameter at offset ", offset, " (", size,
         " entries) is not one parameter of the subset");
  };
  for (const auto& b : blocks_) {
    const KfacLayer& L = b.layer();
    Place p;
    p.w = place_of(L.weight_offset, L.out * L.in);
    if (L.bias_offset >= 0) p.b = place_of(L.bias_offset, L.out);
    places_.push_back(p);
  }
  for (std::size_t r = 0; r < ranges.size(); ++r)
    CURV_CHECK(covered[r], name_,
               " covers the weights and biases of linear and conv2d layers; parameter '",
               subset_.names()[r],
               "' is not one: restrict the subset to such layers (e.g. --subset last)");
}

void KfacOperator::gather(std::size_t i, const double* v, double* V) const {
  const KfacLayer& L = blocks_[i].layer();
  const index_t din = L.din();
  for (index_t o = 0; o < L.out; ++o) {
    std::copy(v + places_[i].w + o * L.in, v + places_[i].w + (o + 1) * L.in, V + o * din);
    if (places_[i].b >= 0) V[o * din + L.in] = v[places_[i].b + o];
  }
}

void KfacOperator::scatter(std::size_t i, const double* V, double* out) const {
  const KfacLayer& L = blocks_[i].layer();
  const index_t din = L.din();
  for (index_t o = 0; o < L.out; ++o) {
    std::copy(V + o * din, V + o * din + L.in, out + places_[i].w + o * L.in);
    if (places_[i].b >= 0) out[places_[i].b + o] = V[o * din + L.in];
  }
}

void KfacOperator::blockwise(
    const double* v, double* out,
    const std::function<void(KroneckerBlock&, const double*, double*)>& apply) {
  for (std::size_t i = 0; i < blocks_.size(); ++i) {
    block_in_.resize(std::size_t(blocks_[i].layer().size())), block_out_.resize(block_in_.size());
    gather(i, v, block_in_.data());
    apply(blocks_[i], block_in_.data(), block_out_.data());
    scatter(i, block_out_.data(), out);
  }
}

void KfacOperator::mv(const double* v, double* out) {
  blockwise(v, out, [](KroneckerBlock& b, const double* x, double* y) { b.mv(x, y); });
}

void KfacOperator::inverse_mv(const double* v, double damping, double* out) {
  CURV_CHECK(damping >= 0, name_, ": expected a damping >= 0, found ", damping);
  blockwise(v, out,
            [&](KroneckerBlock& b, const double* x, double* y) { b.inverse_mv(x, damping, y); });
}

void KfacOperator::inverse_root_mv(const double* v, double damping, double* out) {
  CURV_CHECK(damping >= 0, name_, ": expected a damping >= 0, found ", damping);
  blockwise(v, out, [&](KroneckerBlock& b, const double* x, double* y) {
    b.inverse_root_mv(x, damping, y);
  });
}

std::vector<double> KfacOperator::diagonal() {
  std::vector<double> d(static_cast<std::size_t>(size()));
  for (std::size_t i = 0; i < blocks_.size(); ++i) {
    std::vector<double> D(std::size_t(blocks_[i].layer().size()));
    blocks_[i].diagonal(D.data());
    scatter(i, D.data(), d.data());
  }
  return d;
}

std::vector<double> KfacOperator::inverse_diagonal(double damping) {
  CURV_CHECK(damping >= 0, name_, ": expected a damping >= 0, found ", damping);
  std::vector<double> d(static_cast<std::size_t>(size()));
  for (std::size_t i = 0; i < blocks_.size(); ++i) {
    std::vector<double> D(std::size_t(blocks_[i].layer().size()));
    blocks_[i].inverse_diagonal(damping, D.data());
    scatter(i, D.data(), d.data());
  }
  return d;
}

double KfacOperator::trace() {
  double t = 0;
  for (auto& b : blocks_) t += b.trace();
  return t;
}

double KfacOperator::logdet(double damping) {
  CURV_CHECK(damping >= 0, name_, ": expected a damping >= 0, found ", damping);
  double l = 0;
  for (auto& b : blocks_) l += b.logdet(damping);
  return l;
}

Eigenpairs KfacOperator::eigendecomposition() {
  // Block i's eigenvectors are Q_G[:,o] ⊗ Q_A[:,i] in Ŵ's layout, with eigenvalue S[o,i].
  std::vector<double> values;
  std::vector<std::vector<double>> vectors;
  for (std::size_t i = 0; i < blocks_.size(); ++i) {
    KroneckerBlock& b = blocks_[i];
    const index_t din = b.layer().din(), O = b.layer().out;
    const std::vector<double> s = b.scaling();
    const auto& QA = b.eigenvectors_A();
    const auto& QG = b.eigenvectors_G();
    std::vector<double> V(static_cast<std::size_t>(O * din));
    for (index_t o = 0; o < O; ++o)
      for (index_t a = 0; a < din; ++a) {
        for (index_t p = 0; p < O; ++p)
          for (index_t q = 0; q < din; ++q) V[p * din + q] = QG[p * O + o] * QA[q * din + a];
        std::vector<double> full(std::size_t(size()), 0.0);
        scatter(i, V.data(), full.data());
        values.push_back(s[o * din + a]);
        vectors.push_back(std::move(full));
      }
  }
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), std::size_t(0));
  std::sort(order.begin(), order.end(), [&](auto x, auto y) { return values[x] < values[y]; });
  Eigenpairs e;
  for (auto j : order) e.values.push_back(values[j]), e.vectors.push_back(std::move(vectors[j]));
  return e;
}

std::unique_ptr<KfacOperator> KfacOperator::shifted(double scale, const std::vector<double>& d,
                                                    std::string* why) const {
  CURV_CHECK(index_t(d.size()) == size(), name_, ": expected a diagonal of ", size(),
             " entries to add, found ", d.size());
  CURV_CHECK(scale > 0, name_, ": expected a positive scale, found ", scale);
  std::vector<KroneckerBlock> blocks = blocks_;
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    std::vector<double> D(std::size_t(blocks[i].layer().size()));
    gather(i, d.data(), D.data());
    for (double x : D)
      if (x != D.front()) {
        if (why)
          *why = "the diagonal varies within the block of the layer at offset " +
                 std::to_string(blocks[i].layer().weight_offset) + " (" + std::to_string(x) +
                 " vs " + std::to_string(D.front()) + ")";
        return nullptr;
      }
    std::vector<double> S = blocks[i].scaling();
    for (double& s : S) s = scale * s + D.front();
    blocks[i].set_refit(std::move(S));
  }
  return std::make_unique<KfacOperator>(name_, subset_, std::move(blocks));
}

std::unique_ptr<KfacOperator> factored_damping(const KfacOperator& kfac, double gamma,
                                               bool pi_adjusted) {
  CURV_CHECK(std::isfinite(gamma) && gamma > 0,
             "kfac-factored: expected a factored damping γ > 0, found ", gamma);
  std::vector<KroneckerBlock> blocks;
  for (const KroneckerBlock& b : kfac.blocks()) {
    CURV_CHECK(!b.refitted(), "kfac-factored: ", kfac.name(),
               " has a re-fitted scaling and no factors to damp: use K-FAC blocks");
    const double pi = pi_adjusted ? b.pi() : 1.0, r = std::sqrt(gamma);
    std::vector<double> A = b.A(), G = b.G();
    const index_t din = b.layer().din(), out = b.layer().out;
    for (index_t i = 0; i < din; ++i) A[std::size_t(i * din + i)] += pi * r;
    for (index_t o = 0; o < out; ++o) G[std::size_t(o * out + o)] += r / pi;
    blocks.emplace_back(b.layer(), std::move(A), std::move(G));
  }
  return std::make_unique<KfacOperator>("kfac-factored", kfac.subset(), std::move(blocks));
}

namespace {

// Pulls every column of each batch's output factor back through the network with `observer`
// listening, as far down as the subset's earliest layer; begin(b) runs before batch b's sweeps,
// end_sweep() after each.
template <class T>
void factor_sweeps(CurvatureData<T>& data, const ParamSubset& subset, const KfacOptions& opt,
                   LayerObserver<T>& observer, const std::function<void(index_t)>& begin,
                   const std::function<void()>& end_sweep) {
  for (index_t b = 0; b < data.batches(); ++b) {
    const Tensor<T>& S = data.output_factor(b, opt.factors, opt.samples, opt.seed);
    const index_t N = S.shape()[0], C = S.shape()[1], K = S.shape()[2];
    Tensor<T> u(Shape{N, C});
    data.set_observer(b, &observer);
    begin(b);
    for (index_t k = 0; k < K; ++k) {
      for (index_t j = 0; j < N * C; ++j) u[j] = S[j * K + k];
      data.objective(b).pullback(u.data(), ParamGrad<T>::none(), true,
                                 [&](index_t offset) { return subset.contains(offset); });
      end_sweep();
    }
    data.set_observer(b, nullptr);
  }
}

}  // namespace

template <class T>
std::unique_ptr<KfacOperator> make_kfac(CurvatureData<T>& data, const ParamSubset& subset,
                                        const KfacOptions& opt) {
  data.check_current("kfac");
  KfacStatistics<T> stats(&subset);
  factor_sweeps<T>(
      data, subset, opt, stats, [&](index_t b) { stats.begin_batch(data.weight(b)); },
      [&] { stats.end_sweep(); });
  std::vector<KroneckerBlock> blocks;
  for (index_t i = 0; i < stats.layers(); ++i)
    blocks.emplace_back(stats.layer(i), stats.A(i), stats.G(i));
  std::sort(blocks.begin(), blocks.end(), [](const auto& x, const auto& y) {
    return x.layer().weight_offset < y.layer().weight_offset;
  });
  return std::make_unique<KfacOperator>("kfac", subset, std::move(blocks));
}

template <class T>
std::unique_ptr<KfacOperator> make_ekfac(CurvatureData<T>& data, const ParamSubset& subset,
                                         const KfacOptions& opt) {
  auto k = make_kfac(data, subset, opt);
  std::vector<KroneckerBlock*> basis;
  for (auto& b : k->blocks()) basis.push_back(&b);
  EkfacRefit<T> refit(basis);
  factor_sweeps<T>(
      data, subset, opt, refit, [&](index_t b) { refit.begin_batch(data.weight(b)); }, [] {});
  std::vector<KroneckerBlock> blocks;
  for (std::size_t i = 0; i < basis.size(); ++i) {
    blocks.push_back(std::move(k->blocks()[i]));
    blocks.back().set_refit(refit.scaling(index_t(i)));
  }
  return std::make_unique<KfacOperator>("ekfac", subset, std::move(blocks));
}

template std::unique_ptr<KfacOperator> make_kfac(CurvatureData<float>&, const ParamSubset&,
                                                 const KfacOptions&);
template std::unique_ptr<KfacOperator> make_kfac(CurvatureData<double>&, const ParamSubset&,
                                                 const KfacOptions&);
template std::unique_ptr<KfacOperator> make_ekfac(CurvatureData<float>&, const ParamSubset&,
                                                  const KfacOptions&);
template std::unique_ptr<KfacOperator> make_ekfac(CurvatureData<double>&, const ParamSubset&,
                                                  const KfacOptions&);

}  // namespace curv
