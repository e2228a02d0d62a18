// synth/source_filter.cpp — glottal source -> spectral tilt -> cascade of formant resonators,
// plus a parallel frication branch, then lip radiation.
//
// Source: a KLGLOTT88 (Rosenberg-like polynomial) glottal flow, u = 27/4 x^2 (1 - x) over the open
// phase x = phase / open_quotient, zero while the glottis is closed. Its abrupt closure is the main
// excitation; a low open quotient (pressed voice) gives a sharper closure and brighter spectrum.
// The phase accumulates F0 / fs every sample, so the pitch contour is continuous; each period gets
// its own jitter (length) and shimmer (amplitude), and in creaky voice every other period is
// longer and weaker (diplophonia). Aspiration noise is modulated by the flow, as breath noise is
// strongest while the glottis is open.
#include "synth/det_math.hpp"  // first: fixes floating-point contraction for this file
#include "synth/source_filter.hpp"

#include <algorithm>
#include <cmath>

namespace ser::synth {
namespace {

// Klatt's two-pole resonator y = A x + B y1 + C y2 with unity gain at DC: cascaded, the vowel's
// formant peaks come out with their natural relative levels.
struct Resonator {
  double a = 1, b = 0, c = 0, y1 = 0, y2 = 0;
  void set(double hz, double bw_hz, int fs) {
    const double r = det_exp(-kPi * bw_hz / fs);
    b = 2.0 * r * det_cos(kTwoPi * hz / fs);
    c = -r * r;
    a = 1.0 - b - c;
  }
  double operator()(double x) {
    const double y = a * x + b * y1 + c * y2;
    y2 = y1;
    y1 = y;
    return y;
  }
};

// Constant-peak-gain band-pass (zeros at DC and Nyquist) for the frication noise.
struct BandPass {
  double g = 0, b = 0, c = 0, x1 = 0, x2 = 0, y1 = 0, y2 = 0;
  void set(double hz, double bw_hz, int fs) {
    const double r = det_exp(-kPi * bw_hz / fs);
    b = 2.0 * r * det_cos(kTwoPi * hz / fs);
    c = -r * r;
    g = 0.5 * (1.0 - r * r);
  }
  double operator()(double x) {
    const double y = g * (x - x2) + b * y1 + c * y2;
    x2 = x1;
    x1 = x;
    y2 = y1;
    y1 = y;
    return y;
  }
};

constexpr double kUnitUniform = 1.7320508075688772;  // sqrt(3): a [-1,1) uniform with variance 1
// Frication level per unit of the frication track, relative to the utterance's own vowel RMS:
// calibrated so a strong fricative (s, S) is ~10-12 dB below the vowels, as in natural speech.
constexpr double kFricationToVowel = 0.85;

}  // namespace

SourceFilterBranches render_branches(const ControlTracks& c, const UtteranceVoice& v, int fs, Rng& rng) {
  SourceFilterBranches out;
  out.voiced.assign(c.n_samples, 0.0);
  out.frication.assign(c.n_samples, 0.0);
  Resonator formant[4];
  // A fixed fifth formant stands in for all the higher resonances (Klatt's "higher-pole
  // correction"): without it the spectrum above F4 falls far too fast.
  Resonator f5;
  const double f5_hz = 4500.0 * v.formant_scale[3];
  const bool use_f5 = f5_hz < 0.45 * fs;
  if (use_f5) f5.set(f5_hz, 300.0 * v.bandwidth_scale, fs);
  BandPass noise_filter;
  const double inv_block = 1.0 / c.block;
  const double tilt = v.tilt;
  const double oq = v.open_quotient;

  double phase = 0.0;           // position in the glottal period, [0, 1)
  double period_factor = 1.0;   // this period's jitter (and creak) on F0
  double pulse_gain = 1.0;      // this period's shimmer (and creak) on amplitude
  bool odd_period = false;
  double tilted = 0.0, tilted2 = 0.0, previous = 0.0, previous_hiss = 0.0;

  for (std::size_t n = 0; n < c.n_samples; ++n) {
    const std::size_t k = n / c.block;
    const double frac = static_cast<double>(n - k * c.block) * inv_block;
    if (n == k * c.block) {
      for (int i = 0; i < 4; ++i) formant[i].set(c.formant_hz[i][k], c.bandwidth_hz[i][k], fs);
      noise_filter.set(c.noise_hz[k], c.noise_bw_hz[k], fs);
    }
    const auto lerp = [k, frac](const std::vector<double>& track) {
      return track[k] + frac * (track[k + 1] - track[k]);
    };
    const double f0 = lerp(c.f0);
    const double voicing = lerp(c.voicing);

    // Glottal flow.
    phase += f0 * period_factor / fs;
    if (phase >= 1.0) {
      phase -= 1.0;
      odd_period = !odd_period;
      const double creak = odd_period ? lerp(c.creak) : 0.0;
      period_factor = std::clamp(1.0 + v.jitter * rng.normal(), 0.8, 1.25) / (1.0 + 0.35 * creak);
      pulse_gain = std::max(0.2, 1.0 + v.shimmer * rng.normal()) * (1.0 - 0.55 * creak);
    }
    const double x = phase / oq;
    const double flow_shape = x < 1.0 ? 6.75 * x * x * (1.0 - x) : 0.0;  // peak 1 at x = 2/3
    const double flow = flow_shape * pulse_gain * voicing;

    // Aspiration: breath noise gated by the open glottis, plus release aspiration.
    const double breath = rng.symmetric() * kUnitUniform;
    const double source =
        flow + breath * (v.breathiness * voicing * (0.3 + 0.7 * flow_shape) + lerp(c.aspiration));

    // Spectral tilt: two one-pole low-passes (unity DC gain, -12 dB/octave above the corner), so a
    // dark (sad) voice loses ~15-20 dB at 2-3 kHz against a bright (angry) one. Then the formants.
    tilted = (1.0 - tilt) * source + tilt * tilted;
    tilted2 = (1.0 - tilt) * tilted + tilt * tilted2;
    double y = tilted2;
    for (auto& f : formant) y = f(y);
    if (use_f5) y = f5(y);

    // Frication / bursts through their own resonance, in parallel.
    const double hiss = noise_filter(rng.symmetric() * kUnitUniform * lerp(c.frication));

    // Lip radiation: a first difference (+6 dB/octave).
    out.voiced[n] = y - previous;
    previous = y;
    out.frication[n] = hiss - previous_hiss;
    previous_hiss = hiss;
  }
  return out;
}

std::vector<double> mix_branches(const SourceFilterBranches& b, const ControlTracks& c, const UtteranceVoice& v) {
  // Vowel RMS: the voiced branch where the voicing track is above half its maximum.
  double max_voicing = 0.0;
  for (double x : c.voicing) max_voicing = std::max(max_voicing, x);
  double energy = 0.0;
  std::size_t count = 0;
  for (std::size_t n = 0; n < b.voiced.size(); ++n) {
    if (c.voicing[n / c.block] > 0.5 * max_voicing) {
      energy += b.voiced[n] * b.voiced[n];
      ++count;
    }
  }
  const double vowel_rms = count > 0 ? std::sqrt(energy / static_cast<double>(count)) : 1e-3;
  const double gain = kFricationToVowel * v.frication_gain * vowel_rms;
  std::vector<double> out(b.voiced.size());
  for (std::size_t n = 0; n < out.size(); ++n) out[n] = b.voiced[n] + gain * b.frication[n];
  return out;
}

std::vector<double> render_source_filter(const ControlTracks& c, const UtteranceVoice& v, int fs, Rng& rng) {
  return mix_branches(render_branches(c, v, fs, rng), c, v);
}

}  // namespace ser::synth
