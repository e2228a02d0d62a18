// synth/utterance_voice.cpp — combines a speaker's habits with an emotion's prosody and adds the
// per-utterance variation that makes the classes overlap: actors never hit the same F0, tempo or
// loudness twice, and some renditions of an emotion are weaker than others.
#include "synth/det_math.hpp"  // first: fixes floating-point contraction for this file
#include "synth/utterance_voice.hpp"

#include <algorithm>

namespace ser::synth {

UtteranceVoice make_voice(const SpeakerProfile& sp, const EmotionProsody& em, Rng& rng) {
  UtteranceVoice v;
  // "Intensity" of this rendition: 1 = the table's full emotion, lower = closer to neutral.
  // It pulls the emotion-specific pitch and level settings toward the neutral voice, so weak
  // renditions are the ones that get confused, as with real actors.
  const double intensity = std::clamp(rng.normal(0.9, 0.1), 0.65, 1.15);
  const EmotionProsody& ne = emotion_prosody("neutral");
  const auto mix = [intensity](double neutral, double full) { return neutral + intensity * (full - neutral); };

  // Pitch: level as a ratio (in semitones, mixed), then habitual range and per-utterance chance.
  const double level_st = mix(0.0, 12.0 * det_log(em.f0_level) / det_log(2.0));
  v.f0_hz = sp.f0_hz * semitones_to_ratio(level_st + rng.normal(0.0, 0.8));
  v.accent_st = mix(ne.accent_st, em.accent_st) * sp.range * rng.lognormal_factor(0.2);
  v.accent_width_s = em.accent_width_s * rng.lognormal_factor(0.15);
  v.declination_st = mix(ne.declination_st, em.declination_st) + sp.declination_st + rng.normal(0.0, 0.6);
  v.arch_st = em.arch_st * sp.range * intensity * rng.lognormal_factor(0.25);
  v.final_st = mix(ne.final_st, em.final_st) * sp.range + rng.normal(0.0, 0.5);
  v.tremor_st = em.tremor_st * rng.lognormal_factor(0.25);
  v.tremor_hz = em.tremor_hz * rng.lognormal_factor(0.1);
  v.tremor_phase = rng.uniform(0.0, kTwoPi);
  v.tremor_amp = em.tremor_amp * rng.lognormal_factor(0.25);
  for (int i = 0; i < 2; ++i) {
    v.drift_st[i] = rng.uniform(0.1, 0.35);
    v.drift_hz[i] = rng.uniform(0.3, 1.5);
    v.drift_phase[i] = rng.uniform(0.0, kTwoPi);
  }

  // Timing: rate on a log scale so fast and slow variations are symmetric.
  v.rate = sp.rate * det_exp(mix(0.0, det_log(em.rate))) * rng.lognormal_factor(0.07);
  v.pause = em.pause * rng.lognormal_factor(0.2);
  v.lead_s = rng.uniform(0.1, 0.25);
  v.trail_s = rng.uniform(0.1, 0.25);

  // Level and voice quality.
  v.peak_db = std::clamp(mix(ne.level_db, em.level_db) + sp.level_db + rng.normal(0.0, em.peak_sd_db),
                         -28.0, -0.5);
  v.stress_db = mix(ne.stress_db, em.stress_db) * sp.stress_scale;
  v.level_decl_db = em.level_decl_db + rng.normal(0.0, 0.7);
  v.jitter = em.jitter * sp.jitter_scale * rng.lognormal_factor(0.2);
  v.shimmer = em.shimmer * sp.shimmer_scale * rng.lognormal_factor(0.2);
  v.tilt = std::clamp(mix(ne.tilt, em.tilt) + sp.tilt_offset + rng.normal(0.0, 0.04), 0.0, 0.85);
  v.open_quotient =
      std::clamp(mix(ne.open_quotient, em.open_quotient) + sp.open_quotient_offset + rng.normal(0.0, 0.02),
                 0.3, 0.8);
  v.breathiness = sp.breathiness * det_exp(mix(0.0, det_log(em.breathiness))) * rng.lognormal_factor(0.2);
  v.creak = std::clamp(em.creak * rng.lognormal_factor(0.25), 0.0, 0.9);
  const double onset_jitter = rng.normal(0.0, 0.08);  // drawn always: keeps the stream aligned
  v.creak_onset = em.creak_onset > 0.0 ? std::clamp(em.creak_onset + onset_jitter, 0.05, 0.9) : 0.0;
  // Louder speech raises vowels more than consonants: the consonant-to-vowel level ratio falls by
  // about half a dB per dB of vocal effort (relative to the neutral level).
  v.frication_gain = db_to_amp(-0.5 * (v.peak_db - ne.level_db));

  // Vocal tract: anatomy, idiosyncrasy, and the articulation an emotion brings (smile, jaw).
  const double shift = mix(1.0, em.formant_shift);
  for (int i = 0; i < 4; ++i) v.formant_scale[i] = sp.tract * sp.formant_scale[i] * shift;
  v.formant_scale[0] *= mix(1.0, em.f1_shift);
  v.bandwidth_scale = sp.bandwidth_scale;
  return v;
}

}  // namespace ser::synth
