// Runs the dataset tests only where datasets/fetch.sh has put the data; exit code 77 tells meson
// the test was skipped rather than passed.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>

#include "curv/data/dataset.hpp"

int main(int argc, char** argv) {
  for (const char* d : {"fashion-mnist", "mnist", "cifar10/bin", "text"})
    if (!std::filesystem::exists(curv::data_dir() + "/" + d + "/.verified")) {
      std::printf("skipped: %s/%s is not fetched (run datasets/fetch.sh with CURV_BIN set)\n",
                  curv::data_dir().c_str(), d);
      return 77;
    }
  return doctest::Context(argc, argv).run();
}
