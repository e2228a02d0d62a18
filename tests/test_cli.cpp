// The ser command as a new user meets it: help everywhere, bad inputs give a clear error naming the
// file, a non-zero exit and no cache; the CPU fall-back when no GPU is present.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "ser/audio.hpp"
#include "ser/device.hpp"
#include "ser/error.hpp"
#include "test_util.hpp"

namespace ser {
namespace {

namespace fs = std::filesystem;

// A csv corpus folder with `n_good` valid WAVs (two speakers) and optionally one bad file.
std::string make_csv_corpus(const test::TempDir& dir, int n_good, const std::string& bad_name = "",
                            const std::string& bad_kind = "") {
  const fs::path root = dir.path() / "corpus";
  fs::create_directories(root);
  std::ofstream csv(root / "manifest.csv");
  csv << "path,label,speaker\n";
  for (int i = 0; i < n_good; ++i) {
    const std::string name = "good" + std::to_string(i) + ".wav";
    write_wav16((root / name).string(), test::random_signal(8000 + 997 * i, 100 + i, -0.3f, 0.3f), 16000);
    csv << name << "," << (i % 2 ? "angry" : "sad") << ",s" << (i % 2) << "\n";
  }
  if (!bad_name.empty()) {
    const fs::path bad = root / bad_name;
    if (bad_kind == "empty") {
      std::ofstream(bad).flush();
    } else if (bad_kind == "text") {
      std::ofstream(bad) << "hello, I am a text file pretending to be audio\n";
    } else if (bad_kind == "truncated") {
      write_wav16(bad.string(), test::random_signal(16000, 7), 16000);
      fs::resize_file(bad, fs::file_size(bad) / 2);
    }
    csv << bad_name << ",neutral,s0\n";
  }
  return root.string();
}

bool only_expected_files(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(".tmp-") != std::string::npos) return false;
  return true;
}

TEST(Cli, EverySubcommandHasHelp) {
  for (const char* sub : {"", "demo", "features", "inspect", "corpus", "synth", "bench", "bench features", "device"}) {
    std::string out;
    EXPECT_EQ(test::run_ser(std::string(sub) + " --help", &out), 0) << sub << "\n" << out;
    EXPECT_NE(out.find("Usage"), std::string::npos) << sub;
  }
  EXPECT_NE(test::run_ser(""), 0);
  EXPECT_NE(test::run_ser("no-such-command"), 0);
}

TEST(Cli, FeaturesWritesACacheThatInspectReads) {
  test::TempDir dir;
  const std::string root = make_csv_corpus(dir, 4);
  const std::string cache = dir.file("c.h5");
  std::string out;
  ASSERT_EQ(test::run_ser("features --corpus csv --data " + root + " --out " + cache + " --device cpu", &out), 0) << out;
  ASSERT_EQ(test::run_ser("inspect " + cache, &out), 0) << out;
  EXPECT_NE(out.find("utterances    4"), std::string::npos) << out;
  EXPECT_NE(out.find("f0_hz"), std::string::npos) << out;
}

struct BadInput {
  const char* name;
  const char* kind;
  const char* reason;  // part of the expected message
};

class CliBadInput : public ::testing::TestWithParam<BadInput> {};

TEST_P(CliBadInput, FailsNamingTheFileAndWritesNoCache) {
  const BadInput b = GetParam();
  test::TempDir dir;
  const std::string root = make_csv_corpus(dir, 2, b.name, b.kind);
  const std::string cache = dir.file("c.h5");
  std::string out;
  EXPECT_NE(test::run_ser("features --corpus csv --data " + root + " --out " + cache + " --device cpu", &out), 0);
  EXPECT_NE(out.find(b.name), std::string::npos) << out;
  EXPECT_NE(out.find(b.reason), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(cache));
  EXPECT_TRUE(only_expected_files(dir.path()));

  // --on-error skip: the good files make a cache and the summary names the bad one.
  EXPECT_EQ(test::run_ser("features --corpus csv --data " + root + " --out " + cache + " --device cpu --on-error skip",
                          &out), 0) << out;
  EXPECT_NE(out.find("skipped 1 of 3"), std::string::npos) << out;
  EXPECT_NE(out.find(b.name), std::string::npos) << out;
  ASSERT_EQ(test::run_ser("inspect " + cache, &out), 0) << out;
  EXPECT_NE(out.find("utterances    2"), std::string::npos) << out;
}

INSTANTIATE_TEST_SUITE_P(Files, CliBadInput,
                         ::testing::Values(BadInput{"empty.wav", "empty", "empty"},
                                           BadInput{"text.wav", "text", "not"},
                                           BadInput{"truncated.wav", "truncated", "truncated"}),
                         [](const ::testing::TestParamInfo<BadInput>& p) { return std::string(p.param.kind); });

TEST(Cli, MissingFolderAndUnknownLabelAreErrors) {
  test::TempDir dir;
  std::string out;
  EXPECT_NE(test::run_ser("features --corpus emodb --data " + dir.file("nowhere") + " --out " + dir.file("c.h5"), &out), 0);
  EXPECT_NE(out.find("nowhere"), std::string::npos) << out;

  const std::string root = make_csv_corpus(dir, 2);
  write_wav16((fs::path(root) / "extra.wav").string(), test::random_signal(8000, 5), 16000);
  std::ofstream(fs::path(root) / "manifest.csv", std::ios::app) << "extra.wav,euphoric,s0\n";
  EXPECT_NE(test::run_ser("features --corpus csv --data " + root + " --out " + dir.file("c.h5"), &out), 0);
  EXPECT_NE(out.find("euphoric"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir.file("c.h5")));
}

TEST(Cli, DeviceAutoFallsBackToTheCpuAndCudaFailsCleanly) {
  if (probe_cuda().usable) GTEST_SKIP() << "a GPU is present";
  test::TempDir dir;
  const std::string root = make_csv_corpus(dir, 2);
  std::string out;
  ASSERT_EQ(test::run_ser("features --corpus csv --data " + root + " --out " + dir.file("a.h5") + " --device auto", &out), 0)
      << out;
  EXPECT_NE(out.find("running on the CPU"), std::string::npos) << out;
  EXPECT_NE(test::run_ser("features --corpus csv --data " + root + " --out " + dir.file("b.h5") + " --device cuda", &out), 0);
  EXPECT_NE(out.find("no usable GPU"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir.file("b.h5")));
}

// --device cuda:N: N counts among the visible GPUs (CUDA_VISIBLE_DEVICES narrowed to it for the whole
// process); an N that is not visible, or a malformed one, is an error naming the option.
TEST(Cli, DeviceCudaNChoosesAmongTheVisibleGpus) {
  EXPECT_EQ(cuda_ordinal("cuda:0"), 0);
  EXPECT_EQ(cuda_ordinal("cuda:12"), 12);
  EXPECT_EQ(cuda_ordinal("cuda"), -1);
  EXPECT_EQ(cuda_ordinal("cpu"), -1);
  for (const char* bad : {"cuda:", "cuda:-1", "cuda:x", "cuda:1.5"}) EXPECT_THROW(cuda_ordinal(bad), Error) << bad;
  EXPECT_EQ(visible_devices_for(3, nullptr), "3");
  EXPECT_EQ(visible_devices_for(1, "4,6,7"), "6");
  EXPECT_EQ(visible_devices_for(0, "GPU-8f2c,GPU-11aa"), "GPU-8f2c");
  test::expect_error([] { visible_devices_for(2, "4,6"); }, {"cuda:2", "CUDA_VISIBLE_DEVICES='4,6'", "2 GPU(s)"});
  test::expect_error([] { visible_devices_for(0, ""); }, {"cuda:0", "0 GPU(s)"});

  test::TempDir dir;
  const std::string root = make_csv_corpus(dir, 2);
  std::string out;
  EXPECT_NE(test::run_ser("features --corpus csv --data " + root + " --out " + dir.file("a.h5") + " --device cuda:x", &out), 0);
  EXPECT_NE(out.find("cuda:x"), std::string::npos) << out;
  const char* before = std::getenv("CUDA_VISIBLE_DEVICES");
  const std::string kept = before ? before : "";
  ::setenv("CUDA_VISIBLE_DEVICES", "0,1", 1);  // for the child of this call only
  const int rc = test::run_ser("features --corpus csv --data " + root + " --out " + dir.file("b.h5") + " --device cuda:2", &out);
  if (before) ::setenv("CUDA_VISIBLE_DEVICES", kept.c_str(), 1);
  else ::unsetenv("CUDA_VISIBLE_DEVICES");
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("CUDA_VISIBLE_DEVICES='0,1' makes 2 GPU(s) visible"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir.file("b.h5")));
}

// --threads is the process's share of the machine: the front-end, the engine's GEMMs and its direct
// kernels all take their thread count from it.
TEST(Cli, ThreadsLimitIsProcessWide) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  set_cpu_threads(1);
  EXPECT_EQ(cpu_threads(), 1);
  set_cpu_threads(0);
  EXPECT_EQ(cpu_threads(), cores);
  EXPECT_THROW(set_cpu_threads(-2), Error);
  std::string out;
  EXPECT_NE(test::run_ser("experiment experiments/demo.toml --threads -1", &out), 0);
  EXPECT_NE(out.find("--threads"), std::string::npos) << out;
}

TEST(Cli, InspectRefusesWhatIsNotACache) {
  test::TempDir dir;
  std::ofstream(dir.file("x.h5")) << "nope";
  std::string out;
  EXPECT_NE(test::run_ser("inspect " + dir.file("x.h5"), &out), 0);
  EXPECT_NE(out.find("x.h5"), std::string::npos) << out;
}

}  // namespace
}  // namespace ser
