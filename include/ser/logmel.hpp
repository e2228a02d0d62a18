// ser/logmel.hpp — the CPU twin of the log-mel front-end (framing, window, FFT, power, mel, log).
#pragma once
#include <cstdint>
#include <vector>

#include "ser/feature_config.hpp"
#include "ser/fft.hpp"
#include "ser/mel.hpp"

namespace ser {

// Applies pre-emphasis and dither as the config asks (both off by default). Shared by every path so
// the GPU kernels see exactly the samples the CPU twin sees.
std::vector<float> condition_samples(const std::vector<float>& samples, const LogMelConfig& cfg);

// Sample index that framed position p (0 <= p < n + 2*pad) reads, for centred framing with
// reflect or constant padding; -1 means "zero" (constant padding).
std::int64_t padded_index(std::int64_t p, std::int64_t n, std::int64_t pad, PadMode mode);

class LogMelCpu {
 public:
  explicit LogMelCpu(const LogMelConfig& cfg);
  const LogMelConfig& config() const { return cfg_; }
  const MelFilterbank& filterbank() const { return fb_; }

  // samples: (n,) already conditioned; out: (num_frames(n), n_mels). Throws ser::Error when the
  // signal is shorter than cfg.min_samples().
  void compute(const float* samples, std::int64_t n, float* out) const;
  std::vector<float> compute(const std::vector<float>& samples) const;

 private:
  LogMelConfig cfg_;
  MelFilterbank fb_;
  std::vector<float> window_;  // (n_fft,)
  RealFft fft_;                // shared by threads: forward() is const
};

}  // namespace ser
