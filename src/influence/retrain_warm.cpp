#include "curv/influence/retrain_warm.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

#include "curv/core/error.hpp"
#include "curv/data/batch_source.hpp"
#include "curv/influence/retrain.hpp"
#include "curv/loss/adapted.hpp"
#include "curv/nn/objective.hpp"
#include "curv/optim/registry.hpp"
#include "curv/train/loop.hpp"

namespace curv::influence {
namespace {

template <class T>
std::vector<T> parameters(const Model<T>& model) {
  const ParamStore<T>& p = model.params();
  return std::vector<T>(p.data(), p.data() + p.size());
}

template <class T>
void set_parameters(Model<T>& model, const std::vector<T>& theta) {
  std::copy(theta.begin(), theta.end(), model.params().data());
}

template <class T>
double distance(const Model<T>& model, const std::vector<T>& theta) {
  const T* p = model.params().data();
  double s = 0;
  for (std::size_t i = 0; i < theta.size(); ++i) s += std::pow(double(p[i]) - double(theta[i]), 2);
  return std::sqrt(s);
}

void check_removed(const std::vector<index_t>& examples,
                   const std::vector<std::vector<index_t>>& removed, const char* what) {
  std::vector<index_t> sorted = examples;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < removed.size(); ++i) {
    CURV_CHECK(!removed[i].empty(), what, ": removed set ", i, " is empty");
    for (index_t n : removed[i])
      CURV_CHECK(std::binary_search(sorted.begin(), sorted.end(), n), what, ": removed set ", i,
                 " holds example ", n, ", which is not among the training examples");
  }
}

// Sums the parameters after each of the last `count` steps of `steps`.
template <class T>
class TailAverage final : public TrainHook<T> {
 public:
  TailAverage(index_t steps, index_t count) : first_(steps - count) {}
  void after_step(ParamStore<T>& p, Optimizer<T>&) override {
    if (step_++ < first_) return;
    sum_.resize(std::size_t(p.size()), 0.0);
    for (index_t i = 0; i < p.size(); ++i) sum_[std::size_t(i)] += double(p.data()[i]);
    ++count_;
  }
  // The parameters ← the mean of the summed iterates.
  void apply(ParamStore<T>& p) const {
    for (index_t i = 0; i < p.size(); ++i) p.data()[i] = T(sum_[std::size_t(i)] / double(count_));
  }

 private:
  index_t first_, step_ = 0, count_ = 0;
  std::vector<double> sum_;
};

// `steps` steps of `loop` at the options' fixed rate, ending at the tail average if asked.
template <class T>
void run(TrainLoop<T>& loop, const WarmOptions& o, WarmOutcomes& out) {
  TailAverage<T> tail(o.steps, o.average_last);
  if (o.average_last > 0) loop.add_hook(tail);
  for (index_t s = 0; s < o.steps; ++s) loop.step(o.lr);
  if (o.average_last > 0) tail.apply(loop.model().params());
  out.steps += o.steps, out.seconds += loop.seconds();
}

// The examples of a split with the model's outputs at θ* as their real targets (the anchors of
// the Bregman divergence); labels stay as the base split gives them.
template <class T>
class AnchoredSplit final : public Split<T> {
 public:
  AnchoredSplit(const Split<T>& base, std::vector<T> anchors, index_t outputs)
      : base_(base), anchors_(std::move(anchors)), C_(outputs) {}
  std::string name() const override { return base_.name() + "+anchors"; }
  index_t size() const override { return base_.size(); }
  Shape example_shape() const override { return base_.example_shape(); }
  void fill(std::span<const index_t> idx, Rng* rng, Batch<T>& b) const override {
    base_.fill(idx, rng, b);
    b.values = Tensor<T>(Shape{index_t(idx.size()), C_});
    for (std::size_t n = 0; n < idx.size(); ++n)
      std::copy_n(anchors_.begin() + std::ptrdiff_t(idx[n] * C_), C_,
                  b.values.data() + std::ptrdiff_t(n) * C_);
  }
  std::uint64_t fingerprint() const override {
    return fnv1a(anchors_.data(), anchors_.size() * sizeof(T), base_.fingerprint());
  }

 private:
  const Split<T>& base_;
  std::vector<T> anchors_;  // (split size, C); rows of examples not trained on stay 0
  index_t C_;
};

// R(θ) = −(1/N) Σ_{m∈R} ℓₘ(θ) at the model's parameters (which θ is): the removal term of the
// response function, its own recorded batch beside the loop's.
template <class T>
class RemovalTerm final : public Regularizer<T> {
 public:
  RemovalTerm(const Model<T>& model, const Split<T>& split, const std::vector<index_t>& removed,
              index_t total)
      : loss_(make_loss<T>(model.loss())),
        obj_(model, *loss_),
        batch_(std::move(collect_batches<T>(split, removed, index_t(removed.size()))[0])),
        scale_(-double(removed.size()) / double(total)) {}
  std::string name() const override { return "removal"; }
  double value(View<const T>) const override {
    return scale_ * obj_.set_batch(batch_.x, batch_.targets());
  }
  void gradient(View<const T> theta, std::vector<T>& g) const override {
    g.resize(std::size_t(theta.numel()));
    obj_.set_batch(batch_.x, batch_.targets());
    obj_.gradient(g.data());
    for (T& v : g) v *= T(scale_);
  }
  void curvature_mv(View<const T> theta, View<const T> v, std::vector<T>& out) const override {
    out.resize(std::size_t(theta.numel()));
    obj_.set_batch(batch_.x, batch_.targets());
    obj_.hvp(v.data, out.data());
    for (T& x : out) x *= T(scale_);
  }

 private:
  std::unique_ptr<Loss<T>> loss_;
  mutable Objective<T> obj_;
  Batch<T> batch_;
  double scale_;  // −|R|/N: the objective's mean over R times |R|, over N
};

template <class T>
std::unique_ptr<Optimizer<T>> sgd(const WarmOptions& o, double weight_decay) {
  SecondOrderConfig cfg;
  cfg.weight_decay = weight_decay;
  return make_optimizer<T>("sgd", o.lr, o.momentum, false, cfg);
}

void check_options(const WarmOptions& o, index_t examples, const char* what) {
  CURV_CHECK(o.steps >= 1, what, ": expected steps >= 1, found ", o.steps);
  CURV_CHECK(o.average_last >= 0 && o.average_last <= o.steps, what,
             ": expected the averaged tail in 0..", o.steps, " steps, found ", o.average_last);
  CURV_CHECK(o.batch >= 1 && o.batch <= examples, what, ": expected a batch in 1..", examples,
             ", found ", o.batch);
  CURV_CHECK(o.weight_decay >= 0 && o.damping >= 0, what,
             ": expected weight decay and damping >= 0, found ", o.weight_decay, " and ",
             o.damping);
}

}  // namespace

template <class T>
WarmOutcomes warm_leave_out(Model<T>& model, const Split<T>& split,
                            const std::vector<index_t>& examples,
                            const std::vector<std::vector<index_t>>& removed,
                            const Split<T>& query_split, const std::vector<index_t>& queries,
                            const Measurement& measurement, const WarmOptions& o,
                            const std::function<void(index_t)>& on_run) {
  const char* what = "warm leave-out";
  check_options(o, index_t(examples.size()), what);
  check_removed(examples, removed, what);
  const std::vector<T> start = parameters(model);
  WarmOutcomes out;
  std::vector<double> weights(std::size_t(split.size()), 1.0);
  // Run 0 is the full objective; run i + 1 leaves out removed[i].
  std::vector<double> reference;
  for (std::size_t i = 0; i <= removed.size(); ++i) {
    if (on_run) on_run(index_t(i));
    set_parameters(model, start);
    auto opt = sgd<T>(o, o.weight_decay);
    TrainLoop<T> loop(model, *opt, split, examples, o.batch, o.data_seed);
    if (i > 0)
      for (index_t n : removed[i - 1]) weights[std::size_t(n)] = 0;
    loop.set_example_weights(weights);
    run(loop, o, out);
    if (i > 0)
      for (index_t n : removed[i - 1]) weights[std::size_t(n)] = 1;
    std::vector<double> v = measurement_values(model, query_split, queries, measurement);
    if (i == 0) {
      out.drift = distance(model, start);
      reference = std::move(v);
      continue;
    }
    for (std::size_t q = 0; q < v.size(); ++q) v[q] -= reference[q];
    out.change.push_back(std::move(v));
  }
  set_parameters(model, start);
  return out;
}

template <class T>
WarmOutcomes bregman_response(Model<T>& model, const Split<T>& split,
                              const std::vector<index_t>& examples,
                              const std::vector<std::vector<index_t>>& removed,
                              const Split<T>& query_split, const std::vector<index_t>& queries,
                              const Measurement& measurement, const WarmOptions& o,
                              const std::function<void(index_t)>& on_run) {
  const char* what = "proximal Bregman response";
  check_options(o, index_t(examples.size()), what);
  check_removed(examples, removed, what);
  const std::vector<T> start = parameters(model);
  const index_t N = index_t(examples.size());

  // The anchors f(xₙ; θ*), recorded without training-time randomness.
  index_t C = 0;
  std::vector<T> anchors;
  {
    auto loss = make_loss<T>(model.loss());
    Objective<T> obj(model, *loss);
    for_each_batch<T>(split, examples, 512, [&](const Batch<T>& b) {
      obj.record(b.x.view());
      if (C == 0) {
        C = obj.outputs();
        anchors.assign(std::size_t(split.size() * C), T(0));
      }
      const View<const T> z = obj.output();
      for (std::size_t n = 0; n < b.indices.size(); ++n)
        std::copy_n(z.data + std::ptrdiff_t(n) * C, C,
                    anchors.begin() + std::ptrdiff_t(b.indices[n] * C));
    });
  }
  const AnchoredSplit<T> anchored(split, std::move(anchors), C);
  const std::vector<double> base = measurement_values(model, query_split, queries, measurement);
  // (λ/2)‖θ − θ*‖², λ = wd + damping: the proximal term, with the training objective's weight
  // decay (whose own Bregman divergence it is) folded in.
  const QuadraticRegularizer<T> proximal(
      std::vector<double>(std::size_t(start.size()), o.weight_decay + o.damping),
      std::vector<double>(start.begin(), start.end()), "proximal");

  WarmOutcomes out;
  for (std::size_t i = 0; i < removed.size(); ++i) {
    if (on_run) on_run(index_t(i));
    set_parameters(model, start);
    auto opt = sgd<T>(o, 0.0);
    TrainLoop<T> loop(model, *opt, anchored, examples, o.batch, o.data_seed);
    loop.set_loss(make_bregman_loss<T>(model.loss()));
    const RemovalTerm<T> removal(model, split, removed[i], N);
    loop.add_regularizer(proximal);
    loop.add_regularizer(removal);
    run(loop, o, out);
    out.drift = std::max(out.drift, distance(model, start));
    std::vector<double> v = measurement_values(model, query_split, queries, measurement);
    for (std::size_t q = 0; q < v.size(); ++q) v[q] -= base[q];
    out.change.push_back(std::move(v));
  }
  set_parameters(model, start);
  return out;
}

#define CURV_INSTANTIATE(T)                                                                       \
  template WarmOutcomes warm_leave_out(Model<T>&, const Split<T>&, const std::vector<index_t>&,   \
                                       const std::vector<std::vector<index_t>>&, const Split<T>&, \
                                       const std::vector<index_t>&, const Measurement&,           \
                                       const WarmOptions&, const std::function<void(index_t)>&);  \
  template WarmOutcomes bregman_response(                                                         \
      Model<T>&, const Split<T>&, const std::vector<index_t>&,                                    \
      const std::vector<std::vector<index_t>>&, const Split<T>&, const std::vector<index_t>&,     \
      const Measurement&, const WarmOptions&, const std::function<void(index_t)>&);
CURV_INSTANTIATE(float)
CURV_INSTANTIATE(double)
#undef CURV_INSTANTIATE

}  // namespace curv::influence
