// Shapes, views, tensors and the arena.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <utility>

#include "curv/core/arena.hpp"
#include "curv/core/rng.hpp"
#include "curv/core/tensor.hpp"

using namespace curv;

TEST_CASE("shape: numel, rows, tail, printing") {
  const Shape s{128, 1, 28, 28};
  CHECK(s.rank() == 4);
  CHECK(s.numel() == 128 * 784);
  CHECK(s.rows() == 128);
  CHECK(s.row_size() == 784);
  CHECK(s.tail() == Shape{1, 28, 28});
  CHECK(s.with_rows(3) == Shape{3, 1, 28, 28});
  CHECK(s.str() == "[128,1,28,28]");
  CHECK_THROWS_AS(Shape({1, 2, 3, 4, 5, 6, 7}), Error);
  CHECK_THROWS_AS(Shape({2, -1}), Error);
}

TEST_CASE("tensor: zeroed, 64-byte aligned; views slice and reshape without copying") {
  Tensor<float> t(Shape{4, 3});
  CHECK(reinterpret_cast<std::uintptr_t>(t.data()) % 64 == 0);
  for (index_t i = 0; i < t.numel(); ++i) CHECK(t[i] == 0.0f);
  for (index_t i = 0; i < t.numel(); ++i) t[i] = float(i);
  View<float> v = t.view();
  View<float> rows = v.slice(1, 3);
  CHECK(rows.shape == Shape{2, 3});
  CHECK(rows.data == t.data() + 3);
  CHECK(rows[0] == 3.0f);
  View<float> flat = v.reshape(Shape{12});
  CHECK(flat.data == t.data());
  View<const float> ro = v;  // read-only conversion
  CHECK(ro[5] == 5.0f);
  CHECK_THROWS_WITH_AS(v.reshape(Shape{5, 2}), "reshape: expected 12 elements, found [5,2]", Error);
}

TEST_CASE("tensor: resize keeps storage when it does not grow") {
  Tensor<double> t(Shape{10});
  const double* p = t.data();
  t.resize(Shape{2, 5});
  CHECK(t.data() == p);
  t.resize(Shape{100});
  CHECK(t.numel() == 100);
}

TEST_CASE("arena: aligned; after an overflowing cycle the next identical cycle allocates nothing") {
  Arena a;
  auto cycle = [&] {
    float* p = a.alloc<float>(3);
    double* q = a.alloc<double>(5);
    CHECK(reinterpret_cast<std::uintptr_t>(p) % 64 == 0);
    CHECK(reinterpret_cast<std::uintptr_t>(q) % 64 == 0);
    CHECK(reinterpret_cast<char*>(q) >= reinterpret_cast<char*>(p + 3));
    a.alloc<float>(1 << 20);  // larger than the first block
  };
  cycle();
  a.reset();
  const std::size_t merged = a.capacity();
  CHECK(merged >= (std::size_t(1) << 22));
  cycle();
  CHECK(a.capacity() == merged);
}

TEST_CASE("rng: reproducible, uniform in [0,1), standard normal moments") {
  Rng a(7), b(7);
  for (int i = 0; i < 100; ++i) CHECK(a.next() == b.next());
  Rng r(1);
  double mean = 0, var = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double u = r.uniform();
    CHECK_UNARY(u >= 0.0);
    CHECK_UNARY(u < 1.0);
    const double z = r.normal();
    mean += z / n;
    var += z * z / n;
  }
  CHECK(mean == doctest::Approx(0.0).epsilon(0.01).scale(1));
  CHECK(var == doctest::Approx(1.0).epsilon(0.01));
  for (int i = 0; i < 1000; ++i) CHECK(r.below(7) < 7);
}

TEST_CASE("rng: choose draws k distinct positions, the first k of a Fisher-Yates shuffle") {
  Rng a(3), b(3);
  const std::vector<std::int64_t> c = a.choose(10, 4);
  // The same draws by hand: place i swaps with i + below(n − i).
  std::vector<std::int64_t> order{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  for (std::int64_t i = 0; i < 4; ++i)
    std::swap(order[std::size_t(i)], order[std::size_t(i) + b.below(std::uint64_t(10 - i))]);
  CHECK(c == std::vector<std::int64_t>(order.begin(), order.begin() + 4));
  CHECK(a.next() == b.next());  // k draws of below, no more
  CHECK(std::set<std::int64_t>(c.begin(), c.end()).size() == 4);
  std::vector<std::int64_t> all = Rng(5).choose(6, 6);
  std::sort(all.begin(), all.end());
  CHECK(all == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5});
  CHECK(Rng(5).choose(6, 0).empty());
}
