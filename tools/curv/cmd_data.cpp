// curv data: inspect the datasets and re-pack CIFAR-10 into its official binary layout.
#include <cstdio>

#include "commands.hpp"
#include "curv/core/error.hpp"
#include "curv/data/dataset.hpp"
#include "curv/data/task.hpp"

namespace curv::cli {

Runner add_data(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "data", "Inspect datasets; re-pack CIFAR-10 PNGs as official binary batches");
  cmd->require_subcommand(1);
  auto info =
      cmd->add_subcommand("info", "Load a dataset and print its size, shape and first labels");
  auto pack = cmd->add_subcommand("pack-cifar",
                                  "Write DIR/bin/{data_batch_1..5,test_batch}.bin from DIR's PNGs");
  auto name = std::make_shared<std::string>();
  auto dir = std::make_shared<std::string>();
  info->add_option("name", *name, "fashion-mnist, mnist, cifar10, moby-dick or t2t-synthetic")
      ->required();
  pack->add_option("dir", *dir,
                   "Directory with data_batch_*.png, test_batch.png and the label JSON files")
      ->required();
  return [=] {
    if (info->parsed()) {
      if (*name == "moby-dick" || *name == "t2t-synthetic") {  // sequence tasks: their splits
        const auto task = make_task<float>(*name, "ce", TaskOptions{});
        for (const std::string& split : task->split_names())
          std::printf("%s: %s %ld examples of %s\n", task->name().c_str(), split.c_str(),
                      long(task->split(split).size()), task->example_shape().str().c_str());
        return 0;
      }
      for (const char* split : {"train", "test"}) {
        const Dataset ds = load_dataset(*name, split);
        std::printf("%s: %ld examples of %s, first labels", ds.name.c_str(), long(ds.size()),
                    ds.example.str().c_str());
        for (index_t i = 0; i < std::min<index_t>(6, ds.size()); ++i)
          std::printf(" %ld", long(ds.labels[std::size_t(i)]));
        std::printf("\n");
      }
      return 0;
    }
    const Dataset train = load_cifar10_png(*dir, true), test = load_cifar10_png(*dir, false);
    write_cifar10_bin(train, test, *dir + "/bin");
    std::printf("cifar10: wrote %s/bin (first labels train %ld %ld %ld, test %ld %ld %ld)\n",
                dir->c_str(), long(train.labels[0]), long(train.labels[1]), long(train.labels[2]),
                long(test.labels[0]), long(test.labels[1]), long(test.labels[2]));
    return 0;
  };
}

}  // namespace curv::cli
