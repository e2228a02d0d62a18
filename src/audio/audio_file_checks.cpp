// The checks around decoding an audio file (AudioFileStream, and so read_audio).
// libsndfile is lenient with damaged files (it reads a truncated WAV as a shorter one), so the RIFF
// chunk sizes are checked against the file size before decoding.
#include "audio/audio_file_checks.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "ser/error.hpp"

namespace ser::audio_checks {
namespace {

namespace fs = std::filesystem;

std::uint32_t le32(const unsigned char* p) {
  return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
}

// Walks the chunks of a little-endian RIFF/WAVE file and throws when the data chunk claims more
// bytes than the file holds. Other containers (and layouts this walk cannot follow) are left to
// libsndfile, so this never rejects a file libsndfile would decode correctly.
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
      if (end > file_size)
        throw file_error(path, std::string("truncated WAV file: the data chunk declares ").append(std::to_string(size))
                                   .append(" bytes but the file holds only ")
                                   .append(std::to_string(file_size - std::min(file_size, pos + 8))));
      return;
    }
    pos += 8 + std::uintmax_t(size) + (size & 1u);  // chunks are padded to an even length
  }
}

}  // namespace

std::mutex& sndfile_open_mutex() {
  static std::mutex m;
  return m;
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

void check_parse_log(const std::string& path, SNDFILE* handle) {
  std::array<char, 8192> log{};
  sf_command(handle, SFC_GET_LOG_INFO, log.data(), int(log.size() - 1));
  const std::string text(log.data());
  // AIFF, for example, logs "Chunk size N > file length M" and then decodes what is there.
  if (text.find("> file length") != std::string::npos || text.find("not equal to frame count") != std::string::npos)
    throw file_error(path, "truncated audio file: a chunk extends past the end of the file");
}

bool is_riff_wave(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::array<char, 12> head{};
  return in.read(head.data(), head.size()) && std::memcmp(head.data(), "RIFF", 4) == 0 &&
         std::memcmp(head.data() + 8, "WAVE", 4) == 0;
}

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

void check_header(const std::string& path, const SF_INFO& info) {
  if (info.channels <= 0) throw file_error(path, "invalid channel count " + std::to_string(info.channels));
  if (info.samplerate < kMinSampleRate || info.samplerate > kMaxSampleRate)
    throw file_error(path, std::string("invalid sample rate ").append(std::to_string(info.samplerate))
                               .append(" Hz (a recording has ").append(std::to_string(kMinSampleRate)).append(" to ")
                               .append(std::to_string(kMaxSampleRate)).append(" Hz)"));
  if (info.frames == 0) throw file_error(path, "contains no audio samples");
}

}  // namespace ser::audio_checks
