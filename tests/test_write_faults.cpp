// tests/test_write_faults.cpp — writes that fail (missing folder, a folder in the way, a filesystem
// that fills up) name the path and the system's reason, keep the previous file, and leave no
// temporary. A full disk is simulated with RLIMIT_FSIZE in a child process (no mount needed):
// writes past the limit fail with EFBIG ("File too large") as they would with ENOSPC.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "checkpoint_test_util.hpp"
#include "ser/cache.hpp"
#include "ser/error.hpp"
#include "ser/prosody.hpp"
#include "test_util.hpp"
#include "engine/checkpoint.hpp"
#include "util/atomic_file.hpp"

namespace ser {
namespace {

namespace fs = std::filesystem;

using test::error_of;

int regular_files(const fs::path& dir) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs fn in a child whose files may not grow past `limit` bytes; the child exits 0 when fn threw
// ser::Error whose message contains `expected`, 1 when it threw another message, 2 when it did not
// throw. The limit applies to the child alone.
int in_child_with_file_limit(rlim_t limit, const std::function<void()>& fn, const std::string& expected) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::signal(SIGXFSZ, SIG_IGN);  // write() then fails with EFBIG instead of killing the process
    const rlimit r{limit, limit};
    setrlimit(RLIMIT_FSIZE, &r);
    const std::string msg = error_of(fn);
    _exit(msg.empty() ? 2 : msg.find(expected) != std::string::npos ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

UtteranceFeatures features(std::int64_t frames) {
  const FeatureConfig cfg;
  UtteranceFeatures f;
  f.n_frames = frames;
  f.logmel.assign(static_cast<std::size_t>(frames * cfg.logmel.n_mels), 0.25f);
  f.prosody.assign(static_cast<std::size_t>(frames) * prosody_names().size(), 0.5f);
  f.functionals.assign(functional_names().size(), 1.0f);
  return f;
}

TEST(WriteFaults, AtomicTextWritesNameThePathAndTheSystemsReason) {
  test::TempDir dir;
  const std::string missing = error_of([&] { util::write_text_atomic(dir.file("no/such/folder/x.json"), "{}"); });
  EXPECT_NE(missing.find(dir.file("no/such/folder/x.json")), std::string::npos) << missing;
  EXPECT_NE(missing.find("No such file or directory"), std::string::npos) << missing;
  fs::create_directories(dir.path() / "taken");
  const std::string folder = error_of([&] { util::write_text_atomic(dir.file("taken"), "{}"); });
  EXPECT_NE(folder.find(dir.file("taken")), std::string::npos) << folder;
  EXPECT_NE(folder.find("directory"), std::string::npos) << folder;  // "Is a directory"
  EXPECT_EQ(regular_files(dir.path()), 0) << "a temporary was left behind";
}

TEST(WriteFaults, AFullDiskKeepsThePreviousExportAndLeavesNoTemporary) {
  test::TempDir dir;
  const std::string path = dir.file("model.onnx");
  util::write_text_atomic(path, "previous");
  const std::string big(1 << 20, 'x');  // 1 MiB against a 64 KiB limit
  EXPECT_EQ(in_child_with_file_limit(64 << 10, [&] { util::write_text_atomic(path, big); }, "File too large"), 0);
  EXPECT_EQ(read_all(path), "previous");
  EXPECT_EQ(regular_files(dir.path()), 1) << "a temporary was left behind";
}

TEST(WriteFaults, AFullDiskKeepsThePreviousCacheAndLeavesNoTemporary) {
  test::TempDir dir;
  const std::string path = dir.file("c.h5");
  {
    CacheWriter w(path, FeatureConfig{}, "csv", "cpu", {"angry"});
    w.add("a.wav", "s", 0, features(10));
    w.commit();
  }
  const auto before = fs::file_size(path);
  const int rc = in_child_with_file_limit(before + (64 << 10), [&] {
    CacheWriter w(path, FeatureConfig{}, "csv", "cpu", {"angry"});
    for (int i = 0; i < 20; ++i) w.add(std::string("u").append(std::to_string(i)).append(".wav"), "s", 0, features(2000));  // ~10 MB
    w.commit();
  }, path);
  EXPECT_EQ(rc, 0) << "the failed write should be a ser::Error naming the cache";
  EXPECT_EQ(fs::file_size(path), before);
  EXPECT_EQ(read_cache(path).n_utterances(), 1u);
  EXPECT_EQ(regular_files(dir.path()), 1) << "a temporary was left behind";
}

TEST(WriteFaults, AFullDiskKeepsThePreviousCheckpointAndLeavesNoTemporary) {
  test::TempDir dir;
  const std::string path = dir.file("last.h5");
  engine::write_checkpoint(path, test::format_only_checkpoint(16, 1.5f));
  const auto before = fs::file_size(path);
  const int rc = in_child_with_file_limit(before + (64 << 10), [&] {
    engine::write_checkpoint(path, test::format_only_checkpoint(1 << 20, 2.5f));  // 12 MiB with the moments
  }, path);
  EXPECT_EQ(rc, 0) << "the failed write should be a ser::Error naming the checkpoint";
  EXPECT_EQ(fs::file_size(path), before);
  const engine::Checkpoint kept = engine::read_checkpoint(path);
  const std::vector<float> written = test::format_only_checkpoint(16, 1.5f).params;
  ASSERT_EQ(kept.params.size(), written.size());
  EXPECT_TRUE(std::equal(written.begin(), written.begin() + 16, kept.params.begin()));  // the rest is padding
  EXPECT_EQ(regular_files(dir.path()), 1) << "a temporary was left behind";
}

}  // namespace
}  // namespace ser
