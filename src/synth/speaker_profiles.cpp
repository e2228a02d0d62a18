// synth/speaker_profiles.cpp — draws each synthetic speaker from its own random stream.
#include "synth/det_math.hpp"  // first: fixes floating-point contraction for this file
#include "synth/rng.hpp"
#include "synth/speaker_profiles.hpp"

namespace ser::synth {

SpeakerProfile make_speaker(std::uint64_t seed, int index) {
  Rng rng(stream_key(seed, "speaker", {static_cast<std::uint64_t>(index)}));
  SpeakerProfile p;
  p.index = index;
  p.female = (index % 2) == 0;
  // Anatomy: women have shorter vocal tracts (formants ~15-20 % higher) and lighter, shorter
  // vocal folds (F0 about an octave higher), and often a less complete glottal closure (breathier).
  if (p.female) {
    p.tract = rng.uniform(1.08, 1.20);
    p.f0_hz = rng.uniform(180.0, 240.0);
    p.breathiness = rng.uniform(0.05, 0.11);
  } else {
    p.tract = rng.uniform(0.87, 1.01);
    p.f0_hz = rng.uniform(100.0, 140.0);
    p.breathiness = rng.uniform(0.025, 0.07);
  }
  // Habits: how wide the melody is, how fast and how loud the speaker talks, voice colour.
  p.range = rng.uniform(0.8, 1.25);
  p.rate = rng.uniform(0.9, 1.1);
  p.tilt_offset = rng.uniform(-0.06, 0.06);
  p.open_quotient_offset = rng.uniform(-0.04, 0.04);
  p.jitter_scale = rng.uniform(0.75, 1.3);
  p.shimmer_scale = rng.uniform(0.75, 1.3);
  p.level_db = rng.uniform(-1.5, 1.5);
  p.declination_st = rng.uniform(-1.0, 0.5);
  p.stress_scale = rng.uniform(0.7, 1.3);
  for (double& s : p.formant_scale) s = rng.uniform(0.96, 1.04);
  p.bandwidth_scale = rng.uniform(0.85, 1.2);
  return p;
}

}  // namespace ser::synth
