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

}  // namespace

ControlTracks make_control_tracks(const Sentence& text, const Timeline& tl, const UtteranceVoice& v,
                                  int sample_rate) {
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

    // Targets for this frame.
    double voice_target = 0, fric_target = 0, asp_target = 0;
    const Formants* shape = &vowels[current_vowel];
    double bw_extra = 1.0;
    const double x = std::clamp((t - tl.speech_start_s) / span, 0.0, 1.0);
    const double level = db_to_amp(v.level_decl_db * x);
    const Consonant* cons = (syl && syl->consonant >= 0) ? &consonants[syl->consonant] : nullptr;
    switch (s.kind) {
      case SegmentKind::vowel:
        voice_target = level * (syl->stressed ? stress_gain : 1.0);
        break;
      case SegmentKind::nasal:
        voice_target = 0.3 * level;
        shape = &cons->murmur;
        bw_extra = 1.5;
        break;
      case SegmentKind::frication:
        fric_target = cons->noise_level * level;
        break;
      case SegmentKind::burst: {
        // a sharp onset decaying through the burst
        const double into = (t - s.t0) / std::max(s.t1 - s.t0, 1e-4);
        fric_target = cons->noise_level * 2.0 * level * det_exp(-2.0 * into);
        break;
      }
      case SegmentKind::aspiration:
        asp_target = 0.12 * level;
        break;
      default:
        break;
    }
    if (cons && (s.kind == SegmentKind::frication || s.kind == SegmentKind::burst)) {
      noise_hz = std::min(cons->noise_hz * v.formant_scale[2], nyquist_guard);
      noise_bw = cons->noise_bw_hz * v.formant_scale[2];
    }

    // Smooth toward the targets.
    for (int i = 0; i < 4; ++i) {
      double hz = 0, bw = 0;
      target(*shape, bw_extra, i, hz, bw);
      fhz[i] = a_formant * fhz[i] + (1.0 - a_formant) * hz;
      fbw[i] = a_formant * fbw[i] + (1.0 - a_formant) * bw;
      c.formant_hz[i][k] = fhz[i];
      c.bandwidth_hz[i][k] = fbw[i];
    }
    const double a_voice = voice_target > voicing ? a_attack : a_release;
    voicing = a_voice * voicing + (1.0 - a_voice) * voice_target;
    // bursts start abruptly (no smoothing on the rise), fricatives fade in and out
    frication = (s.kind == SegmentKind::burst && fric_target > frication)
                    ? fric_target
                    : a_noise * frication + (1.0 - a_noise) * fric_target;
    aspiration = a_noise * aspiration + (1.0 - a_noise) * asp_target;
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
