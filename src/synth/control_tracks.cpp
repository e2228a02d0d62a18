// synth/control_tracks.cpp — turns the timeline into smooth control tracks.
// Targets change at segment boundaries; one-pole smoothing turns the steps into formant
// transitions (~20 ms time constant, slower in slow speech) and amplitude ramps (no clicks).
// Consonants already aim at the following vowel's formants (coarticulation).
#include "synth/det_math.hpp"  // first: fixes floating-point contraction for this file
#include "synth/control_tracks.hpp"

#include <algorithm>
#include <cmath>

#include "synth/f0_contour.hpp"
#include "synth/phonetics.hpp"

namespace ser::synth {
namespace {

// Smoothing coefficient of a one-pole with time constant tau, stepped every dt.
double pole(double dt, double tau) { return det_exp(-dt / tau); }

// Every track of an utterance of the timeline's length, zeroed: one value per control block (~1 ms).
ControlTracks sized_tracks(const Timeline& tl, int sample_rate) {
  ControlTracks c;
  c.block = std::max(1, static_cast<int>(std::floor(sample_rate / 1000.0 + 0.5)));
  const auto min_n = static_cast<std::size_t>(std::ceil(kMinDurationS * sample_rate));
  const auto max_n = static_cast<std::size_t>(std::floor(kMaxDurationS * sample_rate));
  c.n_samples = std::clamp(static_cast<std::size_t>(std::floor(tl.duration_s * sample_rate + 0.5)), min_n, max_n);
  const std::size_t n_frames = c.n_samples / c.block + 2;
  for (auto* track : {&c.f0, &c.voicing, &c.aspiration, &c.frication, &c.creak, &c.noise_hz, &c.noise_bw_hz})
    track->assign(n_frames, 0.0);
  for (int i = 0; i < 4; ++i) {
    c.formant_hz[i].assign(n_frames, 0.0);
    c.bandwidth_hz[i].assign(n_frames, 0.0);
  }
  return c;
}

// What one frame aims at before smoothing.
struct FrameTargets {
  double voice = 0, frication = 0, aspiration = 0;
  const Formants* shape;  // formants: the current vowel's, or a nasal murmur
  double bw_extra = 1.0;  // bandwidth factor on the shape's
};

// The targets in segment s at time t; `level` is the declination gain there.
FrameTargets frame_targets(const Segment& s, const Syllable* syl, const Consonant* cons, const Formants& vowel,
                           double t, double level, double stress_gain) {
  FrameTargets f{0, 0, 0, &vowel, 1.0};
  switch (s.kind) {
    case SegmentKind::vowel:
      f.voice = level * (syl->stressed ? stress_gain : 1.0);
      break;
    case SegmentKind::nasal:
      f.voice = 0.3 * level;
      f.shape = &cons->murmur;
      f.bw_extra = 1.5;
      break;
    case SegmentKind::frication:
      f.frication = cons->noise_level * level;
      break;
    case SegmentKind::burst: {
      // a sharp onset decaying through the burst
      const double into = (t - s.t0) / std::max(s.t1 - s.t0, 1e-4);
      f.frication = cons->noise_level * 2.0 * level * det_exp(-2.0 * into);
      break;
    }
    case SegmentKind::aspiration:
      f.aspiration = 0.12 * level;
      break;
    default:
      break;
  }
  return f;
}

}  // namespace

ControlTracks make_control_tracks(const Sentence& text, const Timeline& tl, const UtteranceVoice& v,
                                  int sample_rate) {
  ControlTracks c = sized_tracks(tl, sample_rate);
  const std::size_t n_frames = c.f0.size();
  const auto& vowels = vowel_table();
  const auto& consonants = consonant_table();
  const double nyquist_guard = 0.45 * sample_rate;
  const double dt = static_cast<double>(c.block) / sample_rate;
  const double a_formant = pole(dt, 0.018 * std::sqrt(v.rate));
  const double a_attack = pole(dt, 0.006);
  const double a_release = pole(dt, 0.012);
  const double a_noise = pole(dt, 0.004);
  const double stress_gain = db_to_amp(v.stress_db);
  const double span = std::max(tl.speech_end_s - tl.speech_start_s, 1e-3);

  // Formant target of a syllable's vowel, or of a nasal murmur, for this speaker and emotion.
  const auto target = [&](const Formants& f, double bw_extra, int i, double& hz, double& bw) {
    hz = std::min(f.freq[i] * v.formant_scale[i], nyquist_guard);
    bw = f.bandwidth[i] * v.bandwidth_scale * bw_extra;
  };

  std::array<double, 4> fhz{}, fbw{};
  int first_vowel = text.syllables.empty() ? 0 : text.syllables.front().vowel;
  for (int i = 0; i < 4; ++i) target(vowels[first_vowel], 1.0, i, fhz[i], fbw[i]);
  double voicing = 0, frication = 0, aspiration = 0;
  double noise_hz = 3000, noise_bw = 2000;
  int current_vowel = first_vowel;
  std::size_t seg = 0;
  for (std::size_t k = 0; k < n_frames; ++k) {
    const double t = static_cast<double>(k) * dt;
    while (seg + 1 < tl.segments.size() && t >= tl.segments[seg].t1) ++seg;
    const Segment& s = tl.segments[seg];
    const Syllable* syl = s.syllable >= 0 ? &text.syllables[s.syllable] : nullptr;
    if (syl) current_vowel = syl->vowel;  // consonants aim at their syllable's vowel
    const double x = std::clamp((t - tl.speech_start_s) / span, 0.0, 1.0);
    const Consonant* cons = (syl && syl->consonant >= 0) ? &consonants[syl->consonant] : nullptr;
    const FrameTargets f =
        frame_targets(s, syl, cons, vowels[current_vowel], t, db_to_amp(v.level_decl_db * x), stress_gain);
    if (cons && (s.kind == SegmentKind::frication || s.kind == SegmentKind::burst)) {
      noise_hz = std::min(cons->noise_hz * v.formant_scale[2], nyquist_guard);
      noise_bw = cons->noise_bw_hz * v.formant_scale[2];
    }

    // Smooth toward the targets.
    for (int i = 0; i < 4; ++i) {
      double hz = 0, bw = 0;
      target(*f.shape, f.bw_extra, i, hz, bw);
      fhz[i] = a_formant * fhz[i] + (1.0 - a_formant) * hz;
      fbw[i] = a_formant * fbw[i] + (1.0 - a_formant) * bw;
      c.formant_hz[i][k] = fhz[i];
      c.bandwidth_hz[i][k] = fbw[i];
    }
    const double a_voice = f.voice > voicing ? a_attack : a_release;
    voicing = a_voice * voicing + (1.0 - a_voice) * f.voice;
    // bursts start abruptly (no smoothing on the rise), fricatives fade in and out
    frication = (s.kind == SegmentKind::burst && f.frication > frication)
                    ? f.frication
                    : a_noise * frication + (1.0 - a_noise) * f.frication;
    aspiration = a_noise * aspiration + (1.0 - a_noise) * f.aspiration;
    // Amplitude tremor (fear) rides on the smoothed voicing.
    const double tremor =
        v.tremor_amp > 0.0 ? 1.0 + v.tremor_amp * det_sin(kTwoPi * v.tremor_hz * t + v.tremor_phase) : 1.0;
    c.voicing[k] = voicing * tremor;
    // Creak fades in over ~10 % of the utterance from its onset (phrase-final vocal fry).
    c.creak[k] = v.creak * std::clamp((x - v.creak_onset) / 0.1 + (v.creak_onset > 0.0 ? 0.0 : 1.0), 0.0, 1.0);
    c.frication[k] = frication;
    c.aspiration[k] = aspiration;
    c.noise_hz[k] = noise_hz;
    c.noise_bw_hz[k] = noise_bw;
    c.f0[k] = f0_at(tl, v, t);
  }
  return c;
}

}  // namespace ser::synth
