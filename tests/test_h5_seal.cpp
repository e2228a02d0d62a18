// tests/test_h5_seal.cpp — the checksum block of caches and checkpoints (src/cache/h5_seal.cpp):
// any changed, missing or added byte is an error naming the file before HDF5 parses it, files
// without the block are told apart from non-HDF5 files, and HDF5 itself still opens sealed files.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "cache/h5_handles.hpp"
#include "checkpoint_test_util.hpp"
#include "ser/cache.hpp"
#include "ser/prosody.hpp"
#include "test_util.hpp"

namespace ser {
namespace {

namespace fs = std::filesystem;

using test::error_of;

using test::read_all;

void write_all(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// A two-utterance cache at `path`.
void small_cache(const std::string& path) {
  const FeatureConfig cfg;
  CacheWriter w(path, cfg, "csv", "cpu", {"angry", "sad"});
  for (int u = 0; u < 2; ++u) {
    UtteranceFeatures f;
    f.n_frames = 3 + u;
    f.logmel = test::random_signal(static_cast<std::size_t>(f.n_frames * cfg.logmel.n_mels), 10 + static_cast<std::uint64_t>(u));
    f.prosody = test::random_signal(static_cast<std::size_t>(f.n_frames) * prosody_names().size(), 20 + static_cast<std::uint64_t>(u));
    f.functionals = test::random_signal(functional_names().size(), 30 + static_cast<std::uint64_t>(u));
    w.add(std::string("u").append(std::to_string(u)).append(".wav"), std::string("s").append(std::to_string(u)), u, f);
  }
  w.commit();
}

TEST(H5Seal, EveryChangedByteAfterTheBlockIsAChecksumError) {
  test::TempDir dir;
  const std::string good = dir.file("good.h5");
  small_cache(good);
  EXPECT_EQ(read_cache(good).n_utterances(), 2u);
  const std::string bytes = read_all(good);
  ASSERT_GT(bytes.size(), h5::kSealBytes + 1000);
  EXPECT_EQ(bytes.rfind("ser-hdf5-seal 1\n", 0), 0u);
  const std::string bad = dir.file("bad.h5");
  // Bytes spread over the whole HDF5 part: superblock, object headers, heaps, data.
  for (std::size_t at = h5::kSealBytes; at < bytes.size(); at += (bytes.size() - h5::kSealBytes) / 37 + 1) {
    std::string flipped = bytes;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x10);
    write_all(bad, flipped);
    const std::string msg = error_of([&] { read_cache(bad); });
    EXPECT_NE(msg.find(bad), std::string::npos) << "byte " << at << ": " << msg;
    EXPECT_NE(msg.find("do not match the checksum"), std::string::npos) << "byte " << at << ": " << msg;
  }
}

TEST(H5Seal, TruncatedExtendedAndUnsealedFilesAreNamedAsSuch) {
  test::TempDir dir;
  const std::string good = dir.file("good.h5");
  small_cache(good);
  const std::string bytes = read_all(good);
  const std::string cut = dir.file("cut.h5");
  write_all(cut, bytes.substr(0, bytes.size() - 100));
  test::expect_error([&] { read_cache(cut); }, {cut, "truncated feature cache", std::to_string(bytes.size() - h5::kSealBytes)});
  const std::string longer = dir.file("longer.h5");
  write_all(longer, bytes + "appended");
  test::expect_error([&] { read_cache(longer); }, {longer, "damaged feature cache"});
  const std::string block_only = dir.file("block_only.h5");
  write_all(block_only, bytes.substr(0, h5::kSealBytes));
  test::expect_error([&] { read_cache(block_only); }, {block_only, "truncated feature cache"});

  // An HDF5 file without the block (as an older ser wrote them), and a file that is not HDF5.
  const std::string plain = dir.file("plain.h5");
  const hid_t f = H5Fcreate(plain.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  H5Fclose(f);
  test::expect_error([&] { read_cache(plain); }, {plain, "without ser's checksum block", "extract the features again"});
  const std::string text = dir.file("text.h5");
  write_all(text, "not HDF5 at all");
  test::expect_error([&] { read_cache(text); }, {text, "not an HDF5 file"});
}

TEST(H5Seal, ADamagedCheckpointIsAnErrorNamingIt) {
  test::TempDir dir;
  const std::string path = dir.file("last.h5");
  engine::write_checkpoint(path, test::format_only_checkpoint(64, 0.5f));
  EXPECT_EQ(engine::read_checkpoint(path).params.size(), 64u);
  std::string bytes = read_all(path);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 1);
  write_all(path, bytes);
  test::expect_error([&] { engine::read_checkpoint(path); }, {path, "damaged checkpoint", "do not match the checksum"});
}

TEST(H5Seal, HdfToolsStillOpenASealedFile) {
  test::TempDir dir;
  const std::string good = dir.file("good.h5");
  small_cache(good);
  EXPECT_GT(H5Fis_hdf5(good.c_str()), 0);
  const hid_t f = H5Fopen(good.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  EXPECT_GT(H5Lexists(f, "logmel", H5P_DEFAULT), 0);
  H5Fclose(f);
}

}  // namespace
}  // namespace ser
