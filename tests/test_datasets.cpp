// The real datasets, as datasets/fetch.sh leaves them (exits 77, "skipped", when they are absent).
#include <doctest/doctest.h>

#include <filesystem>

#include "curv/data/dataset.hpp"

using namespace curv;

TEST_CASE("Fashion-MNIST, MNIST and CIFAR-10 load with the documented sizes and first labels") {
  const Dataset f = load_dataset("fashion-mnist", "train");
  CHECK(f.size() == 60000);
  CHECK(f.example == Shape{1, 28, 28});
  CHECK(load_dataset("fashion-mnist", "test").size() == 10000);
  const Dataset m = load_dataset("mnist", "test");
  CHECK(m.size() == 10000);
  CHECK(std::vector<std::int64_t>(m.labels.begin(), m.labels.begin() + 5) ==
        std::vector<std::int64_t>{7, 2, 1, 0, 4});
  const Dataset c = load_dataset("cifar10", "train");
  CHECK(c.size() == 50000);
  CHECK(std::vector<std::int64_t>(c.labels.begin(), c.labels.begin() + 6) ==
        std::vector<std::int64_t>{6, 9, 9, 4, 1, 1});
  const Dataset ct = load_cifar10_png(data_dir() + "/cifar10", false);
  CHECK(std::vector<std::int64_t>(ct.labels.begin(), ct.labels.begin() + 6) ==
        std::vector<std::int64_t>{3, 8, 8, 0, 6, 6});
  // PNG and binary batches hold the same images.
  const Dataset cb = load_dataset("cifar10", "test");
  CHECK(cb.pixels == ct.pixels);
  std::vector<float> x(3 * 1024);
  std::int64_t y;
  const index_t i = 0;
  cb.gather(&i, 1, x.data(), &y);
  CHECK(y == 3);
  for (float v : x) CHECK((v >= 0.0f && v <= 1.0f));
}

TEST_CASE("the text corpus decodes as UTF-8 with its documented size") {
  const std::u32string text = load_text(data_dir() + "/text/moby-dick.txt");
  CHECK(text.size() > 1000000);
  CHECK(text.size() < 1204997);  // multi-byte characters make it shorter than its bytes
}
