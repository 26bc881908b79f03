#include "curv/core/rng.hpp"

#include <cmath>
#include <utility>

namespace curv {
namespace {
std::uint64_t splitmix(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

Rng::Rng(std::uint64_t seed) {
  for (auto& s : s_) s = splitmix(seed);
}

std::uint64_t Rng::next() {
  const std::uint64_t r = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return r;
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double Rng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  // Box-Muller; 1 - u keeps the logarithm finite.
  const double u = 1.0 - uniform(), v = uniform();
  const double r = std::sqrt(-2.0 * std::log(u));
  spare_ = r * std::sin(2.0 * M_PI * v);
  has_spare_ = true;
  return r * std::cos(2.0 * M_PI * v);
}

std::uint64_t Rng::below(std::uint64_t n) {
  // Rejection keeps the result exactly uniform.
  const std::uint64_t limit = ~std::uint64_t(0) - (~std::uint64_t(0) % n);
  std::uint64_t x;
  do x = next();
  while (x >= limit);
  return x % n;
}

std::vector<std::int64_t> Rng::choose(std::int64_t n, std::int64_t k) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) order[std::size_t(i)] = i;
  for (std::int64_t i = 0; i < k; ++i)
    std::swap(order[std::size_t(i)], order[std::size_t(i) + below(std::uint64_t(n - i))]);
  order.resize(std::size_t(k));
  return order;
}

Rng Rng::split(std::uint64_t k) const {
  std::uint64_t seed = s_[0] ^ rotl(s_[1], 13) ^ (k * 0x9e3779b97f4a7c15ULL);
  return Rng(splitmix(seed));
}

Rng::State Rng::state() const { return {{s_[0], s_[1], s_[2], s_[3]}, spare_, has_spare_}; }

void Rng::set_state(const State& s) {
  for (int i = 0; i < 4; ++i) s_[i] = s.words[i];
  spare_ = s.spare, has_spare_ = s.has_spare;
}

}  // namespace curv
