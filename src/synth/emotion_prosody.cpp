// synth/emotion_prosody.cpp — the emotion table: the acoustic correlates reported for acted
// emotional speech (Banse & Scherer 1996; Juslin & Laukka 2003; Burkhardt's Emo-DB analyses),
// exaggerated a little, as actors do.
//   angry    high, loud, fast; sharp narrow accents; pressed, bright voice, raised F1
//   happy    high and wide; smooth rising-falling arch; bright, "smiling" formants
//   surprise high, very wide; strong final rise
//   fear     highest, fast; F0 and amplitude tremor; breathy, irregular (jitter)
//   neutral  moderate level and range, moderate declination
//   calm     slightly low, slow, soft, lax; gentle smooth accents
//   sad      low, narrow, falling; slow with long pauses; quiet, dark, breathy
//   boredom  low and flat (monotone); slow; quiet, dark; creaky phrase ends (vocal fry)
//   disgust  low-mid, slow; falling accents; creaky (alternating periods), harsh shimmer
#include "synth/det_math.hpp"  // first: fixes floating-point contraction for this file
#include "synth/emotion_prosody.hpp"

#include <map>

#include "ser/error.hpp"

namespace ser::synth {
namespace {

std::map<std::string, EmotionProsody> build_table() {
  std::map<std::string, EmotionProsody> t;
  EmotionProsody e;

  e = EmotionProsody{};
  e.name = "neutral";
  t[e.name] = e;  // the defaults are the neutral voice

  e = EmotionProsody{};
  e.name = "calm";
  e.f0_level = 0.95; e.accent_st = 1.8; e.accent_width_s = 0.16; e.declination_st = -1.5;
  e.arch_st = 0.8; e.final_st = -1.0;
  e.rate = 1.15; e.pause = 1.3;
  e.level_db = -9.0; e.stress_db = 1.0; e.level_decl_db = -2.0;
  e.jitter = 0.004; e.shimmer = 0.02; e.tilt = 0.58; e.open_quotient = 0.62; e.breathiness = 1.4;
  e.formant_shift = 0.99; e.f1_shift = 0.96;
  t[e.name] = e;

  e = EmotionProsody{};
  e.name = "happy";
  e.f0_level = 1.28; e.accent_st = 6.5; e.accent_width_s = 0.16; e.declination_st = -1.0;
  e.arch_st = 4.0; e.final_st = -2.0;
  e.rate = 0.93; e.pause = 0.8;
  e.level_db = -3.0; e.stress_db = 3.0; e.level_decl_db = -2.0;
  e.jitter = 0.006; e.shimmer = 0.03; e.tilt = 0.3; e.open_quotient = 0.5; e.breathiness = 0.9;
  e.formant_shift = 1.06; e.f1_shift = 1.04;
  t[e.name] = e;

  e = EmotionProsody{};
  e.name = "sad";
  e.f0_level = 0.9; e.accent_st = 1.0; e.accent_width_s = 0.13; e.declination_st = -3.5;
  e.arch_st = 0.0; e.final_st = -1.5; e.tremor_st = 0.25; e.tremor_hz = 5.0;
  e.rate = 1.35; e.pause = 1.7;
  e.level_db = -13.0; e.stress_db = 0.8; e.level_decl_db = -5.0;
  e.jitter = 0.012; e.shimmer = 0.05; e.tilt = 0.72; e.open_quotient = 0.72; e.breathiness = 3.0;
  e.formant_shift = 0.97; e.f1_shift = 0.92;
  t[e.name] = e;

  e = EmotionProsody{};
  e.name = "angry";
  e.f0_level = 1.35; e.accent_st = 5.5; e.accent_width_s = 0.045; e.declination_st = -1.5;
  e.arch_st = 0.0; e.final_st = -3.0;
  e.rate = 0.82; e.pause = 0.6;
  e.level_db = -1.5; e.stress_db = 7.0; e.level_decl_db = -1.0;
  e.jitter = 0.012; e.shimmer = 0.08; e.tilt = 0.04; e.open_quotient = 0.35; e.breathiness = 0.4;
  e.formant_shift = 1.02; e.f1_shift = 1.12;
  t[e.name] = e;

  e = EmotionProsody{};
  e.name = "fear";
  e.f0_level = 1.5; e.accent_st = 3.5; e.accent_width_s = 0.07; e.declination_st = 0.5;
  e.arch_st = 0.0; e.final_st = 1.0; e.tremor_st = 1.2; e.tremor_hz = 6.5; e.tremor_amp = 0.2;
  e.rate = 0.78; e.pause = 0.9;
  e.level_db = -5.0; e.stress_db = 2.0; e.level_decl_db = -1.0;
  e.jitter = 0.02; e.shimmer = 0.06; e.tilt = 0.38; e.open_quotient = 0.62; e.breathiness = 2.0;
  e.formant_shift = 1.02; e.f1_shift = 1.0;
  t[e.name] = e;

  e = EmotionProsody{};
  e.name = "disgust";
  e.f0_level = 0.94; e.accent_st = 3.0; e.accent_width_s = 0.15; e.declination_st = -2.5;
  e.arch_st = 0.0; e.final_st = -3.0;
  e.rate = 1.25; e.pause = 1.3;
  e.level_db = -8.0; e.stress_db = 3.0; e.level_decl_db = -3.0;
  e.jitter = 0.016; e.shimmer = 0.08; e.tilt = 0.5; e.open_quotient = 0.45; e.breathiness = 1.1;
  e.creak = 0.6; e.formant_shift = 0.98; e.f1_shift = 0.98;
  t[e.name] = e;

  e = EmotionProsody{};
  e.name = "boredom";
  e.f0_level = 0.86; e.accent_st = 0.5; e.accent_width_s = 0.12; e.declination_st = -1.0;
  e.arch_st = 0.0; e.final_st = -0.5;
  e.rate = 1.4; e.pause = 1.3;
  e.level_db = -10.0; e.stress_db = 0.5; e.level_decl_db = -2.0;
  e.jitter = 0.006; e.shimmer = 0.03; e.tilt = 0.66; e.open_quotient = 0.6; e.breathiness = 1.0;
  e.creak = 0.45; e.creak_onset = 0.55; e.formant_shift = 0.98; e.f1_shift = 0.95;
  t[e.name] = e;

  e = EmotionProsody{};
  e.name = "surprise";
  e.f0_level = 1.4; e.accent_st = 7.0; e.accent_width_s = 0.1; e.declination_st = 0.0;
  e.arch_st = 2.0; e.final_st = 5.0;
  e.rate = 0.95; e.pause = 0.9;
  e.level_db = -3.0; e.stress_db = 3.0; e.level_decl_db = 0.0;
  e.jitter = 0.007; e.shimmer = 0.035; e.tilt = 0.25; e.open_quotient = 0.5; e.breathiness = 1.0;
  e.formant_shift = 1.03; e.f1_shift = 1.08;
  t[e.name] = e;
  return t;
}

const std::map<std::string, EmotionProsody>& table() {
  static const std::map<std::string, EmotionProsody> t = build_table();
  return t;
}

}  // namespace

const EmotionProsody& emotion_prosody(const std::string& name) {
  const auto& t = table();
  const auto it = t.find(name);
  if (it == t.end()) {
    std::string known;
    for (const auto& n : synthetic_emotion_names()) known += (known.empty() ? "" : ", ") + n;
    throw Error("synthetic corpus: unknown emotion '" + name + "' (known: " + known + ")");
  }
  return it->second;
}

const std::vector<std::string>& synthetic_emotion_names() {
  static const std::vector<std::string> names = {"neutral", "calm",  "happy",   "sad",     "angry",
                                                 "fear",    "disgust", "surprise", "boredom"};
  return names;
}

}  // namespace ser::synth
