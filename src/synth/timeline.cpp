// synth/timeline.cpp — segment durations from the speaking rate.
// Vowels stretch with the rate more than consonants do (consonant durations follow rate^0.6), and
// the last vowel gets phrase-final lengthening; pauses scale with the emotion's pause factor.
#include "synth/det_math.hpp"  // first: fixes floating-point contraction for this file
#include "synth/timeline.hpp"

#include <algorithm>

#include "synth/phonetics.hpp"

namespace ser::synth {
namespace {

void push(Timeline& tl, SegmentKind kind, double duration, int syllable) {
  const double t0 = tl.segments.empty() ? 0.0 : tl.segments.back().t1;
  tl.segments.push_back({kind, t0, t0 + duration, syllable});
}

}  // namespace

Timeline layout_timeline(const Sentence& text, const UtteranceVoice& voice, Rng& rng) {
  const double r = voice.rate;
  const double cons_r = det_exp(0.6 * det_log(r));
  const auto& consonants = consonant_table();
  const int n = static_cast<int>(text.syllables.size());

  // Lay out the speech part from t = 0, then fit it into the duration limits.
  Timeline speech;
  for (int i = 0; i < n; ++i) {
    const Syllable& s = text.syllables[i];
    if (s.consonant >= 0) {
      switch (consonants[s.consonant].kind) {
        case OnsetKind::plosive:
          push(speech, SegmentKind::closure, 0.05 * cons_r * rng.uniform(0.85, 1.15), i);
          push(speech, SegmentKind::burst, 0.012, i);
          push(speech, SegmentKind::aspiration, 0.03 * cons_r * rng.uniform(0.8, 1.2), i);
          break;
        case OnsetKind::fricative:
          push(speech, SegmentKind::frication, 0.085 * cons_r * rng.uniform(0.85, 1.15), i);
          break;
        case OnsetKind::nasal:
          push(speech, SegmentKind::nasal, 0.065 * cons_r * rng.uniform(0.85, 1.15), i);
          break;
      }
    }
    double vowel = (s.stressed ? 0.15 : 0.095) * r * s.length * rng.uniform(0.9, 1.1);
    if (i == n - 1) vowel *= 1.35;  // phrase-final lengthening
    push(speech, SegmentKind::vowel, vowel, i);
    if (s.pause_after && i + 1 < n)
      push(speech, SegmentKind::pause, 0.11 * r * voice.pause * rng.uniform(0.8, 1.2), -1);
  }

  double speech_s = speech.segments.back().t1;
  double lead = voice.lead_s, trail = voice.trail_s;
  // Too long: compress the speech (a slow talker still has to finish in time).
  const double max_total = kMaxDurationS - 0.02;  // margin for rounding to whole samples
  if (lead + speech_s + trail > max_total) {
    const double scale = (max_total - lead - trail) / speech_s;
    for (auto& seg : speech.segments) {
      seg.t0 *= scale;
      seg.t1 *= scale;
    }
    speech_s *= scale;
  }
  // Too short: more silence around it, split at random.
  const double min_total = kMinDurationS + 0.02;
  if (lead + speech_s + trail < min_total) {
    const double extra = min_total - (lead + speech_s + trail) + rng.uniform(0.0, 0.1);
    const double share = rng.uniform(0.3, 0.7);
    lead += extra * share;
    trail += extra * (1.0 - share);
  }

  Timeline tl;
  push(tl, SegmentKind::silence, lead, -1);
  for (const auto& seg : speech.segments) push(tl, seg.kind, seg.t1 - seg.t0, seg.syllable);
  tl.speech_start_s = lead;
  tl.speech_end_s = lead + speech_s;
  push(tl, SegmentKind::silence, trail, -1);
  tl.duration_s = tl.segments.back().t1;

  // Pitch accents on stressed vowels, a little after the vowel onset; the last one (the nuclear
  // accent) is the strongest.
  int last_stressed = -1;
  for (int i = 0; i < n; ++i)
    if (text.syllables[i].stressed) last_stressed = i;
  for (const auto& seg : tl.segments) {
    if (seg.kind != SegmentKind::vowel || !text.syllables[seg.syllable].stressed) continue;
    PitchAccent a;
    a.centre_s = seg.t0 + 0.4 * (seg.t1 - seg.t0);
    a.width_s = voice.accent_width_s * rng.uniform(0.8, 1.2);
    a.height_st = voice.accent_st * (seg.syllable == last_stressed ? 1.0 : 0.7) * rng.uniform(0.75, 1.15);
    tl.accents.push_back(a);
  }
  return tl;
}

}  // namespace ser::synth
