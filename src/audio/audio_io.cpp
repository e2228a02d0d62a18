// Audio decoding and writing through libsndfile: any format it reads becomes mono float in [-1, 1).
// Decoding is AudioFileStream's (audio_file_stream.cpp) with the checks of audio_file_checks.cpp;
// read_audio collects its blocks.
#include <sndfile.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "audio/audio_file_checks.hpp"
#include "ser/audio.hpp"
#include "ser/audio_stream.hpp"
#include "ser/error.hpp"

namespace ser {
namespace {

namespace fs = std::filesystem;

using audio_checks::kBelowOne;

struct SndFile {
  SNDFILE* handle = nullptr;
  SndFile() = default;
  SndFile(const SndFile&) = delete;
  SndFile& operator=(const SndFile&) = delete;
  ~SndFile() {
    if (handle) sf_close(handle);
  }
};

}  // namespace

Audio read_audio(const std::string& path) {
  AudioFileStream stream(path);
  Audio audio;
  audio.sample_rate = stream.sample_rate();
  std::vector<float> block;
  while (stream.read(block)) audio.samples.insert(audio.samples.end(), block.begin(), block.end());
  return audio;
}

Audio load_audio(const std::string& path, int target_rate) {
  if (target_rate <= 0) throw Error("load_audio: target sample rate must be positive, got " + std::to_string(target_rate));
  Audio audio = read_audio(path);
  if (audio.sample_rate != target_rate) {
    const std::size_t n = audio.samples.size();
    audio.samples = resample(audio.samples, audio.sample_rate, target_rate);
    if (audio.samples.empty())
      throw file_error(path, std::string("too short: its ").append(std::to_string(n)).append(" samples at ")
                                 .append(std::to_string(audio.sample_rate)).append(" Hz are no sample at ")
                                 .append(std::to_string(target_rate)).append(" Hz"));
    audio.sample_rate = target_rate;
    // The resampler's ringing can overshoot a full-scale signal slightly.
    for (float& v : audio.samples) v = std::clamp(v, -1.0f, kBelowOne);
  }
  return audio;
}

void write_wav16(const std::string& path, const std::vector<float>& samples, int sample_rate) {
  if (sample_rate <= 0) throw file_error(path, "cannot write a WAV with sample rate " + std::to_string(sample_rate));
  // Quantise ourselves (x * 32768, clipped) so a read back gives the same grid libsndfile reads
  // with (s / 32768); libsndfile's own float->short conversion scales by 32767 instead.
  std::vector<short> pcm(samples.size());
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const float x = samples[i];
    if (std::isnan(x)) throw file_error(path, "refusing to write a NaN sample (index " + std::to_string(i) + ")");
    const double q = std::nearbyint(double(x) * 32768.0);
    pcm[i] = short(std::clamp(q, -32768.0, 32767.0));
  }

  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  SF_INFO info{};
  info.samplerate = sample_rate;
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SndFile file;
  {
    std::lock_guard<std::mutex> lock(audio_checks::sndfile_open_mutex());
    file.handle = sf_open(tmp.c_str(), SFM_WRITE, &info);
    if (!file.handle) {
      std::string detail = sf_strerror(nullptr);
      std::replace(detail.begin(), detail.end(), '\n', ' ');
      throw file_error(path, "cannot create " + tmp + ": " + detail);
    }
  }
  const sf_count_t written = sf_write_short(file.handle, pcm.data(), sf_count_t(pcm.size()));
  const bool write_ok = written == sf_count_t(pcm.size());
  std::string detail = sf_strerror(file.handle);
  const int close_rc = sf_close(file.handle);
  file.handle = nullptr;
  std::error_code ec;
  if (!write_ok || close_rc != 0) {
    fs::remove(tmp, ec);
    throw file_error(path, "writing the WAV failed: " + detail);
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw file_error(path, "cannot rename " + tmp + " into place: " + ec.message());
  }
}

}  // namespace ser
