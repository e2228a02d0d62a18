// synth/emotion_prosody.hpp — how each acted emotion changes a speaker's voice.
// Values are relative to the speaker's habits (F0 level multiplies the speaker's base F0, the rate
// multiplies syllable durations, ...), so the cues are speaker-independent; per-utterance random
// variation is applied on top (see utterance_voice.cpp) so the classes overlap a little.
#pragma once
#include <string>
#include <vector>

namespace ser::synth {

struct EmotionProsody {
  std::string name;
  // pitch
  double f0_level = 1.0;        // x speaker base F0
  double accent_st = 2.5;       // pitch-accent height on stressed syllables (semitones)
  double accent_width_s = 0.1;  // accent duration: narrow = sharp, wide = smooth
  double declination_st = -2;   // F0 change from the first to the last syllable (semitones)
  double arch_st = 0.0;         // rising-falling arch over the utterance (semitones)
  double final_st = -1.0;       // final rise (+) / fall (-) over the last fifth (semitones)
  double tremor_st = 0.0;       // F0 tremor depth (semitones) ...
  double tremor_hz = 0.0;       // ... and rate
  double tremor_amp = 0.0;      // amplitude tremor at the same rate (relative depth)
  // timing
  double rate = 1.0;            // x syllable durations (>1 slower)
  double pause = 1.0;           // x pause durations between words
  // loudness and voice quality
  double level_db = -6.0;       // peak level the utterance is normalised to (dBFS)
  double stress_db = 2.0;       // extra level of stressed syllables
  double level_decl_db = -3.0;  // level change over the utterance
  double jitter = 0.006;        // relative s.d. of period length from period to period
  double shimmer = 0.03;        // relative s.d. of pulse amplitude from period to period
  double tilt = 0.45;           // source low-pass pole (applied twice): 0 bright .. 0.8 dark
  double open_quotient = 0.55;  // glottal open phase / period: low = pressed, high = breathy/lax
  double breathiness = 1.0;     // x speaker aspiration noise
  double creak = 0.0;           // 0..1: alternating long/weak periods (vocal fry, diplophonia)
  double creak_onset = 0.0;     // where in the utterance (0..1) the creak sets in: 0 = throughout
  double formant_shift = 1.0;   // x all formants (lip spreading in a smile raises them)
  double f1_shift = 1.0;        // x F1 (a wider jaw opening in loud speech raises F1)
  double peak_sd_db = 1.2;      // per-utterance variation of the normalisation level
};

// The prosody of a canonical emotion name; throws ser::Error for names it does not know.
const EmotionProsody& emotion_prosody(const std::string& name);

// The names emotion_prosody knows, in canonical order.
const std::vector<std::string>& synthetic_emotion_names();

}  // namespace ser::synth
