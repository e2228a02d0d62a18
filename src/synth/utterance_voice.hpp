// synth/utterance_voice.hpp — one utterance's voice: speaker habits x emotion x chance.
#pragma once
#include <array>

#include "synth/emotion_prosody.hpp"
#include "synth/rng.hpp"
#include "synth/speaker_profiles.hpp"

namespace ser::synth {

struct UtteranceVoice {
  // pitch (semitone values are offsets on the log-F0 scale around f0_hz)
  double f0_hz = 120;
  double accent_st = 2, accent_width_s = 0.1, declination_st = -2, arch_st = 0, final_st = -1;
  double tremor_st = 0, tremor_hz = 0, tremor_phase = 0, tremor_amp = 0;
  std::array<double, 2> drift_st{}, drift_hz{}, drift_phase{};  // slow random F0 wander
  // timing
  double rate = 1, pause = 1;
  double lead_s = 0.15, trail_s = 0.15;  // leading / trailing silence
  // level and voice quality
  double peak_db = -6, stress_db = 2, level_decl_db = -3;
  double jitter = 0.006, shimmer = 0.03, tilt = 0.45, open_quotient = 0.55, breathiness = 0.05;
  double creak = 0, creak_onset = 0;  // creak amount from utterance fraction creak_onset on
  double frication_gain = 1;  // consonant-to-vowel level factor: falls with vocal effort
  // vocal tract
  std::array<double, 4> formant_scale{1, 1, 1, 1};  // tract x idiosyncrasy x emotion
  double bandwidth_scale = 1;
};

// Draws the per-utterance variation from rng (the utterance's own stream).
UtteranceVoice make_voice(const SpeakerProfile& speaker, const EmotionProsody& emotion, Rng& rng);

}  // namespace ser::synth
