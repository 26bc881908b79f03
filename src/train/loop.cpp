#include "curv/train/loop.hpp"

#include <chrono>
#include <cmath>

#include "curv/kernels/finite.hpp"
#include "curv/loss/adapted.hpp"
#include "curv/nn/objective.hpp"
#include "curv/optim/schedule.hpp"

namespace curv {
namespace {

// The first parameter whose gradient has a NaN or an infinity, by name ("" if none).
template <class T>
std::string first_non_finite(const ParamStore<T>& p) {
  const T* g = p.grad();
  if (all_finite(g, p.size())) return "";  // the common case, one parallel read
  for (const ParamInfo& info : p.info())
    for (index_t i = 0, n = info.shape.numel(); i < n; ++i)
      if (!std::isfinite(double(g[info.offset + i]))) return info.name;
  return "";
}

// The training draws: reshuffled every epoch, full batches, training-time randomness on.
template <class T>
BatchSource<T> training_source(const Split<T>& train, std::vector<index_t> examples, index_t batch,
                               std::uint64_t seed) {
  const index_t n = index_t(examples.size());
  CURV_CHECK(batch > 0 && batch <= n, "train: expected a batch size in 1..", n, ", found ", batch,
             " (", train.name(), ")");
  typename BatchSource<T>::Options o;
  o.batch = batch, o.shuffle = true, o.drop_last = true, o.draw = true, o.seed = seed;
  return BatchSource<T>(train, std::move(examples), o);
}

// Shard s of `shards` draws with its own stream; one shard is the unsharded draw.
std::uint64_t shard_seed(std::uint64_t seed, int s, int shards) {
  return shards == 1 ? seed : seed ^ (std::uint64_t(s + 1) * 0x9e3779b97f4a7c15ull);
}

}  // namespace

template <class T>
void MaskProjection<T>::apply(ParamStore<T>& p) const {
  CURV_CHECK(index_t(keep_.size()) == p.size(), "mask: expected ", p.size(),
             " entries (the parameter count), found ", keep_.size());
  T* theta = p.data();
  for (index_t i = 0; i < p.size(); ++i)
    if (!keep_[std::size_t(i)]) theta[i] = T(0);
}

template <class T>
void MaskProjection<T>::after_step(ParamStore<T>& p, Optimizer<T>& opt) {
  apply(p);
  opt.apply_mask(keep_);
}

template <class T>
TrainLoop<T>::TrainLoop(Model<T>& model, Optimizer<T>& opt, const Split<T>& train,
                        std::vector<index_t> examples, index_t batch, std::uint64_t seed,
                        double clip_norm)
    : model_(model),
      opt_(opt),
      examples_(std::move(examples)),
      batch_(batch),
      seed_(seed),
      clip_norm_(clip_norm),
      train_(train) {
  sources_.push_back(training_source(train, examples_, batch, seed));
  loss_ = make_loss<T>(model.loss());
  rebuild_objective();
}

template <class T>
void TrainLoop<T>::set_shards(int shards, GradientExchange<T>* exchange) {
  CURV_CHECK(step_ == 0, "train: expected shards set before the first step, found step ", step_);
  CURV_CHECK(shards >= 1, "train: expected at least one shard, found ", shards);
  CURV_CHECK(!exchange || exchange->shards() == shards, "train: expected ", shards,
             " shards from the exchange, found ", exchange ? exchange->shards() : 0);
  CURV_CHECK(batch_ % shards == 0, "train: expected a batch divisible by the ", shards,
             " shards (processes), found --batch ", batch_);
  // The rule's own reads of the batch (K-FAC's statistics, its quadratic model) would see one
  // shard: they need their own sums (distributed K-FAC).
  CURV_CHECK(!exchange || exchange->shards() == 1 || !opt_.reads_batch() || opt_.distributed(),
             "train: expected an optimizer that reads only the gradient, or one distributed ",
             "(Optimizer::distribute), in a data-parallel run, found ", opt_.name(),
             ", whose statistics of the batch are not summed across processes");
  // B <= n (the constructor's check) gives B/shards <= n/shards: every shard has a batch.
  const index_t part = index_t(examples_.size()) / shards, b = batch_ / shards;
  sources_.clear();
  exchange_ = exchange;
  for (int s = 0; s < shards; ++s) {
    if (exchange && s != exchange->shard()) continue;
    const auto first = examples_.begin() + std::ptrdiff_t(s) * part;
    sources_.push_back(training_source(train_, std::vector<index_t>(first, first + part), b,
                                       shard_seed(seed_, s, shards)));
  }
}

template <class T>
const Batch<T>& TrainLoop<T>::draw() {
  if (sources_.size() == 1) {
    const Batch<T>& b = sources_[0].next();
    last_state_ = sources_[0].last_fill_state();
    return b;
  }
  std::vector<const Batch<T>*> parts;
  for (BatchSource<T>& src : sources_) parts.push_back(&src.next());
  last_state_ = sources_[0].last_fill_state();
  join_batches<T>(parts, joined_);
  return joined_;
}

template <class T>
void TrainLoop<T>::rebuild_objective() {
  obj_ = std::make_unique<Objective<T>>(model_, *loss_);
  obj_->set_regularizers(regularizers_);
}

template <class T>
void TrainLoop<T>::set_example_weights(std::vector<double> weights) {
  CURV_CHECK(index_t(weights.size()) == train_.size(), "train: expected ", train_.size(),
             " example weights (one per example of ", train_.name(), "), found ", weights.size());
  for (double w : weights)
    CURV_CHECK(std::isfinite(w) && w >= 0,
               "train: expected example weights finite and >= 0, found ", w);
  if (!weighted_) {
    auto w = std::make_unique<WeightedLoss<T>>(std::move(loss_));
    weighted_ = w.get();
    loss_ = std::move(w);
    rebuild_objective();
  }
  example_weights_ = std::move(weights);
}

template <class T>
void TrainLoop<T>::set_loss(std::unique_ptr<Loss<T>> loss) {
  CURV_CHECK(loss != nullptr, "train: expected a loss, found none");
  if (weighted_) {
    auto w = std::make_unique<WeightedLoss<T>>(std::move(loss));
    weighted_ = w.get();
    loss = std::move(w);
  }
  loss_ = std::move(loss);
  rebuild_objective();
}

template <class T>
TrainLoop<T>::~TrainLoop() = default;

template <class T>
void TrainLoop<T>::add_regularizer(const Regularizer<T>& r) {
  regularizers_.push_back(&r);
  obj_->set_regularizers(regularizers_);
}

template <class T>
void TrainLoop<T>::add_hook(TrainHook<T>& h) {
  hooks_.push_back(&h);
}

template <class T>
std::size_t TrainLoop<T>::activation_bytes() const {
  return obj_->tape().memory_bytes();
}

template <class T>
double TrainLoop<T>::step(double lr) {
  const auto t0 = std::chrono::steady_clock::now();
  const double l = run_step(draw(), lr);
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return l;
}

template <class T>
double TrainLoop<T>::replay_step(std::span<const index_t> idx, const Rng::State& s, double lr) {
  CURV_CHECK(shards() == 1, "train: expected an unsharded run to replay a step, found ", shards(),
             " shards");
  const auto t0 = std::chrono::steady_clock::now();
  sources_[0].fill(idx, s, replayed_);
  last_state_ = s;
  const double l = run_step(replayed_, lr);
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return l;
}

template <class T>
double TrainLoop<T>::recorded_loss(const Batch<T>& b) {
  // Dropout masks are drawn while the batch is recorded, from a stream keyed by the batch's draw
  // state and its examples (the state alone repeats within an epoch when nothing else draws), so
  // a replayed step (replay_step) draws the same ones. The backward sweeps reuse the recording;
  // the optimizer's own extra passes (qmodel's ρ, --stats-examples) run without dropout.
  std::uint64_t key = 0x64726f706f7574ull;  // "dropout"
  for (index_t i : b.indices) key = key * 0x9e3779b97f4a7c15ull + std::uint64_t(i) + 1;
  Rng masks;
  masks.set_state(last_state_);
  masks = masks.split(key);
  struct Recording {
    Model<T>& model;
    ~Recording() { model.set_training_rng(nullptr); }
  } recording{model_};
  model_.set_training_rng(&masks);
  if (weighted_) {
    std::vector<T> w(b.indices.size());
    for (std::size_t n = 0; n < w.size(); ++n)
      w[n] = T(example_weights_[std::size_t(b.indices[n])]);
    weighted_->set_weights(std::move(w));
  }
  return obj_->set_batch(b.x, b.targets());
}

template <class T>
double TrainLoop<T>::run_step(const Batch<T>& b, double lr) {
  last_ = &b;
  ParamStore<T>& p = model_.params();
  double l = recorded_loss(b);
  opt_.attach(*obj_);
  if (exchange_) {  // this process's shard, summed with the others' as the sweep goes
    exchange_->begin(obj_->tape(), p.grad(), p.size());
    obj_->gradient(p.grad(), opt_.observes_gradient(),
                   [this](std::size_t j) { exchange_->after_node(j); });
    l = exchange_->finish(l);
  } else {
    obj_->gradient(p.grad(), opt_.observes_gradient());
  }
  // Checked after the sum, which every process then sees alike: none stops alone.
  CURV_CHECK(std::isfinite(l), "train: expected a finite loss, found ", l, " at step ", step_ + 1);
  const std::string bad = first_non_finite(p);
  CURV_CHECK(bad.empty(), "train: expected finite gradients, found a non-finite one in ", bad,
             " at step ", step_ + 1);
  const View<const T> theta(p.data(), Shape{p.size()});
  for (const Regularizer<T>* r : regularizers_) {
    l += r->value(theta);
    r->gradient(theta, reg_grad_);
    CURV_CHECK(index_t(reg_grad_.size()) == p.size(), "regularizer '", r->name(),
               "': expected a gradient of ", p.size(), " entries, found ", reg_grad_.size());
    T* g = p.grad();
    for (index_t i = 0; i < p.size(); ++i) g[i] += reg_grad_[std::size_t(i)];
  }
  if (!regularizers_.empty())
    CURV_CHECK(std::isfinite(l), "train: expected a finite regularized loss, found ", l,
               " at step ", step_ + 1);
  if (clip_norm_ > 0) clip_grad_norm(p.grad(), p.size(), clip_norm_);
  for (TrainHook<T>* h : hooks_) h->before_step(p, opt_);
  opt_.set_lr(lr);
  opt_.step(p);
  for (TrainHook<T>* h : hooks_) h->after_step(p, opt_);
  if (p.masked()) {  // the store's pruning mask: pruned weights and their state stay at zero
    p.apply_mask();
    opt_.apply_mask(p.mask());
  }
  ++step_;
  return l;
}

template class TrainLoop<float>;
template class TrainLoop<double>;
template class MaskProjection<float>;
template class MaskProjection<double>;

}  // namespace curv
