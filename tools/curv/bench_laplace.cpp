// curv bench --laplace: the Laplace targets of docs/methods/laplace.md on LeNet-5 and
// Fashion-MNIST, each against its floor, timed side by side:
//   fit        last-layer Kronecker GGN posterior on the 60,000 training images with the prior
//              fitted by the marginal likelihood, against one training epoch (SGD with momentum,
//              batch 128, the recipe's step) and against one forward pass over the same images
//              (the fit's floor: K-FAC's factors of the last layer need its inputs and the
//              softmax, nothing deeper)
//   predictive GLM-probit predictive of the last-layer posterior on the 10,000 test images,
//              against one forward pass over them
//   all        GLM-probit predictive of an all-weights Kronecker posterior on `all_examples`
//              test images, against the C backward sweeps per batch that give its Jacobians
//              (layers in factored form where it is smaller than their rows: GradientOptions::
//              layer_factors) timed alone — its floor less the eigenbasis products, which are
//              the difference — and against the forward pass
// The weights are LeNet-5's initialization (seed 1): the costs do not depend on their values,
// except the number of prior-fitting steps, which is printed.
#include <cstdio>

#include "bench_util.hpp"
#include "curv/core/rng.hpp"
#include "curv/curvature/gradients.hpp"
#include "curv/data/task.hpp"
#include "curv/laplace/fit.hpp"
#include "curv/laplace/predictive.hpp"
#include "curv/optim/optimizer.hpp"
#include "curv/train/loop.hpp"

namespace curv::cli {

void bench_laplace(int rounds, index_t all_examples) {
  auto model = make_model<float>("lenet5");
  Rng rng(1);
  model->init(rng);
  auto task = make_task<float>("fashion-mnist", model->loss(), {});
  const Split<float>& train = task->split("train");
  const Split<float>& test = task->split("test");
  auto list = [](index_t n) {
    std::vector<index_t> idx(static_cast<std::size_t>(n));
    for (index_t i = 0; i < n; ++i) idx[std::size_t(i)] = i;
    return idx;
  };
  const std::vector<index_t> train_idx = list(train.size()), test_idx = list(test.size()),
                             all_idx = list(std::min(all_examples, test.size()));

  // A second model for the epoch, so training moves none of the weights the others use.
  auto trained = make_model<float>("lenet5");
  Rng rng2(1);
  trained->init(rng2);
  auto sgd = make_sgd<float>(0.05, 0.9);
  TrainLoop<float> loop(*trained, *sgd, train, train_idx, 128, 0);
  auto epoch = [&] {
    for (index_t s = 0; s < loop.steps_per_epoch(); ++s) loop.step(0.05);
  };

  laplace::LaplaceSpec last;  // last layer, Kronecker, GGN, prior fitted
  laplace::FitReport report;
  std::unique_ptr<laplace::Posterior> post;
  auto fit = [&] { post = laplace::fit_posterior(*model, train, train_idx, last, &report); };
  auto forward_train = [&] { laplace::logits_of(*model, train, train_idx); };
  auto forward_test = [&] { laplace::logits_of(*model, test, test_idx); };
  fit();
  auto predictive = [&] {
    laplace::probit(laplace::linearize(*post, *model, test, test_idx, "last"));
  };

  laplace::LaplaceSpec all = last;
  all.weights = "all", all.prior_precision = 1;
  const std::vector<index_t> fit_idx = list(10000);
  const auto post_all = laplace::fit_posterior(*model, train, fit_idx, all);
  const index_t S = post_all->size(), C = model->outputs();
  auto predictive_all = [&] {
    laplace::probit(laplace::linearize(*post_all, *model, test, all_idx, "all"));
  };
  auto jacobians_all = [&] {  // the predictive's sweeps, as linearize sets them up
    GradientOptions g;
    g.measurement = Measurement::parse("jacobian"), g.batch = 256, g.layer_factors = true;
    GradientStream<float> s(*model, test, all_idx, g);
    s.run([](const GradientBlock<float>&) {});
  };
  auto forward_all = [&] { laplace::logits_of(*model, test, all_idx); };

  std::printf(
      "\nLaplace on lenet5, Fashion-MNIST (%ld training, %ld test images), float32, medians of "
      "%d interleaved rounds\n",
      long(train_idx.size()), long(test_idx.size()), rounds);
  std::fflush(stdout);
  const auto t = side_by_side_rounds({epoch, forward_train, fit, forward_test, predictive,
                                      forward_all, jacobians_all, predictive_all},
                                     rounds);
  std::vector<double> m;
  for (const auto& v : t) m.push_back(median(v));
  std::printf("  one training epoch (SGD, batch 128)          %8.3f s\n", m[0]);
  std::printf("  forward pass over the training images        %8.3f s\n", m[1]);
  std::printf(
      "  last-layer Kronecker fit + marglik prior     %8.3f s  %.2f× the epoch, %.2f× the "
      "forward pass (%d BFGS steps, δ = %.3g)\n",
      m[2], median_ratio(t, 2, 0), median_ratio(t, 2, 1), report.prior_steps, post->prior()[0]);
  std::printf("  forward pass over the test images            %8.3f s\n", m[3]);
  std::printf("  last-layer GLM probit on the test images     %8.3f s  %.2f× the forward pass\n",
              m[4], median_ratio(t, 4, 3));
  std::printf("  all weights (%ld), %ld test images:\n", long(S), long(all_idx.size()));
  std::printf("    forward pass                               %8.3f s\n", m[5]);
  std::printf("    Jacobians (%ld backward sweeps per batch)   %8.3f s  %.2f× the forward pass\n",
              long(C), m[6], median_ratio(t, 6, 5));
  std::printf(
      "    GLM probit                                 %8.3f s  %.2f× the sweeps (the rest is the "
      "eigenbasis products), %.2f× the forward pass\n",
      m[7], median_ratio(t, 7, 6), median_ratio(t, 7, 5));
}

}  // namespace curv::cli
