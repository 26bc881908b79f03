// curv train: minibatch training of a classifier on an image dataset, with test evaluation
// after every epoch.
#include <cstdio>

#include "commands.hpp"
#include "curv/core/error.hpp"
#include "curv/train/trainer.hpp"

namespace curv::cli {

Runner add_train(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "Train a model with minibatch SGD and evaluate it every epoch");
  struct Opts {
    std::string model = "mlp", data = "fashion-mnist", optimizer = "sgd";
    index_t epochs = 1, batch = 128, limit = -1;
    double lr = 0.1, momentum = 0.9, weight_decay = 0;
    bool nesterov = false;
    std::uint64_t seed = 0;
    index_t log_every = 100;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--model", o->model, "mlp, lenet5 or lenet5-cifar")->capture_default_str();
  cmd->add_option("--data", o->data, "fashion-mnist, mnist or cifar10")->capture_default_str();
  cmd->add_option("--optimizer", o->optimizer, "sgd")->capture_default_str();
  cmd->add_option("--epochs", o->epochs, "Passes over the training set")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--batch", o->batch, "Minibatch size")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--lr", o->lr, "Learning rate")->capture_default_str();
  cmd->add_option("--momentum", o->momentum, "Momentum")->capture_default_str();
  cmd->add_flag("--nesterov", o->nesterov, "Nesterov momentum");
  cmd->add_option("--weight-decay", o->weight_decay, "L2 weight decay")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed of initialization and shuffling")->capture_default_str();
  cmd->add_option("--limit", o->limit, "Use only the first N training examples")->capture_default_str();
  cmd->add_option("--log-every", o->log_every, "Steps between progress lines (0: none)")->capture_default_str();
  return [o] {
    CURV_CHECK(o->optimizer == "sgd", "train: expected optimizer sgd, found '", o->optimizer, "'");
    auto model = make_model<float>(o->model);
    const Dataset train_set = load_dataset(o->data, "train").head(o->limit), test_set = load_dataset(o->data, "test");
    CURV_CHECK(train_set.example.numel() == model->input_shape().numel(), "train: model ", o->model, " expects inputs ",
               model->input_shape().str(), ", found ", o->data, " examples of ", train_set.example.str());
    Rng rng(o->seed);
    model->init(rng);
    auto opt = make_sgd<float>(o->lr, o->momentum, o->nesterov, o->weight_decay);
    TrainConfig cfg;
    cfg.epochs = o->epochs;
    cfg.batch = o->batch;
    cfg.seed = o->seed;
    cfg.log_every = o->log_every;
    std::printf("train %s on %s: %ld examples, batch %ld, %s lr %g momentum %g, %ld parameters\n", o->model.c_str(),
                o->data.c_str(), long(train_set.size()), long(o->batch), o->optimizer.c_str(), o->lr, o->momentum,
                long(model->params().size()));
    train<float>(
        *model, *opt, train_set, test_set, cfg,
        [&](const EpochReport& r) {
          const double per_epoch = double(train_set.size() / o->batch * o->batch);
          std::printf("epoch %ld: train loss %.4f, test loss %.4f, test accuracy %.2f%%, %.1f s (%.0f samples/s)\n",
                      long(r.epoch), r.train_loss, r.test.loss, 100 * r.test.accuracy, r.seconds,
                      per_epoch / r.seconds);
          std::fflush(stdout);
        },
        [](index_t step, double loss) {
          std::printf("  step %ld: loss %.4f\n", long(step), loss);
          std::fflush(stdout);
        });
    return 0;
  };
}

}  // namespace curv::cli
