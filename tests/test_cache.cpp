// The HDF5 feature cache: round trip, refusal of a different feature config, damaged files, and
// atomic writes (nothing half-written ever sits at the final name).
#include <gtest/gtest.h>
#include <hdf5.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "cache/h5_handles.hpp"
#include "ser/cache.hpp"
#include "ser/error.hpp"
#include "ser/prosody.hpp"
#include "test_util.hpp"

namespace ser {
namespace {

UtteranceFeatures random_features(std::int64_t frames, std::uint64_t seed) {
  const FeatureConfig cfg;
  UtteranceFeatures f;
  f.n_frames = frames;
  f.logmel = test::random_signal(frames * cfg.logmel.n_mels, seed, -10.f, 2.f);
  f.prosody = test::random_signal(frames * prosody_names().size(), seed + 1, 0.f, 300.f);
  f.functionals = test::random_signal(functional_names().size(), seed + 2, -1.f, 1.f);
  return f;
}

std::string write_cache(const std::string& path, const std::vector<UtteranceFeatures>& feats) {
  CacheWriter w(path, FeatureConfig{}, "csv", "cpu (test)", {"angry", "sad", "neutral"});
  for (std::size_t i = 0; i < feats.size(); ++i)
    w.add("spk" + std::to_string(i % 2) + "/utt" + std::to_string(i) + ".wav", "s" + std::to_string(i % 2),
          static_cast<int>(i % 3), feats[i]);
  w.commit();
  return path;
}

using test::error_of;

TEST(Cache, RoundTripIsExact) {
  test::TempDir dir;
  const std::vector<UtteranceFeatures> feats = {random_features(17, 1), random_features(3, 2), random_features(40, 3)};
  const std::string path = write_cache(dir.file("c.h5"), feats);
  const FeatureCache c = read_cache(path, FeatureConfig{});
  ASSERT_EQ(c.n_utterances(), 3u);
  EXPECT_EQ(c.offsets, (std::vector<std::int64_t>{0, 17, 20, 60}));
  EXPECT_EQ(c.labels, (std::vector<std::int32_t>{0, 1, 2}));
  EXPECT_EQ(c.paths[2], "spk0/utt2.wav");
  EXPECT_EQ(c.speakers[1], "s1");
  EXPECT_EQ(c.class_names, (std::vector<std::string>{"angry", "sad", "neutral"}));
  EXPECT_EQ(c.prosody_names, prosody_names());
  EXPECT_EQ(c.functional_names, functional_names());
  std::vector<float> all_logmel;
  for (const auto& f : feats) all_logmel.insert(all_logmel.end(), f.logmel.begin(), f.logmel.end());
  EXPECT_EQ(c.logmel, all_logmel);
  EXPECT_EQ(std::vector<float>(c.prosody.begin() + 20 * prosody_names().size(), c.prosody.end()), feats[2].prosody);
  EXPECT_EQ(std::vector<float>(c.functionals.begin(), c.functionals.begin() + functional_names().size()),
            feats[0].functionals);
  EXPECT_NE(describe_cache(c, path).find("utterances    3"), std::string::npos);
  // No temporary file is left beside the cache.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST(Cache, RefusesADifferentFeatureConfigNamingTheFields) {
  test::TempDir dir;
  const std::string path = write_cache(dir.file("c.h5"), {random_features(5, 1)});
  FeatureConfig other;
  other.logmel.n_mels = 80;
  other.logmel.hop_length = 100;
  const std::string msg = error_of([&] { read_cache(path, other); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("logmel.n_mels: 80 vs 64"), std::string::npos) << msg;
  EXPECT_NE(msg.find("logmel.hop_length: 100 vs 160"), std::string::npos) << msg;
}

TEST(Cache, DamagedFilesAreRefusedWithTheirName) {
  test::TempDir dir;
  const std::string good = write_cache(dir.file("good.h5"), {random_features(50, 1), random_features(60, 2)});

  const std::string truncated = dir.file("truncated.h5");
  {
    std::ifstream in(good, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(truncated, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  std::string msg = error_of([&] { read_cache(truncated); });
  EXPECT_NE(msg.find("truncated.h5"), std::string::npos) << msg;

  const std::string text = dir.file("text.h5");
  std::ofstream(text) << "this is not a cache\n";
  msg = error_of([&] { read_cache(text); });
  EXPECT_NE(msg.find("not an HDF5 file"), std::string::npos) << msg;

  msg = error_of([&] { read_cache(dir.file("absent.h5")); });
  EXPECT_NE(msg.find("absent.h5"), std::string::npos) << msg;

  // A structurally damaged cache: /offsets removed, then /offsets inconsistent with /logmel.
  const std::string edited = dir.file("edited.h5");
  std::filesystem::copy_file(good, edited);
  {
    hid_t f = H5Fopen(edited.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    ASSERT_GE(H5Ldelete(f, "offsets", H5P_DEFAULT), 0);
    H5Fclose(f);
    h5::seal_file(edited);  // the edit is deliberate: past the checksum, to the structure checks
  }
  msg = error_of([&] { read_cache(edited); });
  EXPECT_NE(msg.find("missing dataset /offsets"), std::string::npos) << msg;
  {
    hid_t f = H5Fopen(edited.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    const hsize_t n = 3;
    const std::int64_t bad[3] = {0, 70, 60};
    hid_t space = H5Screate_simple(1, &n, nullptr);
    hid_t ds = H5Dcreate2(f, "offsets", H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, bad);
    H5Dclose(ds);
    H5Sclose(space);
    H5Fclose(f);
    h5::seal_file(edited);
  }
  msg = error_of([&] { read_cache(edited); });
  EXPECT_NE(msg.find("/offsets decrease"), std::string::npos) << msg;
}

TEST(Cache, FailedWriteLeavesThePreviousCacheAndNoTemporary) {
  test::TempDir dir;
  const std::string path = write_cache(dir.file("c.h5"), {random_features(5, 1)});
  const auto before = std::filesystem::file_size(path);
  CacheWriter empty(path, FeatureConfig{}, "csv", "cpu", {"angry"});
  EXPECT_THROW(empty.commit(), Error);
  EXPECT_EQ(std::filesystem::file_size(path), before);
  EXPECT_EQ(read_cache(path).n_utterances(), 1u);

  CacheWriter nowhere(dir.file("no/such/dir/c.h5"), FeatureConfig{}, "csv", "cpu", {"angry"});
  nowhere.add("a.wav", "s", 0, random_features(4, 9));
  try {
    nowhere.commit();
    ADD_FAILURE() << "expected ser::Error";
  } catch (const Error& e) {  // which path, and the system's reason
    const std::string msg = e.what();
    EXPECT_NE(msg.find(dir.file("no/such/dir/c.h5")), std::string::npos) << msg;
    EXPECT_NE(msg.find("No such file or directory"), std::string::npos) << msg;
  }
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST(Cache, InconsistentFeaturesAndLabelsAreRejected) {
  test::TempDir dir;
  CacheWriter w(dir.file("c.h5"), FeatureConfig{}, "csv", "cpu", {"angry"});
  UtteranceFeatures f = random_features(5, 1);
  EXPECT_THROW(w.add("a.wav", "s", 3, f), Error);
  f.logmel.pop_back();
  EXPECT_THROW(w.add("a.wav", "s", 0, f), Error);
}

}  // namespace
}  // namespace ser
