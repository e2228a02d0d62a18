// synth/det_math.hpp — bit-reproducible elementary functions for the synthetic corpus.
//
// The synthetic corpus promises identical bytes for an identical config on any machine and
// compiler. IEEE-754 +, -, *, / and sqrt are correctly rounded everywhere, but std::exp, std::log,
// std::sin and std::cos are not: libm versions differ in the last bit, and an IIR filter carries
// such a difference on for a long time. So the generator uses these small range-reduced
// polynomials instead (accurate to ~1e-15, far beyond what audio needs) and only exact helpers
// from <cmath> (frexp, ldexp, floor, sqrt).
//
// A fused multiply-add rounds once instead of twice, so a compiler that contracts a*b+c (GCC on
// AArch64, or any x86 build with -march=native) would also change the bits. Every synth source
// includes this header first, and the pragma below turns contraction off for the rest of that
// translation unit.
#pragma once

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <cmath>
#include <cstdint>

namespace ser::synth {

inline constexpr double kPi = 3.14159265358979323846;
inline constexpr double kTwoPi = 6.28318530717958647692;

// e^x. x = k*ln2 + r with |r| <= ln2/2, e^r by its Taylor series (13 terms: error < 1e-17).
inline double det_exp(double x) {
  if (x < -700.0) return 0.0;
  if (x > 700.0) x = 700.0;
  constexpr double kInvLn2 = 1.44269504088896340736;
  constexpr double kLn2Hi = 6.93147180369123816490e-01;  // ln2 split so k*kLn2Hi is exact
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  const double k = std::floor(x * kInvLn2 + 0.5);
  const double r = (x - k * kLn2Hi) - k * kLn2Lo;
  double p = 1.0 / 6227020800.0;  // 1/13!
  constexpr double kInvFact[13] = {1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0,
                                   1.0 / 362880.0,    1.0 / 40320.0,    1.0 / 5040.0,
                                   1.0 / 720.0,       1.0 / 120.0,      1.0 / 24.0,
                                   1.0 / 6.0,         1.0 / 2.0,        1.0,
                                   1.0};
  for (double c : kInvFact) p = p * r + c;
  return std::ldexp(p, static_cast<int>(k));
}

// Natural log for x > 0 (returns -745 for x <= 0, the log of the smallest denormal).
// x = m * 2^e with m in [sqrt(1/2), sqrt(2)); ln m = 2 atanh(s), s = (m-1)/(m+1), |s| < 0.172.
inline double det_log(double x) {
  if (!(x > 0.0)) return -745.0;
  int e = 0;
  double m = std::frexp(x, &e);  // m in [0.5, 1)
  if (m < 0.70710678118654752440) {
    m *= 2.0;
    e -= 1;
  }
  const double s = (m - 1.0) / (m + 1.0);
  const double s2 = s * s;
  double p = 1.0 / 21.0;
  for (int k = 19; k >= 1; k -= 2) p = p * s2 + 1.0 / k;
  constexpr double kLn2 = 0.69314718055994530942;
  return static_cast<double>(e) * kLn2 + 2.0 * s * p;
}

namespace detail {
// sin and cos on |r| <= pi/4 by Taylor series (error < 1e-17).
inline double sin_kernel(double r) {
  const double r2 = r * r;
  double p = -1.0 / 1307674368000.0;  // -1/15!
  constexpr double kCoef[7] = {1.0 / 6227020800.0, -1.0 / 39916800.0, 1.0 / 362880.0,
                               -1.0 / 5040.0,      1.0 / 120.0,       -1.0 / 6.0,
                               1.0};
  for (double c : kCoef) p = p * r2 + c;
  return p * r;
}
inline double cos_kernel(double r) {
  const double r2 = r * r;
  double p = 1.0 / 20922789888000.0;  // 1/16!
  constexpr double kCoef[8] = {-1.0 / 87178291200.0, 1.0 / 479001600.0, -1.0 / 3628800.0,
                               1.0 / 40320.0,        -1.0 / 720.0,      1.0 / 24.0,
                               -1.0 / 2.0,           1.0};
  for (double c : kCoef) p = p * r2 + c;
  return p;
}
// x = q*pi/2 + r; returns r and the quadrant q mod 4. Fine for the |x| < 1e6 the generator uses.
inline double reduce_half_pi(double x, int& quadrant) {
  constexpr double kInvHalfPi = 0.63661977236758134308;
  constexpr double kHalfPiHi = 1.57079632673412561417e+00;  // first 33 bits: q*hi is exact
  constexpr double kHalfPiLo = 6.07710050650619224932e-11;
  const double q = std::floor(x * kInvHalfPi + 0.5);
  const double r = (x - q * kHalfPiHi) - q * kHalfPiLo;
  const auto qi = static_cast<std::int64_t>(q);
  quadrant = static_cast<int>(((qi % 4) + 4) % 4);
  return r;
}
}  // namespace detail

inline double det_sin(double x) {
  int q = 0;
  const double r = detail::reduce_half_pi(x, q);
  switch (q) {
    case 0: return detail::sin_kernel(r);
    case 1: return detail::cos_kernel(r);
    case 2: return -detail::sin_kernel(r);
    default: return -detail::cos_kernel(r);
  }
}

inline double det_cos(double x) {
  int q = 0;
  const double r = detail::reduce_half_pi(x, q);
  switch (q) {
    case 0: return detail::cos_kernel(r);
    case 1: return -detail::sin_kernel(r);
    case 2: return -detail::cos_kernel(r);
    default: return detail::sin_kernel(r);
  }
}

// Level in dB -> amplitude ratio; semitones -> frequency ratio.
inline double db_to_amp(double db) { return det_exp(db * (0.11512925464970228420)); }  // ln10/20
inline double semitones_to_ratio(double st) { return det_exp(st * 0.05776226504666210912); }  // ln2/12

}  // namespace ser::synth
