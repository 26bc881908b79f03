// Optimizer: one interface for every update rule, acting on the flat parameter vector and the
// flat gradient of the ParamStore. First-order rules live here; second-order ones (K-FAC,
// EK-FAC, FOOF, M-FAC) implement the same interface on top of the curvature toolkit.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "curv/nn/params.hpp"

namespace curv {

template <class T>
class Objective;
class LinearOperator;

// What an optimizer keeps between steps, as named flat buffers of the parameter count P
// (PyTorch's names where they exist: momentum_buffer, exp_avg, exp_avg_sq) and scalars (step):
// what a trajectory snapshot saves and a replay restores.
template <class T>
struct OptimizerState {
  std::map<std::string, std::vector<T>> buffers;
  std::map<std::string, double> scalars;
  // False when the optimizer keeps more than this (the K-FAC family's factors and inverses,
  // M-FAC's gradient window): a run can then be replayed from its start, not from a snapshot.
  bool complete = true;
};

// A data-parallel run's link for rules that read the batch (distributed/kfac_exchange.hpp):
// each process holds the statistics of its shard of every batch, of equal size, and these
// collectives make them the global batch's.
//
// Refreshes are split KAISA's way (Pauloski et al. 2021): each layer's is computed by one
// process, its owner; the layer's gradient workers, a fraction f of the processes that includes
// the owner, receive it and precondition the layer's gradient; every other process receives the
// preconditioned gradient from one of them. f = 1: every process preconditions every layer
// (communication-optimal); f = 1/R: the owner alone (memory-optimal); fractions between trade
// one for the other.
class StatisticsExchange {
 public:
  virtual ~StatisticsExchange() = default;
  virtual int processes() const = 0;
  virtual int rank() const = 0;
  // In place: the mean over the processes (equal shards: the global batch's mean).
  virtual void average(float* data, std::size_t n) = 0;
  virtual void average(double* data, std::size_t n) = 0;
  // Whether this process is a gradient worker of the layer whose refresh `owner` computes.
  virtual bool preconditions(int owner) const = 0;
  // Called by that layer's gradient workers only, in the same order on each: `owner`'s data to
  // all of them.
  virtual void share_refresh(float* data, std::size_t n, int owner) = 0;
  virtual void share_refresh(double* data, std::size_t n, int owner) = 0;
  // Called by every process, in the same order: the data of this process's gradient worker for
  // the layer `owner` refreshes (its preconditioned gradient) to this process.
  virtual void share_step(float* data, std::size_t n, int owner) = 0;
  virtual void share_step(double* data, std::size_t n, int owner) = 0;
  // Every process passes the error it met ("" for none); if any did, every process throws the
  // first one by rank as a curv::Error, so none is left waiting in a collective.
  virtual void agree(const std::string& error) = 0;
};

template <class T>
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual std::string name() const = 0;
  // Second-order rules see each step's batch. The training loop calls attach() after recording
  // the batch and before its gradient sweep, which notifies the tape's observer when
  // observes_gradient() is true (K-FAC statistics ride on that sweep); step() may then run
  // more products on the batch (a sampled Fisher sweep, G·v for the quadratic model, the loss
  // at the new parameters). First-order rules ignore both.
  virtual void attach(Objective<T>& /*batch*/) {}
  virtual bool observes_gradient() const { return false; }
  // Whether step() reads the batch beyond its gradient (attach): statistics that a
  // data-parallel run would have to sum across its processes too.
  virtual bool reads_batch() const { return false; }
  // Makes a rule that reads the batch sum its statistics across a data-parallel run's processes
  // (before the first step); one that cannot throws a curv::Error naming what it lacks. Rules
  // that read only the gradient need nothing and accept it.
  virtual void distribute(StatisticsExchange& exchange);
  virtual bool distributed() const { return false; }
  // θ ← update(θ, ∇L) using params.grad(); the learning rate may change between steps.
  virtual void step(ParamStore<T>& params) = 0;
  void set_lr(double lr) { lr_ = lr; }
  // Heavy-ball momentum, for rules that have one (sgd, lars) and a controller that sets it
  // during a run (spectra/rate_learner.hpp); the others throw a curv::Error naming the rule.
  virtual void set_momentum(double momentum);
  virtual double momentum() const { return 0; }
  // Bytes of state kept between steps (momentum, moments).
  virtual std::size_t state_bytes() const { return 0; }
  double lr() const { return lr_; }
  // The damping λ in use (second-order rules; 0 for first-order ones), for logs.
  virtual double damping() const { return 0; }
  // The state kept between steps, and its restoration (names and sizes must match what state()
  // gives; an optimizer whose state is incomplete refuses to load one).
  virtual OptimizerState<T> state() const { return {}; }
  virtual void load_state(const OptimizerState<T>& s);
  // Zeroes the entries with keep[i] == 0 of every per-parameter buffer (momentum, moments), so a
  // pruned weight's state cannot move it again; keep has the parameter count's entries.
  virtual void apply_mask(std::span<const std::uint8_t> keep) { (void)keep; }

  // The curvature the rule has estimated so far, as an operator on the parameters it covers, in
  // their flat-vector order: kfac, ekfac and foof give a KfacOperator over their layers from the
  // running factors (foof's G is the identity), mfac its gradient window as a LowRankOperator
  // (1/m) Σ g gᵀ. The damping the rule adds (damping() + weight decay) is not part of it: the
  // one damping contract (linalg/operator.hpp) leaves λ to the caller. Throws a curv::Error for
  // rules that estimate none, and before the first step.
  virtual std::unique_ptr<LinearOperator> curvature() const;
  // Seconds spent so far in the parts of a step worth telling apart (second-order rules:
  // "factor sweeps", "inversion", "preconditioning", "rescaling"), for benchmarks.
  virtual std::vector<std::pair<std::string, double>> profile() const { return {}; }

 protected:
  double lr_ = 0.1;
};

// SGD with (optionally Nesterov) momentum and L2 weight decay, PyTorch's formulation:
//   g ← ∇L + wd·θ,  b ← μ b + g,  θ ← θ − lr (Nesterov: g + μ b; else b)
template <class T>
std::unique_ptr<Optimizer<T>> make_sgd(double lr, double momentum = 0, bool nesterov = false,
                                       double weight_decay = 0);

// Adam with L2 weight decay added to the gradient, or AdamW (decoupled = true) with the weights
// decayed directly, θ ← θ(1 − lr·wd); PyTorch's defaults β = (0.9, 0.999), ε = 1e-8.
template <class T>
std::unique_ptr<Optimizer<T>> make_adam(double lr, double beta1 = 0.9, double beta2 = 0.999,
                                        double eps = 1e-8, double weight_decay = 0,
                                        bool decoupled = false);

// The large-batch rules scale each parameter tensor's step by a trust ratio ρ, so every layer
// moves by about the same fraction of its own norm, whatever its gradient's scale. Per tensor w
// with gradient g (the ParamStore's slices), η the trust coefficient, wd the weight decay:
//
// LARS (You, Gitman & Ginsburg 2017):
//   d = g + wd·w,  ρ = η‖w‖ / (‖g‖ + wd‖w‖),  v ← μv + lr·ρ·d,  w ← w − v
//   (μ = 0: w ← w − lr·ρ·d, no buffer). The rate sits inside the buffer, as in the paper, so
//   a schedule changes only the new contributions. Defaults μ = 0.9, η = 1e-3.
// LAMB (You et al. 2019): Adam's moments of g with bias correction, then
//   m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  m̂ = m/(1−β₁ᵗ),  v̂ = v/(1−β₂ᵗ)
//   r = m̂/(√v̂ + ε) + wd·w,  ρ = η‖w‖ / ‖r‖,  w ← w − lr·ρ·r
//   Defaults β = (0.9, 0.999), ε = 1e-6, η = 1.
// ρ = 1 where its ratio is undefined (‖w‖ = 0 or a zero denominator). With exclude_1d (the
// default, the convention of both papers' reference implementations), tensors of one dimension
// or none (biases, LayerNorm gains and shifts) take ρ = 1 and no weight decay: LARS is then SGD
// with momentum on them and LAMB is Adam. Settings out of range throw curv::Error naming the one
// at fault.
template <class T>
std::unique_ptr<Optimizer<T>> make_lars(double lr, double momentum = 0.9, double weight_decay = 0,
                                        double trust = 1e-3, bool exclude_1d = true);
template <class T>
std::unique_ptr<Optimizer<T>> make_lamb(double lr, double beta1 = 0.9, double beta2 = 0.999,
                                        double eps = 1e-6, double weight_decay = 0,
                                        double trust = 1, bool exclude_1d = true);

}  // namespace curv
