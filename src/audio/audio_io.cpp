// Audio decoding and writing through libsndfile: any format it reads becomes mono float in [-1, 1).
// libsndfile is lenient with damaged files (it reads a truncated WAV as a shorter one), so the RIFF
// chunk sizes are checked here against the file size before decoding.
#include <sndfile.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <string>
#include <vector>

#include "ser/audio.hpp"
#include "ser/error.hpp"

namespace ser {
namespace {

namespace fs = std::filesystem;

// Largest float below 1: 32-bit PCM full scale (2^31 - 1) / 2^31 rounds to 1.0f otherwise.
constexpr float kBelowOne = 0.99999994f;

// sf_open reports failures through a process-wide error slot (sf_strerror(nullptr)); the lock
// keeps the message of one failing open from being overwritten by another thread's open.
std::mutex& sndfile_open_mutex() {
  static std::mutex m;
  return m;
}

struct SndFile {
  SNDFILE* handle = nullptr;
  SndFile() = default;
  SndFile(const SndFile&) = delete;
  SndFile& operator=(const SndFile&) = delete;
  ~SndFile() {
    if (handle) sf_close(handle);
  }
};

std::uint32_t le32(const unsigned char* p) {
  return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 |
         std::uint32_t(p[3]) << 24;
}

// Walks the chunks of a little-endian RIFF/WAVE file and throws when the data chunk claims more
// bytes than the file holds. Other containers (and RIFF layouts this walk cannot follow) are left
// to libsndfile, so this never rejects a file libsndfile would decode correctly.
void check_riff_sizes(const std::string& path, std::uintmax_t file_size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw file_error(path, std::string("cannot open file: ") + std::strerror(errno));
  std::array<unsigned char, 12> head{};
  if (!in.read(reinterpret_cast<char*>(head.data()), head.size())) return;  // too short: libsndfile decides
  if (std::memcmp(head.data(), "RIFF", 4) != 0 || std::memcmp(head.data() + 8, "WAVE", 4) != 0) return;

  std::uintmax_t pos = 12;
  std::array<unsigned char, 8> chunk{};
  while (pos + 8 <= file_size) {
    in.seekg(std::streamoff(pos));
    if (!in.read(reinterpret_cast<char*>(chunk.data()), chunk.size())) return;
    const std::uint32_t size = le32(chunk.data() + 4);
    if (std::memcmp(chunk.data(), "data", 4) == 0) {
      // 0 and 0xFFFFFFFF mark a stream whose length was unknown when the header was written.
      if (size == 0 || size == 0xFFFFFFFFu) return;
      const std::uintmax_t end = pos + 8 + std::uintmax_t(size);
      if (end > file_size) {
        throw file_error(path, "truncated WAV file: the data chunk declares " + std::to_string(size) +
                                   " bytes but the file holds only " +
                                   std::to_string(file_size - std::min(file_size, pos + 8)));
      }
      return;
    }
    pos += 8 + std::uintmax_t(size) + (size & 1u);  // chunks are padded to an even length
  }
  // No data chunk where the walk looked: libsndfile reports the real problem.
}

// For containers other than RIFF, libsndfile notes a short file in its parse log (it then decodes
// what is there without an error); AIFF, for example, logs "Chunk size N > file length M".
void check_parse_log(const std::string& path, SNDFILE* handle) {
  std::array<char, 8192> log{};
  sf_command(handle, SFC_GET_LOG_INFO, log.data(), int(log.size() - 1));
  const std::string text(log.data());
  if (text.find("> file length") != std::string::npos ||
      text.find("not equal to frame count") != std::string::npos) {
    throw file_error(path, "truncated audio file: a chunk extends past the end of the file");
  }
}

bool is_riff_wave(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::array<char, 12> head{};
  return in.read(head.data(), head.size()) && std::memcmp(head.data(), "RIFF", 4) == 0 &&
         std::memcmp(head.data() + 8, "WAVE", 4) == 0;
}

void check_file_basics(const std::string& path) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) throw file_error(path, "file not found");
  if (fs::is_directory(st)) throw file_error(path, "is a directory, not an audio file");
  if (!fs::is_regular_file(st)) throw file_error(path, "not a regular file");
  const std::uintmax_t size = fs::file_size(path, ec);
  if (ec) throw file_error(path, "cannot read the file size: " + ec.message());
  if (size == 0) throw file_error(path, "empty file (0 bytes)");
  check_riff_sizes(path, size);
}

// One-line text of libsndfile's last open error, classified so the reason reads well.
std::string open_failure_reason() {
  const int code = sf_error(nullptr);
  std::string detail = sf_strerror(nullptr);
  std::replace(detail.begin(), detail.end(), '\n', ' ');
  switch (code) {
    case SF_ERR_UNRECOGNISED_FORMAT: return "not a recognised audio file: " + detail;
    case SF_ERR_UNSUPPORTED_ENCODING: return "unsupported audio encoding: " + detail;
    case SF_ERR_SYSTEM: return "cannot open file: " + detail;
    default: return "cannot decode audio: " + detail;
  }
}

bool is_float_format(int format) {
  const int sub = format & SF_FORMAT_SUBMASK;
  return sub == SF_FORMAT_FLOAT || sub == SF_FORMAT_DOUBLE;
}

}  // namespace

Audio read_audio(const std::string& path) {
  check_file_basics(path);

  SF_INFO info{};
  SndFile file;
  {
    std::lock_guard<std::mutex> lock(sndfile_open_mutex());
    file.handle = sf_open(path.c_str(), SFM_READ, &info);
    if (!file.handle) throw file_error(path, open_failure_reason());
  }
  // RIFF files were checked by check_riff_sizes, which knows which chunk overran.
  if (!is_riff_wave(path)) check_parse_log(path, file.handle);
  if (info.channels <= 0) throw file_error(path, "invalid channel count " + std::to_string(info.channels));
  if (info.samplerate <= 0) throw file_error(path, "invalid sample rate " + std::to_string(info.samplerate));
  if (info.frames == 0) throw file_error(path, "contains no audio samples");
  // Integer PCM is scaled to [-1, 1) by libsndfile (SFC_SET_NORM_FLOAT is on by default).

  const std::size_t channels = std::size_t(info.channels);
  Audio audio;
  audio.sample_rate = info.samplerate;
  // Read in blocks rather than trusting info.frames for the allocation: a damaged header may
  // announce far more frames than there are.
  constexpr sf_count_t kBlockFrames = 1 << 16;
  std::vector<float> block(std::size_t(kBlockFrames) * channels);
  const bool check_finite = is_float_format(info.format);
  for (;;) {
    const sf_count_t got = sf_readf_float(file.handle, block.data(), kBlockFrames);
    if (got <= 0) break;
    for (sf_count_t f = 0; f < got; ++f) {
      const float* frame = block.data() + std::size_t(f) * channels;
      float sum = 0.0f;
      for (std::size_t c = 0; c < channels; ++c) {
        if (check_finite && !std::isfinite(frame[c])) {
          throw file_error(path, "contains a NaN or infinite sample (frame " +
                                     std::to_string(audio.samples.size()) + ", channel " +
                                     std::to_string(c) + ")");
        }
        sum += frame[c];
      }
      audio.samples.push_back(channels == 1 ? sum : sum / float(channels));
    }
  }
  if (sf_error(file.handle) != SF_ERR_NO_ERROR) {
    std::string detail = sf_strerror(file.handle);
    std::replace(detail.begin(), detail.end(), '\n', ' ');
    throw file_error(path, "decoding failed (truncated or corrupt file?): " + detail);
  }
  if (audio.samples.empty()) throw file_error(path, "contains no audio samples");
  if (info.frames != SF_COUNT_MAX && sf_count_t(audio.samples.size()) < info.frames) {
    throw file_error(path, "truncated audio: the header announces " + std::to_string(info.frames) +
                               " frames but only " + std::to_string(audio.samples.size()) +
                               " could be read");
  }
  // Float files may hold overs (|x| >= 1); the contract is [-1, 1), as for integer PCM.
  for (float& v : audio.samples) v = std::clamp(v, -1.0f, kBelowOne);
  return audio;
}

Audio load_audio(const std::string& path, int target_rate) {
  if (target_rate <= 0) throw Error("load_audio: target sample rate must be positive, got " + std::to_string(target_rate));
  Audio audio = read_audio(path);
  if (audio.sample_rate != target_rate) {
    audio.samples = resample(audio.samples, audio.sample_rate, target_rate);
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
    std::lock_guard<std::mutex> lock(sndfile_open_mutex());
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
