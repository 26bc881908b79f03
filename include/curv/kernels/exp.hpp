// exp that vectorizes: for float, a range reduction and a degree-7 polynomial (within about
// 2 ulp of std::exp on [−87, 88], inputs clamped to that range, so no overflow or denormals);
// for double, std::exp itself, so float64 checks see the library's function.
//   exp(x) = 2ⁿ exp(r),  n = round(x / ln 2),  r = x − n ln 2 ∈ [−ln2/2, ln2/2]
// The rounding uses the 1.5·2²³ trick instead of a rounding call, which keeps loops over it
// vectorizable at the baseline instruction set; the clamp's selects vectorize because curv is
// built with -fno-trapping-math (meson.build).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace curv {

inline float exp_approx(float x) {
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  const float shifted = x * 1.44269504088896341f + 12582912.0f;  // 1.5·2²³: rounds to an integer
  const float n = shifted - 12582912.0f;
  std::int32_t bits;
  std::memcpy(&bits, &shifted, sizeof bits);
  const std::int32_t k = bits - 0x4B400000;  // n as an integer
  float r = x - n * 0.693359375f;            // ln 2 split in two, the first part exact in float
  r = r + n * 2.12194440e-4f;
  float p = 1.0f / 5040.0f;  // Taylor series of exp(r); the next term is < 1e-8
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const std::int32_t scale_bits = (k + 127) << 23;  // 2ⁿ
  float scale;
  std::memcpy(&scale, &scale_bits, sizeof scale);
  return p * scale;
}

inline float fast_exp(float x) { return exp_approx(x); }
inline double fast_exp(double x) { return std::exp(x); }

}  // namespace curv
