// The checksum block at the start of every HDF5 file ser writes (caches, checkpoints).
//
// HDF5 reserves a user block before its superblock for the application (H5Pset_userblock). Once a
// file is complete, ser writes there, zero-padded to kSealBytes:
//   "ser-hdf5-seal 1\nbytes N\ncrc32 XXXXXXXX\n"
// N is the length of the HDF5 data after the block and the CRC-32 (zlib's) covers exactly it.
// Readers check both before the HDF5 library parses anything: libhdf5 trusts sizes and addresses
// in parts of a file it does not checksum (the global heap that holds variable-length strings),
// and a damaged file made it read past a buffer (docs/fuzzing.md). HDF5 tools (h5dump, h5py) read
// sealed files as they read any other.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <vector>

#include "cache/h5_handles.hpp"

namespace ser::h5 {
namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

[[noreturn]] void system_error(const std::string& file, const std::string& what) {
  throw file_error(file, what + ": " + std::strerror(errno));
}

// CRC-32 of bytes [from, from + n) of an open file.
std::uint32_t crc_of(int fd, std::uint64_t from, std::uint64_t n, const std::string& file) {
  std::vector<unsigned char> block(1 << 20);
  uLong crc = crc32_z(0L, Z_NULL, 0);
  while (n > 0) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(n, block.size()));
    const ssize_t got = ::pread(fd, block.data(), want, static_cast<off_t>(from));
    if (got < 0) system_error(file, "reading for the checksum failed");
    if (got == 0) throw file_error(file, "the file shrank while its checksum was computed");
    crc = crc32_z(crc, block.data(), static_cast<std::size_t>(got));
    from += static_cast<std::uint64_t>(got);
    n -= static_cast<std::uint64_t>(got);
  }
  return static_cast<std::uint32_t>(crc);
}

std::uint64_t size_of(int fd, const std::string& file) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) system_error(file, "reading the file size failed");
  return static_cast<std::uint64_t>(st.st_size);
}

}  // namespace

Handle creation_properties_with_seal_block(const std::string& file) {
  Handle fcpl = check(H5Pcreate(H5P_FILE_CREATE), H5Pclose, file, "creating the file-creation properties");
  check(H5Pset_userblock(fcpl.get(), kSealBytes), file, "reserving the checksum block");
  return fcpl;
}

void seal_file(const std::string& file) {
  Fd f;
  f.fd = ::open(file.c_str(), O_RDWR);
  if (f.fd < 0) system_error(file, "opening the file to write its checksum failed");
  const std::uint64_t size = size_of(f.fd, file);
  if (size < kSealBytes) throw file_error(file, "too short to hold the checksum block");
  const std::uint64_t data = size - kSealBytes;
  std::array<char, kSealBytes> block{};
  std::snprintf(block.data(), block.size(), "%sbytes %" PRIu64 "\ncrc32 %08" PRIx32 "\n", kSealMagic, data,
                crc_of(f.fd, kSealBytes, data, file));
  if (::pwrite(f.fd, block.data(), block.size(), 0) != static_cast<ssize_t>(block.size()))
    system_error(file, "writing the checksum block failed");
}

Handle open_sealed(const std::string& file, const std::string& kind, const std::string& advice) {
  quiet_errors();
  Fd f;
  f.fd = ::open(file.c_str(), O_RDONLY);
  if (f.fd < 0) system_error(file, "cannot open the " + kind);
  const std::uint64_t size = size_of(f.fd, file);
  std::array<char, kSealBytes + 1> block{};  // + 1: always NUL-terminated
  const ssize_t got = size >= kSealBytes ? ::pread(f.fd, block.data(), kSealBytes, 0) : 0;
  if (got != static_cast<ssize_t>(kSealBytes) || std::memcmp(block.data(), kSealMagic, sizeof kSealMagic - 1) != 0) {
    if (H5Fis_hdf5(file.c_str()) > 0)
      throw file_error(file, "an HDF5 file without ser's checksum block: not a " + kind +
                                 " of this ser (written by an older one?); " + advice);
    throw file_error(file, "not an HDF5 file (or truncated/corrupt)");
  }
  std::uint64_t bytes = 0;
  std::uint32_t crc = 0;
  if (std::sscanf(block.data() + sizeof kSealMagic - 1, "bytes %" SCNu64 "\ncrc32 %" SCNx32, &bytes, &crc) != 2)
    throw file_error(file, "damaged " + kind + ": its checksum block cannot be read");
  const std::uint64_t data = size - kSealBytes;
  if (data != bytes)
    throw file_error(file, std::string(data < bytes ? "truncated " : "damaged ").append(kind).append(": ser wrote ")
                               .append(std::to_string(bytes)).append(" bytes of HDF5 data, the file holds ")
                               .append(std::to_string(data)));
  if (crc_of(f.fd, kSealBytes, data, file) != crc)
    throw file_error(file, "damaged " + kind + ": its contents do not match the checksum ser wrote "
                           "(the file was changed or corrupted after it was written)");
  return check(H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, file,
               "opening the " + kind + " (HDF5)");
}

}  // namespace ser::h5
