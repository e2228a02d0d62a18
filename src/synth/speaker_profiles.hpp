// synth/speaker_profiles.hpp — the synthetic speakers: anatomy and habits, drawn from the seed.
#pragma once
#include <array>
#include <cstdint>
#include <string>

namespace ser::synth {

struct SpeakerProfile {
  int index = 0;        // 0-based; the speaker id is "syn" + two digits of index + 1
  bool female = true;   // speakers alternate female (even index), male (odd index)
  double tract = 1.0;   // formant scale: shorter vocal tract -> higher formants (~0.88..1.2)
  double f0_hz = 120;   // habitual pitch (male ~100-140 Hz, female ~180-240 Hz)
  double range = 1.0;   // pitch-range multiplier on every emotion's F0 excursions
  double breathiness = 0.05;  // aspiration noise level relative to the glottal flow
  double rate = 1.0;          // habitual syllable-duration multiplier (>1 slower)
  double tilt_offset = 0.0;   // added to the emotion's spectral-tilt coefficient
  double open_quotient_offset = 0.0;
  double jitter_scale = 1.0;  // multiplies the emotion's jitter and shimmer
  double shimmer_scale = 1.0;
  double level_db = 0.0;        // loudness habit, added to the emotion's peak level
  double declination_st = 0.0;  // habitual extra F0 declination over an utterance
  double stress_scale = 1.0;    // how strongly this speaker marks stressed syllables
  std::array<double, 4> formant_scale{1, 1, 1, 1};  // idiosyncratic F1..F4 offsets
  double bandwidth_scale = 1.0;                     // wider = more damped, "duller" voice
};

// Speaker `index` of a corpus with this seed (independent of the number of speakers).
SpeakerProfile make_speaker(std::uint64_t seed, int index);

}  // namespace ser::synth
