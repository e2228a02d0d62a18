// The batch file of an interrupted extraction, in the byte order of the machine that wrote it:
//   "ser-partial-batch 1\n"  u64 identity  u64 begin  u64 end
//   per utterance: u64 index, u64 n + n bytes of skip reason (n = 0: extracted), and when
//                  extracted u64 samples, i64 n_frames, then logmel, prosody, functionals as
//                  u64 count + count float32 each
//   u32 CRC-32 (zlib) of every byte before it
// Floats are copied bit for bit, so a resumed cache equals one made in one go.
#include "cache/partial_batch.hpp"

#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "ser/error.hpp"

namespace ser {
namespace {

constexpr char kMagic[] = "ser-partial-batch 1\n";
constexpr std::size_t kMagicBytes = sizeof kMagic - 1;

std::uint32_t crc_of(const void* data, std::size_t n) {
  return static_cast<std::uint32_t>(crc32_z(crc32_z(0L, Z_NULL, 0), static_cast<const unsigned char*>(data), n));
}

class Encoder {
 public:
  void raw(const void* p, std::size_t n) { bytes_.append(static_cast<const char*>(p), n); }
  template <class T>
  void value(T v) { raw(&v, sizeof v); }
  void floats(const std::vector<float>& v) {
    value<std::uint64_t>(v.size());
    raw(v.data(), v.size() * sizeof(float));
  }
  void text(const std::string& s) {
    value<std::uint64_t>(s.size());
    raw(s.data(), s.size());
  }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

// Reads what Encoder wrote; any length that runs past the end is an error naming the file.
class Decoder {
 public:
  Decoder(const std::vector<unsigned char>& bytes, std::size_t end, const std::string& path)
      : bytes_(bytes), end_(end), path_(path) {}
  void raw(void* p, std::size_t n) {
    if (n > end_ - pos_) throw file_error(path_, "damaged partial-extraction batch: a length runs past its end");
    std::memcpy(p, bytes_.data() + pos_, n);
    pos_ += n;
  }
  template <class T>
  T value() {
    T v{};
    raw(&v, sizeof v);
    return v;
  }
  std::vector<float> floats() {
    const auto n = value<std::uint64_t>();
    if (n > (end_ - pos_) / sizeof(float))
      throw file_error(path_, "damaged partial-extraction batch: a length runs past its end");
    std::vector<float> v(n);
    raw(v.data(), n * sizeof(float));
    return v;
  }
  std::string text() {
    const auto n = value<std::uint64_t>();
    if (n > end_ - pos_) throw file_error(path_, "damaged partial-extraction batch: a length runs past its end");
    std::string s(n, '\0');
    raw(s.data(), n);
    return s;
  }
  bool at_end() const { return pos_ == end_; }

 private:
  const std::vector<unsigned char>& bytes_;
  std::size_t end_;
  std::size_t pos_ = 0;
  const std::string& path_;
};

[[noreturn]] void system_error(const std::string& file, const std::string& what) {
  throw file_error(file, what + ": " + std::strerror(errno));
}

void write_all(const std::string& file, const std::string& bytes) {
  std::FILE* f = std::fopen(file.c_str(), "wb");
  if (!f) system_error(file, "cannot create the partial-extraction batch");
  const bool wrote = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  const int saved_errno = errno;
  if (std::fclose(f) != 0 || !wrote) {
    if (!wrote) errno = saved_errno;
    system_error(file, "writing the partial-extraction batch failed");
  }
}

}  // namespace

void write_batch_file(const std::string& path, std::uint64_t identity, const SavedBatch& batch) {
  Encoder e;
  e.raw(kMagic, kMagicBytes);
  e.value(identity);
  e.value(batch.begin);
  e.value(batch.end);
  for (const SavedUtterance& u : batch.utterances) {
    e.value(u.index);
    e.text(u.skipped);
    if (!u.skipped.empty()) continue;
    e.value(u.samples);
    e.value(u.features.n_frames);
    e.floats(u.features.logmel);
    e.floats(u.features.prosody);
    e.floats(u.features.functionals);
  }
  e.value(crc_of(e.bytes().data(), e.bytes().size()));

  const std::string tmp = std::string(path).append(".tmp-").append(std::to_string(::getpid()));
  try {
    write_all(tmp, e.bytes());
    std::filesystem::rename(tmp, path);
  } catch (const std::filesystem::filesystem_error& err) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw file_error(path, std::string("saving the partial-extraction batch failed: ").append(err.code().message()));
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw;
  }
}

SavedBatch read_batch_file(const std::string& path, std::uint64_t identity) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw file_error(path, "cannot open the partial-extraction batch");
  const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw file_error(path, "reading the partial-extraction batch failed");
  constexpr std::size_t header = kMagicBytes + 3 * sizeof(std::uint64_t);
  if (bytes.size() < header + sizeof(std::uint32_t) || std::memcmp(bytes.data(), kMagic, kMagicBytes) != 0)
    throw file_error(path, "not a partial-extraction batch, or truncated");
  const std::size_t body = bytes.size() - sizeof(std::uint32_t);
  std::uint32_t stored = 0;
  std::memcpy(&stored, bytes.data() + body, sizeof stored);
  if (crc_of(bytes.data(), body) != stored)
    throw file_error(path, "damaged partial-extraction batch: its contents do not match its checksum (truncated?)");

  Decoder d(bytes, body, path);
  char magic[kMagicBytes];
  d.raw(magic, kMagicBytes);
  if (d.value<std::uint64_t>() != identity)
    throw file_error(path, "partial-extraction batch of another run (its identity differs)");
  SavedBatch b;
  b.begin = d.value<std::uint64_t>();
  b.end = d.value<std::uint64_t>();
  if (b.end < b.begin) throw file_error(path, "damaged partial-extraction batch: it ends before it begins");
  for (std::uint64_t i = b.begin; i < b.end; ++i) {
    SavedUtterance u;
    u.index = d.value<std::uint64_t>();
    u.skipped = d.text();
    if (u.skipped.empty()) {
      u.samples = d.value<std::uint64_t>();
      u.features.n_frames = d.value<std::int64_t>();
      u.features.logmel = d.floats();
      u.features.prosody = d.floats();
      u.features.functionals = d.floats();
    }
    b.utterances.push_back(std::move(u));
  }
  if (!d.at_end()) throw file_error(path, "damaged partial-extraction batch: bytes left after its last utterance");
  return b;
}

}  // namespace ser
