// Analysis window and mel filterbank, defined as torchaudio defines them
// (torch.hann_window, torch.stft's centred window padding, torchaudio.functional.melscale_fbanks).
#include <cmath>
#include <numbers>

#include "ser/mel.hpp"

namespace ser {

std::vector<float> make_padded_window(const LogMelConfig& cfg) {
  const int n = cfg.win_length;
  const double denom = cfg.window_periodic ? n : std::max(1, n - 1);
  std::vector<float> window(cfg.n_fft, 0.0f);
  const int left = (cfg.n_fft - n) / 2;  // torch.stft centres a shorter window in the FFT frame
  for (int i = 0; i < n; ++i) {
    const double phase = 2.0 * std::numbers::pi * i / denom;
    double w = 1.0;
    if (cfg.window == WindowType::hann) w = 0.5 - 0.5 * std::cos(phase);
    if (cfg.window == WindowType::hamming) w = 0.54 - 0.46 * std::cos(phase);
    window[left + i] = static_cast<float>(w);
  }
  return window;
}

double hz_to_mel(double hz, MelScale scale) {
  if (scale == MelScale::htk) return 2595.0 * std::log10(1.0 + hz / 700.0);
  // Slaney (auditory toolbox): linear below 1 kHz, logarithmic above.
  constexpr double f_sp = 200.0 / 3.0, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp;
  const double logstep = std::log(6.4) / 27.0;
  if (hz < min_log_hz) return hz / f_sp;
  return min_log_mel + std::log(hz / min_log_hz) / logstep;
}

double mel_to_hz(double mel, MelScale scale) {
  if (scale == MelScale::htk) return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0);
  constexpr double f_sp = 200.0 / 3.0, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp;
  const double logstep = std::log(6.4) / 27.0;
  if (mel < min_log_mel) return mel * f_sp;
  return min_log_hz * std::exp(logstep * (mel - min_log_mel));
}

MelFilterbank MelFilterbank::build(const LogMelConfig& cfg) {
  MelFilterbank fb;
  fb.n_mels = cfg.n_mels;
  fb.n_freqs = cfg.n_freqs();
  // Bin centre frequencies: linspace(0, sample_rate // 2, n_freqs), as torchaudio.
  std::vector<double> freqs(fb.n_freqs);
  const double nyquist = static_cast<double>(cfg.sample_rate / 2);
  for (int k = 0; k < fb.n_freqs; ++k) freqs[k] = fb.n_freqs > 1 ? nyquist * k / (fb.n_freqs - 1) : 0.0;
  // Band edges: n_mels + 2 points equally spaced on the mel scale.
  const double m_min = hz_to_mel(cfg.f_min, cfg.mel_scale), m_max = hz_to_mel(cfg.f_max, cfg.mel_scale);
  std::vector<double> f_pts(cfg.n_mels + 2);
  for (int i = 0; i < cfg.n_mels + 2; ++i)
    f_pts[i] = mel_to_hz(m_min + (m_max - m_min) * i / (cfg.n_mels + 1), cfg.mel_scale);

  fb.first_bin.resize(fb.n_mels);
  fb.n_bins.resize(fb.n_mels);
  fb.offset.resize(fb.n_mels);
  for (int m = 0; m < fb.n_mels; ++m) {
    const double lower = f_pts[m], centre = f_pts[m + 1], upper = f_pts[m + 2];
    const double scale = cfg.mel_norm == MelNorm::slaney ? 2.0 / (upper - lower) : 1.0;
    fb.offset[m] = static_cast<int>(fb.weights.size());
    fb.first_bin[m] = 0;
    fb.n_bins[m] = 0;
    for (int k = 0; k < fb.n_freqs; ++k) {
      const double down = (freqs[k] - lower) / (centre - lower);
      const double up = (upper - freqs[k]) / (upper - centre);
      const double w = std::max(0.0, std::min(down, up)) * scale;
      if (w <= 0.0) continue;
      if (fb.n_bins[m] == 0) fb.first_bin[m] = k;
      // Bins inside one triangle are contiguous; store zeros for any gap to keep that true.
      while (fb.first_bin[m] + fb.n_bins[m] < k) {
        fb.weights.push_back(0.0f);
        ++fb.n_bins[m];
      }
      fb.weights.push_back(static_cast<float>(w));
      ++fb.n_bins[m];
    }
  }
  return fb;
}

std::vector<double> MelFilterbank::dense() const {
  std::vector<double> out(static_cast<std::size_t>(n_freqs) * n_mels, 0.0);
  for (int m = 0; m < n_mels; ++m)
    for (int j = 0; j < n_bins[m]; ++j)
      out[static_cast<std::size_t>(first_bin[m] + j) * n_mels + m] = weights[offset[m] + j];
  return out;
}

}  // namespace ser
