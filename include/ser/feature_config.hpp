// ser/feature_config.hpp — every front-end convention as a named field with its default.
// The default LogMelConfig equals torchaudio.transforms.MelSpectrogram(sample_rate=16000, n_fft=512,
// win_length=400, hop_length=160, f_min=0, f_max=8000, n_mels=64, window_fn=torch.hann_window
// (periodic), power=2, center=True, pad_mode="reflect", norm=None, mel_scale="htk"), followed by
// log(mel + 1e-6). tests/test_logmel_torchaudio.cpp proves it on fixtures made by tools/.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ser {

enum class WindowType { hann, hamming, rectangular };
enum class PadMode { reflect, constant };   // how centred frames are padded at the edges
enum class MelScale { htk, slaney };
enum class MelNorm { none, slaney };        // slaney: each triangle scaled to unit area (2 / width)

struct LogMelConfig {
  int sample_rate = 16000;      // Hz; audio is resampled to this rate before framing
  int n_fft = 512;              // FFT size; must be a power of two in [16, 4096]
  int win_length = 400;         // samples of the window, zero-padded (centred) to n_fft
  int hop_length = 160;         // samples between frame starts
  WindowType window = WindowType::hann;
  bool window_periodic = true;  // periodic (torch.hann_window default) or symmetric
  bool center = true;           // frame t is centred on sample t*hop (pad n_fft/2 each side)
  PadMode pad_mode = PadMode::reflect;
  double power = 2.0;           // 1: magnitude, 2: power spectrum
  MelScale mel_scale = MelScale::htk;
  MelNorm mel_norm = MelNorm::none;
  double f_min = 0.0;           // Hz, lowest mel band edge
  double f_max = 8000.0;        // Hz, highest mel band edge (<= sample_rate / 2)
  int n_mels = 64;
  double log_offset = 1e-6;     // features are log(mel + log_offset), natural log
  double preemphasis = 0.0;     // y[n] = x[n] - a x[n-1] over the whole signal; 0 = off
  double dither = 0.0;          // std of Gaussian noise added to samples (deterministic); 0 = off
  std::uint64_t dither_seed = 0;

  int n_freqs() const { return n_fft / 2 + 1; }
  // Frames produced for n_samples of audio (center=true: 1 + n/hop; else 1 + (n - n_fft)/hop).
  std::int64_t num_frames(std::int64_t n_samples) const;
  // Shortest signal the framing accepts (reflect padding needs more than n_fft/2 samples).
  std::int64_t min_samples() const;
  void validate() const;  // throws ser::Error naming the field
};

struct ProsodyConfig {
  double f0_min = 75.0;            // Hz, lowest pitch searched
  double f0_max = 550.0;           // Hz, highest pitch searched
  int yin_window = 400;            // samples in YIN's integration window (>= longest period)
  double yin_threshold = 0.15;     // YIN absolute threshold on the cumulative-mean-normalised difference
  double voicing_threshold = 0.5;  // a frame is voiced when its best CMND value is below this ...
  double silence_db = -26.0;       // ... and its RMS level is within this many dB of the utterance peak
  double loudness_exponent = 0.3;  // loudness = sum over mel bands of power^exponent (Stevens' law)

  // Frames share the log-mel hop and centring, so prosody row t lines up with log-mel row t.
  int tau_min(int sample_rate) const;
  int tau_max(int sample_rate) const;
  void validate(int sample_rate) const;
};

struct FeatureConfig {
  LogMelConfig logmel;
  ProsodyConfig prosody;

  std::string to_json() const;                       // canonical, stable field order
  static FeatureConfig from_json(const std::string&); // throws ser::Error on unknown/missing fields
  // Human-readable list of fields that differ ("logmel.n_mels: 64 vs 80"); empty when equal.
  std::vector<std::string> differences(const FeatureConfig& other) const;
  void validate() const;
};

std::string to_string(WindowType);
std::string to_string(PadMode);
std::string to_string(MelScale);
std::string to_string(MelNorm);

}  // namespace ser
