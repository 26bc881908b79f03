// The K-FAC family of optimizers (optim/second_order.hpp): K-FAC, EK-FAC and FOOF. Statistics
// come from KfacStatistics (and EkfacRefit) observing the step's own gradient sweep and, for the
// true Fisher, one more sweep seeded with sampled labels; preconditioning is per layer
// (kfac_preconditioner.hpp, through curvature/kronecker.hpp's products); the step is sized by one
// of step_rules.hpp's rules — the exact-curvature quadratic model, KL-clipped or plain momentum —
// with Adam on the parameters no layer covers.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <utility>

#include "curv/core/error.hpp"
#include "curv/curvature/kfac.hpp"
#include "curv/curvature/kfac_statistics.hpp"
#include "curv/kernels/gemm.hpp"
#include "curv/nn/objective.hpp"
#include "curv/optim/second_order.hpp"
#include "kfac_preconditioner.hpp"
#include "state.hpp"
#include "step_rules.hpp"

namespace curv {
namespace {

using detail::LayerPreconditioner;
using detail::Preconditioning;

template <class T>
class KfacFamily final : public Optimizer<T> {
 public:
  KfacFamily(std::string variant, double lr, SecondOrderConfig cfg)
      : variant_(std::move(variant)), cfg_(std::move(cfg)), rng_(cfg_.seed) {
    this->lr_ = base_lr_ = lr;
    CURV_CHECK(variant_ == "kfac" || variant_ == "ekfac" || variant_ == "foof",
               "expected optimizer kfac, ekfac or foof, found '", variant_, "'");
    CURV_CHECK(lr > 0, variant_, ": expected lr > 0, found ", lr);
    CURV_CHECK(cfg_.damping > 0 && cfg_.damping_min > 0, variant_,
               ": expected damping > 0 and a floor > 0, found ", cfg_.damping, " and ",
               cfg_.damping_min);
    CURV_CHECK(cfg_.weight_decay >= 0, variant_, ": expected weight decay >= 0, found ",
               cfg_.weight_decay);
    CURV_CHECK(cfg_.decay >= 0 && cfg_.decay < 1, variant_,
               ": expected a factor decay in [0, 1), found ", cfg_.decay);
    CURV_CHECK(cfg_.inverse_every >= 1, variant_, ": expected inverse_every >= 1, found ",
               cfg_.inverse_every);
    CURV_CHECK(cfg_.rescale == "qmodel" || cfg_.rescale == "kl" || cfg_.rescale == "none", variant_,
               ": expected rescale qmodel, kl or none, found '", cfg_.rescale, "'");
    CURV_CHECK(cfg_.momentum >= 0 && cfg_.momentum < 1, variant_,
               ": expected momentum in [0, 1), found ", cfg_.momentum);
    CURV_CHECK(cfg_.adapt_factor > 0 && cfg_.adapt_factor <= 1, variant_,
               ": expected an adaptation factor in (0, 1], found ", cfg_.adapt_factor);
    CURV_CHECK(cfg_.stats_examples >= 0, variant_,
               ": expected stats_examples >= 0 (0: the whole batch), found ", cfg_.stats_examples);
    CURV_CHECK(cfg_.qmodel_examples >= 0, variant_,
               ": expected qmodel_examples >= 0 (0: the whole batch), found ",
               cfg_.qmodel_examples);
    const bool factored = cfg_.kfac_damping == KfacDamping::Factored;
    kind_ = variant_ == "foof" ? Preconditioning::Foof
            : variant_ == "ekfac"
                ? (factored ? Preconditioning::EkfacFactored : Preconditioning::Ekfac)
            : factored ? Preconditioning::Factored
                       : Preconditioning::Eigen;
    stats_.set_collect_g(kind_ != Preconditioning::Foof);
    damping_ = {cfg_.damping,       cfg_.damping_min, cfg_.weight_decay,
                cfg_.adapt_damping, cfg_.adapt_every, cfg_.adapt_factor};
    rule_ = detail::make_step_rule<T>(cfg_);
  }

  std::string name() const override { return variant_; }
  double damping() const override { return damping_.lambda; }
  bool observes_gradient() const override { return true; }
  bool reads_batch() const override { return true; }

  // Distributed K-FAC, KAISA's way: the factors averaged across processes at every step, each
  // layer's refresh computed by one owner (layers dealt to the least-loaded process by the cost
  // of their decompositions, din³ + out³), then shared by the gradient-worker fraction.
  void distribute(StatisticsExchange& x) override {
    CURV_CHECK(k_ == 0, variant_, ": expected to be distributed before its first step");
    CURV_CHECK(!ekfac(), variant_, ": expected kfac or foof on several processes, found ", variant_,
               " (its re-fitted scaling is not summed across processes)");
    CURV_CHECK(cfg_.rescale != "qmodel", variant_, ": expected --rescale kl or none on several ",
               "processes, found qmodel (its quadratic model is not summed across processes)");
    CURV_CHECK(cfg_.stats_examples == 0, variant_, ": expected the statistics of the whole ",
               "batch on several processes, found --stats-examples ", cfg_.stats_examples);
    exchange_ = &x;
  }
  bool distributed() const override { return exchange_ != nullptr; }
  std::size_t state_bytes() const override {
    std::size_t b = rule_->bytes() + fallback_.bytes();
    for (index_t i = 0; i < stats_.layers(); ++i) {
      const auto& L = stats_.layer(i);
      b += (L.din() * L.din() + L.out * L.out) * sizeof(T) * 3;  // factors, and inverses or bases
    }
    return b;
  }

  void attach(Objective<T>& batch) override {
    obj_ = &batch;
    sub_n_ = 0;  // a new batch: the sub-batch is recorded again when needed
    ++k_;
    keep_ = std::min(1.0 - 1.0 / double(k_), cfg_.decay);
    batch.tape().set_observer(nullptr);
    stats_from_ =
        cfg_.stats_examples > 0 && cfg_.stats_examples < batch.examples() ? nullptr : &batch;
    if (!stats_from_) return;  // the statistics come from a sub-batch, in step()
    // The gradient's sweep gives A (and, for the empirical Fisher, G: ȳ = ∇ℓₙ/N, so g_scale = N).
    const bool own_sweeps = factor_sweeps();
    stats_.begin_batch(1.0 - keep_, double(batch.examples()), keep_);
    stats_.set_collect_g(!own_sweeps && kind_ != Preconditioning::Foof);
    batch.tape().set_observer(statistics_observer(!own_sweeps, double(batch.examples())));
  }

  OptimizerState<T> state() const override {
    OptimizerState<T> s;
    rule_->save(s);
    s.scalars["damping"] = damping_.lambda;
    s.complete = false;  // the factors, inverses and the fallback's moments are not part of it
    return s;
  }
  void load_state(const OptimizerState<T>&) override {
    fail(variant_, ": expected to start from empty factors, found a saved state to load (its ",
         "factors and inverses are not saved; replay the run from its start)");
  }
  void apply_mask(std::span<const std::uint8_t> keep) override {
    rule_->mask(keep);
    fallback_.mask(keep);
  }

  // The running factors as a KfacOperator over the covered layers (EK-FAC: the current basis
  // with its running scaling; FOOF: A ⊗ I).
  std::unique_ptr<LinearOperator> curvature() const override {
    CURV_CHECK(!layers_.empty(), variant_,
               ": no curvature estimated yet (expected at least one step, found none)");
    std::vector<KroneckerBlock> blocks;
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      const KfacLayer& L = layers_[i].layer();
      if (ekfac()) {
        blocks.push_back(blocks_[i]);
        blocks.back().set_refit(scaling_[i]);
      } else if (kind_ == Preconditioning::Foof) {
        std::vector<double> I(std::size_t(L.out * L.out), 0.0);
        for (index_t o = 0; o < L.out; ++o) I[std::size_t(o * L.out + o)] = 1;
        blocks.emplace_back(L, stats_.A(index_t(i)), std::move(I));
      } else {
        blocks.emplace_back(L, stats_.A(index_t(i)), stats_.G(index_t(i)));
      }
    }
    return std::make_unique<KfacOperator>(variant_, covered_, std::move(blocks));
  }

  std::vector<std::pair<std::string, double>> profile() const override {
    return {{"factor sweeps", seconds_[0]},
            {"inversion", seconds_[1]},
            {"preconditioning", seconds_[2]},
            {"rescaling", seconds_[3]}};
  }

  void step(ParamStore<T>& p) override {
    CURV_CHECK(obj_ != nullptr, variant_,
               ": step() needs the batch: call attach() before the gradient sweep");
    const index_t P = p.size();
    using clock = std::chrono::steady_clock;
    auto t = clock::now();
    auto lap = [&](int part) {
      const auto now = clock::now();
      seconds_[part] += std::chrono::duration<double>(now - t).count();
      t = now;
    };
    obj_->tape().set_observer(nullptr);
    if (!stats_from_)
      sub_batch_statistics();
    else if (factor_sweeps())
      output_factor_sweeps();
    // Each process's moving averages are the same before this step, so averaging them is
    // averaging this step's shard statistics: the global batch's.
    if (exchange_) stats_.for_each_factor([&](T* d, std::size_t n) { exchange_->average(d, n); });
    lap(0);
    if (layers_.empty()) discover(p);
    const bool refresh = (k_ - 1) % cfg_.inverse_every == 0;
    if (refresh)
      refresh_all();
    else if (refit_)
      update_scaling();
    lap(1);

    // ∇h = ∇L + ηθ, and Δ = −(F̂ + (λ+η)I)⁻¹ ∇h on the covered layers.
    grad_h_.resize(std::size_t(P)), delta_.assign(std::size_t(P), T(0));
    const T eta = T(cfg_.weight_decay);
    for (index_t i = 0; i < P; ++i) grad_h_[i] = p.grad()[i] + eta * p.data()[i];
    if (exchange_) {  // the gradient workers precondition, then send to the processes they serve
      for (std::size_t i = 0; i < layers_.size(); ++i)
        if (exchange_->preconditions(owner_[i])) precondition(layers_[i]);
      for (std::size_t i = 0; i < layers_.size(); ++i) share_step(layers_[i].layer(), owner_[i]);
    } else {
      for (auto& L : layers_) precondition(L);
    }
    // Adam on what no layer covers, at fallback_lr · lr/lr₀.
    fallback_.apply(p, grad_h_, cfg_.fallback_lr * this->lr_ / base_lr_);
    lap(2);
    Objective<T>& curvature = rule_->uses_curvature() ? curvature_batch() : *obj_;
    const detail::StepInput<T> in{p,         grad_h_,  delta_, *obj_,   curvature,
                                  this->lr_, base_lr_, k_,     variant_};
    if (rule_->apply(in, damping_))
      for (auto& L : layers_) L.set_shift(damping_.lambda + cfg_.weight_decay);
    lap(3);
    obj_ = nullptr;
  }

 private:
  std::vector<KroneckerBlock*> block_pointers() {
    std::vector<KroneckerBlock*> b;
    for (auto& x : blocks_) b.push_back(&x);
    return b;
  }

  bool ekfac() const {
    return kind_ == Preconditioning::Ekfac || kind_ == Preconditioning::EkfacFactored;
  }

  // Whether G needs sweeps of its own (exact or sampled output factors) rather than the
  // gradient's (empirical Fisher). FOOF has no G.
  bool factor_sweeps() const {
    return cfg_.factors != FactorKind::EF && kind_ != Preconditioning::Foof;
  }

  // G from the loss's square-root factor, one pullback per column: C columns of ∇²ℓₙ's square
  // root (exact, type-2) or one column of sampled labels (the true Fisher, Martens & Grosse).
  // A was taken from the gradient's sweep, unless `with_a` (a sub-batch's first sweep gives it).
  void output_factor_sweeps(bool with_a = false) {
    const Loss<T>& loss = stats_from_->loss_fn();
    const index_t N = loss.examples(), C = loss.outputs();
    const index_t K = cfg_.factors == FactorKind::GGN ? loss.sqrt_columns() : 1;
    factor_.resize(std::size_t(N * C * K));
    if (cfg_.factors == FactorKind::GGN)
      loss.sqrt_hessian(factor_.data());
    else
      loss.sampled_sqrt(rng_, 1, factor_.data());
    stats_.set_collect_g(true);
    stats_.set_g_scale(1.0);  // Sₙ Sₙᵀ = ∇²ℓₙ/N already carries the mean's 1/N
    if (!with_a) stats_.end_sweep();
    pull_factor_columns(statistics_observer(true, 1.0));
  }

  // The statistics of the batch's first stats_examples examples (the K-FAC paper's §8 estimates
  // them on part of each mini-batch): the sub-batch is recorded once more and swept on its own.
  void sub_batch_statistics() {
    stats_from_ = &sub_batch(cfg_.stats_examples);
    const double n = double(stats_from_->examples());
    stats_.begin_batch(1.0 - keep_, n, keep_);
    if (factor_sweeps()) return output_factor_sweeps(true);
    stats_.set_collect_g(kind_ != Preconditioning::Foof);
    gradient_sweep(statistics_observer(true, n));
  }

  // The factors' observer for a sweep, with EK-FAC's re-fit listening too when `with_refit`
  // (its scaling restarted, with the g_scale the sweep's seeds need).
  LayerObserver<T>* statistics_observer(bool with_refit, double refit_g_scale) {
    fan_ = {};
    fan_.first = &stats_;
    if (refit_ && with_refit) {
      refit_->clear();
      refit_->begin_batch(1.0, refit_g_scale);
      fan_.second = refit_.get();
    }
    return &fan_;
  }

  // The statistics' objective's gradient pulled back once more, observed (no parameter gradient).
  void gradient_sweep(LayerObserver<T>* observer) {
    const Loss<T>& loss = stats_from_->loss_fn();
    column_.resize(std::size_t(loss.examples() * loss.outputs()));
    loss.grad(column_.data());  // ∇ℓₙ/N: g_scale = N makes G the empirical Fisher's
    stats_from_->tape().set_observer(observer);
    stats_from_->pullback(column_.data(), ParamGrad<T>::none(), true);
    stats_from_->tape().set_observer(nullptr);
  }

  void pull_factor_columns(LayerObserver<T>* observer) {
    const Loss<T>& loss = stats_from_->loss_fn();
    const index_t N = loss.examples(), C = loss.outputs(), K = index_t(factor_.size()) / (N * C);
    column_.resize(std::size_t(N * C));
    stats_from_->tape().set_observer(observer);
    for (index_t k = 0; k < K; ++k) {
      for (index_t j = 0; j < N * C; ++j) column_[j] = factor_[j * K + k];
      stats_from_->pullback(column_.data(), ParamGrad<T>::none(), true);
      stats_.end_sweep();  // A from the first sweep only
    }
    stats_from_->tape().set_observer(nullptr);
  }

  // EK-FAC at a new basis: the scaling re-fitted in that basis on the sweeps that gave the
  // factors (the gradient's for ef, the factor columns otherwise), run once more. With
  // carry_scaling the running scaling survives the change of basis: the previous EK-FAC matrix's
  // diagonal in the new basis, averaged with this re-fit like the factors (weight keep_ on the
  // past). Without it the scaling restarts from this one batch.
  void refit_in_new_basis(std::vector<KroneckerBlock>& previous) {
    refit_ = std::make_unique<EkfacRefit<T>>(block_pointers());
    if (factor_sweeps()) {
      refit_->begin_batch(1.0, 1.0);
      pull_factor_columns(refit_.get());
    } else {
      refit_->begin_batch(1.0, double(stats_from_->examples()));
      gradient_sweep(refit_.get());
    }
    const bool carry = cfg_.carry_scaling && previous.size() == layers_.size();
    scaling_.resize(layers_.size());
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      std::vector<double> S = refit_->scaling(index_t(i));
      if (carry) {
        previous[i].set_refit(std::move(scaling_[i]));
        const std::vector<double> past = previous[i].diagonal_in(blocks_[i]);
        for (std::size_t j = 0; j < S.size(); ++j) S[j] = keep_ * past[j] + (1 - keep_) * S[j];
      }
      scaling_[i] = std::move(S);
      layers_[i].set_scaling(scaling_[i]);
    }
  }

  // The layers K-FAC covers (seen in the first sweep) and the parameters left to Adam.
  void discover(const ParamStore<T>& p) {
    std::vector<bool> covered(static_cast<std::size_t>(p.size()), false);
    for (index_t i = 0; i < stats_.layers(); ++i) {
      const KfacLayer& L = stats_.layer(i);
      layers_.emplace_back(L, kind_, cfg_.kfac_pi);
      for (index_t j = 0; j < L.out * L.in; ++j) covered[std::size_t(L.weight_offset + j)] = true;
      if (L.bias_offset >= 0)
        for (index_t j = 0; j < L.out; ++j) covered[std::size_t(L.bias_offset + j)] = true;
    }
    CURV_CHECK(!layers_.empty(), variant_,
               ": the model has no linear or conv2d layer to precondition");
    if (exchange_) deal_layers();
    std::vector<index_t> uncovered;
    for (index_t i = 0; i < p.size(); ++i)
      if (!covered[std::size_t(i)]) uncovered.push_back(i);
    fallback_.set_entries(std::move(uncovered));
    std::string names;
    for (const ParamInfo& info : p.info())
      if (covered[std::size_t(info.offset)]) names += (names.empty() ? "" : ",") + info.name;
    covered_ = ParamSubset::parse(names, p.info());
  }

  void refresh_all() {
    const double shift = damping_.lambda + cfg_.weight_decay;
    std::vector<KroneckerBlock> previous;  // EK-FAC: the bases the scaling was kept in
    if (ekfac()) refit_.reset(), previous = std::exchange(blocks_, {});
    auto refresh_owned = [&] {
      for (std::size_t i = 0; i < layers_.size(); ++i) {
        if (exchange_ && owner_[i] != exchange_->rank()) continue;
        std::vector<double> A = stats_.A(index_t(i)), G = stats_.G(index_t(i));
        LayerPreconditioner<T>::check_factors(layers_[i].layer(), A, G, k_, variant_);
        KroneckerBlock block(layers_[i].layer(), std::move(A), std::move(G));
        layers_[i].refresh(block, shift);
        if (ekfac()) blocks_.push_back(std::move(block));
      }
    };
    if (exchange_) {
      // A refresh that fails on its owner (non-finite factors) is thrown by every process,
      // rather than leaving the others waiting for what it would have sent.
      exchange_->agree(caught_error(refresh_owned));
      // The owner's refresh to the layer's other gradient workers.
      for (std::size_t i = 0; i < layers_.size(); ++i)
        if (exchange_->preconditions(owner_[i])) layers_[i].share(*exchange_, owner_[i], shift);
    } else {
      refresh_owned();
    }
    if (ekfac()) refit_in_new_basis(previous);
  }

  // EK-FAC: this step's re-fit, averaged into the scaling of the current basis.
  void update_scaling() {
    const double keep = cfg_.decay;
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      const std::vector<double>& fresh = refit_->scaling(index_t(i));
      for (std::size_t j = 0; j < fresh.size(); ++j)
        scaling_[i][j] = keep * scaling_[i][j] + (1 - keep) * fresh[j];
      layers_[i].set_scaling(scaling_[i]);
    }
  }

  void precondition(LayerPreconditioner<T>& L) {
    const KfacLayer& info = L.layer();
    const index_t din = info.din(), in = info.in;
    V_.resize(std::size_t(info.out * din)), D_.resize(V_.size());
    for (index_t o = 0; o < info.out; ++o) {
      std::copy(grad_h_.begin() + info.weight_offset + o * in,
                grad_h_.begin() + info.weight_offset + (o + 1) * in, V_.begin() + o * din);
      if (info.bias_offset >= 0) V_[o * din + in] = grad_h_[info.bias_offset + o];
    }
    L.apply(V_.data(), D_.data());
    for (index_t o = 0; o < info.out; ++o) {
      for (index_t j = 0; j < in; ++j) delta_[info.weight_offset + o * in + j] = -D_[o * din + j];
      if (info.bias_offset >= 0) delta_[info.bias_offset + o] = -D_[o * din + in];
    }
  }

  // Each layer to the process with the least decomposition work so far (largest first), the
  // same deal on every process.
  void deal_layers() {
    std::vector<std::size_t> order(layers_.size());
    std::vector<double> cost(layers_.size()), load(std::size_t(exchange_->processes()), 0.0);
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      const double din = double(layers_[i].layer().din()), out = double(layers_[i].layer().out);
      order[i] = i, cost[i] = din * din * din + out * out * out;
    }
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return cost[a] > cost[b]; });
    owner_.assign(layers_.size(), 0);
    for (std::size_t i : order) {
      const auto least = std::min_element(load.begin(), load.end()) - load.begin();
      owner_[i] = int(least), load[std::size_t(least)] += cost[i];
    }
  }

  // A gradient worker's preconditioned gradient of one layer (weight rows, bias) to the processes
  // it serves.
  void share_step(const KfacLayer& info, int owner) {
    exchange_->share_step(delta_.data() + info.weight_offset, std::size_t(info.out * info.in),
                          owner);
    if (info.bias_offset >= 0)
      exchange_->share_step(delta_.data() + info.bias_offset, std::size_t(info.out), owner);
  }

  // The batch's first n examples, recorded once more (at most once per step and size).
  Objective<T>& sub_batch(index_t n) {
    if (!sub_obj_) {
      sub_loss_ = make_loss<T>(obj_->loss_fn().name());
      sub_obj_ = std::make_unique<Objective<T>>(obj_->model(), *sub_loss_);
    }
    if (sub_n_ != n) sub_obj_->set_batch(obj_->inputs(n), obj_->targets(n)), sub_n_ = n;
    return *sub_obj_;
  }

  // The objective whose exact GGN sizes the step: the batch, or its first qmodel_examples.
  Objective<T>& curvature_batch() {
    const index_t n = cfg_.qmodel_examples;
    return n <= 0 || n >= obj_->examples() ? *obj_ : sub_batch(n);
  }

  std::string variant_;
  SecondOrderConfig cfg_;
  Preconditioning kind_;
  detail::Damping damping_{};
  std::unique_ptr<detail::StepRule<T>> rule_;
  detail::AdamFallback<T> fallback_;
  Rng rng_;
  Objective<T>* obj_ = nullptr;
  Objective<T>* stats_from_ = nullptr;  // this step's statistics' batch: obj_ or sub_obj_
  index_t k_ = 0, sub_n_ = 0;
  double keep_ = 0;  // this step's factor moving-average weight on the past
  double base_lr_;   // lr₀: the fallback rate is scaled by lr/lr₀
  double seconds_[4] = {0, 0, 0, 0};
  KfacStatistics<T> stats_;
  std::unique_ptr<EkfacRefit<T>> refit_;
  std::unique_ptr<Loss<T>> sub_loss_;  // statistics or qmodel on part of the batch
  std::unique_ptr<Objective<T>> sub_obj_;
  ObserverPair<T> fan_;
  std::vector<LayerPreconditioner<T>> layers_;
  std::vector<KroneckerBlock> blocks_;        // EK-FAC: the bases the re-fit works in
  std::vector<std::vector<double>> scaling_;  // EK-FAC: averaged scalings per layer
  ParamSubset covered_;                       // the parameters of the layers K-FAC covers
  std::vector<T> grad_h_, delta_, V_, D_, factor_, column_;
  StatisticsExchange* exchange_ = nullptr;  // distributed K-FAC's processes, if any
  std::vector<int> owner_;                  // the process refreshing each layer
};

}  // namespace

template <class T>
std::unique_ptr<Optimizer<T>> make_kfac_optimizer(const std::string& variant, double lr,
                                                  const SecondOrderConfig& cfg) {
  return std::make_unique<KfacFamily<T>>(variant, lr, cfg);
}

template std::unique_ptr<Optimizer<float>> make_kfac_optimizer<float>(const std::string&, double,
                                                                      const SecondOrderConfig&);
template std::unique_ptr<Optimizer<double>> make_kfac_optimizer<double>(const std::string&, double,
                                                                        const SecondOrderConfig&);

}  // namespace curv
