// ser/audio_stream.hpp — audio decoded and resampled block by block, for recordings too long to
// hold in memory (ser predict --timeline). Same samples as read_audio and resample give at once.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct soxr;  // libsoxr's resampler (soxr.h: typedef struct soxr* soxr_t)

namespace ser {

// An audio file read in blocks of mono float in [-1, 1): the checks and errors of read_audio
// ("PATH: reason" for a missing, empty, truncated, corrupt or unsupported file), the same samples.
// Problems only decoding can find (a NaN sample, a short read) surface from read().
class AudioFileStream {
 public:
  static constexpr std::size_t kBlockFrames = 1 << 16;

  explicit AudioFileStream(const std::string& path);  // opens the file and checks its header
  ~AudioFileStream();
  AudioFileStream(const AudioFileStream&) = delete;
  AudioFileStream& operator=(const AudioFileStream&) = delete;

  const std::string& path() const;
  int sample_rate() const;  // Hz, as the file holds it
  // Replaces `block` with the next samples (at most kBlockFrames); false, with `block` empty, at
  // the end of the file (after checking that the header's frame count was all there).
  bool read(std::vector<float>& block);
  std::int64_t frames_read() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// libsoxr (high quality, as resample) fed in pieces. Its output for a signal is bit-identical to
// resample() of the whole signal, however the input is cut: the tests check this.
class StreamResampler {
 public:
  StreamResampler(int from_rate, int to_rate);  // throws ser::Error for a rate <= 0
  ~StreamResampler();
  StreamResampler(const StreamResampler&) = delete;
  StreamResampler& operator=(const StreamResampler&) = delete;

  // Appends to `out` what the next n input samples yield so far (the filter delays some of it).
  void process(const float* in, std::size_t n, std::vector<float>& out);
  // End of input: appends the rest. process() may not be called after it.
  void finish(std::vector<float>& out);

 private:
  void drain(const float* in, std::size_t n, std::vector<float>& out);

  soxr* handle_ = nullptr;
  int from_rate_, to_rate_;
  bool finished_ = false;
};

}  // namespace ser
