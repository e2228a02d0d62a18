// ser/audio.hpp — decoding (libsndfile) and resampling (libsoxr) to mono float in [-1, 1).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ser {

struct Audio {
  std::vector<float> samples;  // (n_samples,) mono, float in [-1, 1)
  int sample_rate = 0;         // Hz
  double duration_s() const { return sample_rate > 0 ? double(samples.size()) / sample_rate : 0.0; }
};

// Reads WAV (extra RIFF chunks allowed; 8/16/24/32-bit PCM, float), FLAC and whatever else
// libsndfile decodes; mixes channels to mono by averaging. Throws ser::Error "PATH: reason" for a
// missing, empty, truncated, corrupt or unsupported file.
Audio read_audio(const std::string& path);

// Resamples with libsoxr (high quality). Returns the input unchanged when the rates agree.
std::vector<float> resample(const std::vector<float>& samples, int from_rate, int to_rate);

// read_audio + resample to target_rate.
Audio load_audio(const std::string& path, int target_rate);

// Writes mono float samples as a 16-bit PCM WAV (used by the synthetic corpus and test fixtures).
// Writes to a temporary name and renames when complete.
void write_wav16(const std::string& path, const std::vector<float>& samples, int sample_rate);

}  // namespace ser
