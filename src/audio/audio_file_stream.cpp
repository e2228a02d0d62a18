// ser::AudioFileStream — read_audio one block at a time: the same checks before decoding, the same
// mix to mono and clamp, the same errors, with only a block of samples in memory.
#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "audio/audio_file_checks.hpp"
#include "ser/audio_stream.hpp"
#include "ser/error.hpp"

namespace ser {

using audio_checks::kBelowOne;

struct AudioFileStream::Impl {
  std::string path;
  SF_INFO info{};
  SNDFILE* handle = nullptr;
  bool check_finite = false;
  bool at_end = false;
  std::int64_t frames_read = 0;
  std::vector<float> interleaved;  // (kBlockFrames, channels)

  ~Impl() {
    if (handle) sf_close(handle);
  }

  // At the end of the data: what read_audio checks once everything is decoded.
  void check_complete() const {
    if (sf_error(handle) != SF_ERR_NO_ERROR) {
      std::string detail = sf_strerror(handle);
      std::replace(detail.begin(), detail.end(), '\n', ' ');
      throw file_error(path, "decoding failed (truncated or corrupt file?): " + detail);
    }
    if (frames_read == 0) throw file_error(path, "contains no audio samples");
    if (info.frames != SF_COUNT_MAX && frames_read < info.frames)
      throw file_error(path, std::string("truncated audio: the header announces ").append(std::to_string(info.frames))
                                 .append(" frames but only ").append(std::to_string(frames_read)).append(" could be read"));
  }
};

AudioFileStream::AudioFileStream(const std::string& path) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.path = path;
  audio_checks::check_file_basics(path);
  {
    std::lock_guard<std::mutex> lock(audio_checks::sndfile_open_mutex());
    m.handle = sf_open(path.c_str(), SFM_READ, &m.info);
    if (!m.handle) throw file_error(path, audio_checks::open_failure_reason());
  }
  // RIFF files were checked by check_file_basics, which knows which chunk overran.
  if (!audio_checks::is_riff_wave(path)) audio_checks::check_parse_log(path, m.handle);
  audio_checks::check_header(path, m.info);
  // Integer PCM is scaled to [-1, 1) by libsndfile (SFC_SET_NORM_FLOAT is on by default).
  m.check_finite = audio_checks::is_float_format(m.info.format);
  m.interleaved.resize(kBlockFrames * std::size_t(m.info.channels));
}

AudioFileStream::~AudioFileStream() = default;

const std::string& AudioFileStream::path() const { return impl_->path; }
int AudioFileStream::sample_rate() const { return impl_->info.samplerate; }
std::int64_t AudioFileStream::frames_read() const { return impl_->frames_read; }

bool AudioFileStream::read(std::vector<float>& block) {
  Impl& m = *impl_;
  block.clear();
  if (m.at_end) return false;
  const sf_count_t got = sf_readf_float(m.handle, m.interleaved.data(), sf_count_t(kBlockFrames));
  if (got <= 0) {
    m.at_end = true;
    m.check_complete();
    return false;
  }
  const std::size_t channels = std::size_t(m.info.channels);
  block.resize(std::size_t(got));
  for (std::size_t f = 0; f < block.size(); ++f) {
    const float* frame = m.interleaved.data() + f * channels;
    float sum = 0.0f;
    for (std::size_t c = 0; c < channels; ++c) {
      if (m.check_finite && !std::isfinite(frame[c]))
        throw file_error(m.path, std::string("contains a NaN or infinite sample (frame ")
                                     .append(std::to_string(m.frames_read + std::int64_t(f))).append(", channel ")
                                     .append(std::to_string(c)).append(")"));
      sum += frame[c];
    }
    // Float files may hold overs (|x| >= 1); the contract is [-1, 1), as for integer PCM.
    block[f] = std::clamp(channels == 1 ? sum : sum / float(channels), -1.0f, kBelowOne);
  }
  m.frames_read += got;
  return true;
}

}  // namespace ser
