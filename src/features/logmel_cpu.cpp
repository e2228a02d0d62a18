// The CPU twin of the log-mel front-end: framing with centred padding, window, real FFT, power,
// sparse mel projection, log. It is also the oracle the CUDA paths are tested against.
#include <cmath>
#include <complex>
#include <numbers>

#include "ser/error.hpp"
#include "ser/fft.hpp"
#include "ser/logmel.hpp"

namespace ser {

std::int64_t padded_index(std::int64_t p, std::int64_t n, std::int64_t pad, PadMode mode) {
  std::int64_t i = p - pad;
  if (i >= 0 && i < n) return i;
  if (mode == PadMode::constant) return -1;
  // numpy/torch "reflect": mirror about the edge samples without repeating them.
  if (i < 0) i = -i;
  if (i >= n) i = 2 * (n - 1) - i;
  return (i >= 0 && i < n) ? i : -1;
}

std::vector<float> condition_samples(const std::vector<float>& samples, const LogMelConfig& cfg) {
  std::vector<float> out(samples);
  if (cfg.dither > 0) {
    // Deterministic Gaussian dither: splitmix64 stream + Box-Muller, seeded by the config.
    std::uint64_t state = cfg.dither_seed ^ 0x9E3779B97F4A7C15ull;
    auto next_uniform = [&state]() {
      std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      z ^= z >> 31;
      return (static_cast<double>(z >> 11) + 0.5) * (1.0 / 9007199254740992.0);
    };
    for (float& x : out) {
      const double u1 = next_uniform(), u2 = next_uniform();
      x += static_cast<float>(cfg.dither * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2));
    }
  }
  if (cfg.preemphasis > 0) {
    const float a = static_cast<float>(cfg.preemphasis);
    for (std::size_t i = out.size(); i-- > 1;) out[i] -= a * out[i - 1];
  }
  return out;
}

LogMelCpu::LogMelCpu(const LogMelConfig& cfg)
    : cfg_(cfg),
      fb_((cfg.validate(), MelFilterbank::build(cfg))),
      window_(make_padded_window(cfg)),
      fft_(cfg.n_fft) {}

std::vector<float> LogMelCpu::compute(const std::vector<float>& samples) const {
  std::vector<float> out(static_cast<std::size_t>(cfg_.num_frames(static_cast<std::int64_t>(samples.size()))) *
                         cfg_.n_mels);
  compute(samples.data(), static_cast<std::int64_t>(samples.size()), out.data());
  return out;
}

void LogMelCpu::compute(const float* samples, std::int64_t n, float* out) const {
  if (n < cfg_.min_samples())
    throw Error("log-mel: signal of " + std::to_string(n) + " samples is shorter than the " +
                std::to_string(cfg_.min_samples()) + " the framing needs");
  const int n_fft = cfg_.n_fft, n_freqs = cfg_.n_freqs(), n_mels = cfg_.n_mels;
  const std::int64_t n_frames = cfg_.num_frames(n);
  const std::int64_t pad = cfg_.center ? n_fft / 2 : 0;
  const float log_offset = static_cast<float>(cfg_.log_offset);

  std::vector<float> frame(n_fft);                     // (n_fft,) windowed samples
  std::vector<std::complex<float>> spectrum(n_freqs);  // (n_freqs,)
  std::vector<float> power(n_freqs);                   // (n_freqs,)
  std::vector<std::complex<double>> scratch;
  for (std::int64_t t = 0; t < n_frames; ++t) {
    const std::int64_t start = t * cfg_.hop_length - pad;  // first sample of the frame
    if (start >= 0 && start + n_fft <= n) {
      for (int j = 0; j < n_fft; ++j) frame[j] = samples[start + j] * window_[j];
    } else {
      for (int j = 0; j < n_fft; ++j) {
        const std::int64_t i = padded_index(start + j + pad, n, pad, cfg_.pad_mode);
        frame[j] = i < 0 ? 0.0f : samples[i] * window_[j];
      }
    }
    fft_.forward(frame.data(), spectrum.data(), scratch);
    if (cfg_.power == 2.0) {
      for (int k = 0; k < n_freqs; ++k)
        power[k] = spectrum[k].real() * spectrum[k].real() + spectrum[k].imag() * spectrum[k].imag();
    } else {
      for (int k = 0; k < n_freqs; ++k)
        power[k] = std::sqrt(spectrum[k].real() * spectrum[k].real() + spectrum[k].imag() * spectrum[k].imag());
    }
    float* row = out + t * n_mels;  // (n_mels,)
    for (int m = 0; m < n_mels; ++m) {
      const float* w = fb_.weights.data() + fb_.offset[m];
      const float* p = power.data() + fb_.first_bin[m];
      float acc = 0.0f;
      for (int j = 0; j < fb_.n_bins[m]; ++j) acc += w[j] * p[j];
      row[m] = std::log(acc + log_offset);
    }
  }
}

}  // namespace ser
