// synth/f0_contour.cpp — F0 on a semitone scale around the utterance's level:
//   declination (linear over the speech) + arch (rising-falling, sin(pi x)) + final rise/fall
//   (smoothstep over the last fifth) + Gaussian pitch accents on stressed vowels
//   + tremor (fear) + slow random drift.
// Working in semitones makes the shapes the same for low and high voices.
#include "synth/det_math.hpp"  // first: fixes floating-point contraction for this file
#include "synth/f0_contour.hpp"

#include <algorithm>

namespace ser::synth {

double f0_at(const Timeline& tl, const UtteranceVoice& v, double t) {
  const double span = std::max(tl.speech_end_s - tl.speech_start_s, 1e-3);
  const double x = std::clamp((t - tl.speech_start_s) / span, 0.0, 1.0);
  double st = v.declination_st * x + v.arch_st * det_sin(kPi * x);
  const double y = std::clamp((x - 0.8) / 0.2, 0.0, 1.0);
  st += v.final_st * y * y * (3.0 - 2.0 * y);
  for (const auto& a : tl.accents) {
    const double z = (t - a.centre_s) / a.width_s;
    if (z > -5.0 && z < 5.0) st += a.height_st * det_exp(-0.5 * z * z);
  }
  if (v.tremor_st > 0.0) st += v.tremor_st * det_sin(kTwoPi * v.tremor_hz * t + v.tremor_phase);
  for (int i = 0; i < 2; ++i) st += v.drift_st[i] * det_sin(kTwoPi * v.drift_hz[i] * t + v.drift_phase[i]);
  // Start from a level that leaves room for the declination: the contour's mean sits near f0_hz.
  st -= 0.5 * v.declination_st;
  return std::clamp(v.f0_hz * semitones_to_ratio(st), 50.0, 600.0);
}

}  // namespace ser::synth
