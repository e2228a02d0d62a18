// synth/timeline.hpp — when each sound of an utterance happens.
#pragma once
#include <vector>

#include "synth/rng.hpp"
#include "synth/sentence.hpp"
#include "synth/utterance_voice.hpp"

namespace ser::synth {

enum class SegmentKind { silence, closure, burst, aspiration, frication, nasal, vowel, pause };

struct Segment {
  SegmentKind kind = SegmentKind::silence;
  double t0 = 0, t1 = 0;  // seconds
  int syllable = -1;      // the syllable this sound belongs to (-1 for silences)
};

struct PitchAccent {
  double centre_s = 0, width_s = 0.1, height_st = 0;
};

struct Timeline {
  std::vector<Segment> segments;  // contiguous, from 0 to duration_s
  std::vector<PitchAccent> accents;
  double speech_start_s = 0, speech_end_s = 0;  // first onset .. last vowel end
  double duration_s = 0;
};

// Utterances last 1.2 .. 3.0 s: slow speech is compressed, short speech gets longer silences.
inline constexpr double kMinDurationS = 1.2;
inline constexpr double kMaxDurationS = 3.0;

Timeline layout_timeline(const Sentence& text, const UtteranceVoice& voice, Rng& rng);

}  // namespace ser::synth
