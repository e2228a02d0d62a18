// ser/prosody.hpp — per-frame prosodic and voice features and their utterance functionals.
//
// Two stages, so CPU and CUDA share one definition:
//  1. frame measures (the expensive part; CPU twin here, CUDA kernel in kernels/prosody.cu):
//     YIN pitch period, its cumulative-mean-normalised difference, normalised autocorrelation at
//     that period, RMS, zero-crossing rate and peak amplitude, for frame t centred on sample t*hop
//     (same frames as the log-mel; samples outside the signal read as zero).
//  2. a cheap post-pass on the CPU: voicing decision (needs the utterance's peak level), F0 in Hz,
//     dB levels, loudness from the mel power, jitter and shimmer between consecutive voiced frames,
//     harmonics-to-noise ratio.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ser/feature_config.hpp"

namespace ser {

// Columns of the frame-measure matrix (n_frames, kFrameMeasures).
enum FrameMeasure : int {
  kMeasurePeriod = 0,       // YIN period in samples (parabolic-refined); 0 when no lag qualified
  kMeasureCmnd = 1,         // YIN CMND d'(tau) at that period (1 when none)
  kMeasurePeriodicity = 2,  // normalised autocorrelation at the integer period, in [-1, 1]
  kMeasureRms = 3,          // RMS of the win_length samples centred on the frame
  kMeasureZcr = 4,          // zero crossings per sample pair over the same samples
  kMeasurePeak = 5,         // peak |x| over one period centred on the frame (W samples if CMND >= voicing_threshold)
  kFrameMeasures = 6
};

// CPU twin of the CUDA prosody kernel. samples: (n,); out: (n_frames, kFrameMeasures).
void prosody_measures_cpu(const float* samples, std::int64_t n, std::int64_t n_frames,
                          const LogMelConfig& lm, const ProsodyConfig& pc, float* out);

// Sample on which frame t is centred: t * hop (+ n_fft / 2 when lm.center is false, so that prosody
// row t always lines up with log-mel row t). The CUDA kernel uses the same rule.
std::int64_t prosody_frame_centre(std::int64_t t, const LogMelConfig& lm);

// YIN's difference function of frame t exactly as the CPU twin (and the CUDA kernel) computes it:
// x_j = samples[centre - (W + tau_max) / 2 + j], j < W + tau_max (zero outside the signal), and
// d[tau] = sum_{j0 <= j < j0 + W} (x_j - x_{j+tau})^2 with j0 = (tau_max - tau) / 2, so the pair of
// windows of every lag is centred on the frame; tau = 0..tau_max, float, j ascending. For tests.
std::vector<float> yin_difference_cpu(const float* samples, std::int64_t n, std::int64_t t,
                                      const LogMelConfig& lm, const ProsodyConfig& pc);

// Columns of the per-frame prosody matrix (n_frames, kProsodyColumns), in prosody_names() order.
enum ProsodyColumn : int {
  kProsodyF0 = 0,          // f0_hz: F0 in Hz on voiced frames, 0 on unvoiced ones
  kProsodyVoiced = 1,      // voiced: 0 or 1
  kProsodyPeriodicity = 2, // periodicity: kMeasurePeriodicity (every frame)
  kProsodyRmsDb = 3,       // rms_db: 20 log10(rms + 1e-10)
  kProsodyLoudness = 4,    // loudness: sum_m max(exp(logmel_m) - log_offset, 0)^loudness_exponent
  kProsodyZcr = 5,         // zcr: kMeasureZcr
  kProsodyJitter = 6,      // jitter_local: |T_t - T_{t-1}| / mean(T_t, T_{t-1}), both frames voiced
  kProsodyShimmer = 7,     // shimmer_local: |A_t - A_{t-1}| / mean(A_t, A_{t-1}), both frames voiced
  kProsodyHnrDb = 8,       // hnr_db: 10 log10(r / (1 - r)), r = periodicity in [1e-4, 1 - 1e-4]; voiced
  kProsodyColumns = 9
};

// Per-frame feature columns (the cache's prosody_names).
const std::vector<std::string>& prosody_names();
int prosody_column(const std::string& name);  // throws on unknown names

// measures: (n_frames, kFrameMeasures); logmel: (n_frames, n_mels); prosody: (n_frames, n_prosody).
void prosody_from_measures(const float* measures, const float* logmel, std::int64_t n_frames,
                           const FeatureConfig& cfg, float* prosody);

// Utterance functionals (the cache's functional_names): for each prosody column, mean, std,
// p10, p50, p90, range (p90 - p10) and slope (per second), over voiced frames for the pitch and
// voice-quality columns and over all frames otherwise; plus voiced_fraction and duration_s.
const std::vector<std::string>& functional_names();
void utterance_functionals(const float* prosody, std::int64_t n_frames, const FeatureConfig& cfg,
                           float* out /* (n_functionals,) */);

}  // namespace ser
