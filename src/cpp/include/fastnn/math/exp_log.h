// exp and log(1 + e) in float32 as straight-line arithmetic: no library call and no branch, so a
// loop over them vectorizes (the library's expf is a call per element and sets errno), and host
// and device code evaluate the same expression bit for bit.
//
// Accuracy: within 2 ulp of the exact value over the whole float range (tests/engine/test_exp_log.py
// checks every float32 in the range against float64). exp_of returns 0 where the exact result is
// below FLT_MIN (as under the flush-to-zero mode native work runs in), +inf above FLT_MAX and NaN
// for NaN. The double overloads are the library's.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#include "fastnn/math/hd.h"

namespace fastnn {
namespace math {

FASTNN_HD float float_from_bits(int32_t b) {
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}
FASTNN_HD int32_t bits_of_float(float f) {
  int32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}

// e^x = 2^n e^r with n = round(x / ln 2) and |r| <= ln(2) / 2; e^r from its degree-7 Taylor
// polynomial (truncation below 6e-9 relative). 2^n is applied in two halves so that n = 128 at the
// top of the range does not overflow the exponent field.
FASTNN_HD float exp_of(float x) {
  const float hi = 88.72283172607422f;  // the largest float below ln(FLT_MAX)
  const float lo = -87.33654022216797f;  // the float nearest above ln(FLT_MIN)
  const float xc = min_of(max_of(x, lo), hi);  // NaN stays NaN
  // Rounds x / ln 2 to an integer under round-to-nearest: 1.5 * 2^23 pushes the fraction out.
  const float shifter = 12582912.0f;
  const float t = xc * 1.44269502162933349609375f + shifter;
  const float n = t - shifter;
  const int32_t ni = bits_of_float(t) - bits_of_float(shifter);
  // Cody-Waite: ln 2 split so that n * ln2_hi is exact for |n| <= 2^8.
  const float r = (xc - n * 0.693145751953125f) - n * 1.4286068202862268e-06f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t n1 = ni >> 1, n2 = ni - n1;
  const float y = p * float_from_bits((n1 + 127) << 23) * float_from_bits((n2 + 127) << 23);
  const float inf = float_from_bits(0x7f800000);
  return x > hi ? inf : (x < lo ? 0.0f : y);
}
FASTNN_HD double exp_of(double x) { return std::exp(x); }

// log(1 + e) for e in [0, 1] (what the stable sigmoid cross-entropy and softplus need): u = 1 + e
// rounded and c its rounding error (exact); m = u or u / 2 in [sqrt(1/2), sqrt(2)], f = m - 1
// (exact); log(1 + f) = f - (f^2/2 - s (f^2/2 + R)) with s = f / (2 + f) and R the tail of
// 2 atanh(s) / s - 2, so the leading term f carries no rounding; then k ln 2 and the first-order
// correction c / u.
FASTNN_HD float log1p_unit(float e) {
  const float u = 1.0f + e;
  const float c = e - (u - 1.0f);
  const bool big = u > 1.41421353816986083984375f;
  const float m = big ? u * 0.5f : u;
  const float f = m - 1.0f;
  const float s = f / (2.0f + f);
  const float z = s * s;
  float r = 2.0f / 9.0f;
  r = r * z + 2.0f / 7.0f;
  r = r * z + 2.0f / 5.0f;
  r = r * z + 2.0f / 3.0f;
  r = r * z;
  const float hfsq = 0.5f * f * f;
  const float lm = f - (hfsq - s * (hfsq + r));
  const float k_hi = big ? 0.693145751953125f : 0.0f;
  const float k_lo = big ? 1.4286068202862268e-06f : 0.0f;
  return k_hi + (lm + (k_lo + c / u));
}
FASTNN_HD double log1p_unit(double e) { return std::log1p(e); }

}  // namespace math
}  // namespace fastnn
