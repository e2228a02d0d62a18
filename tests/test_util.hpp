// tests/test_util.hpp — shared helpers: temporary folders, GPU presence, Emo-DB location, CLI runs.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <random>
#include <sys/types.h>
#include <string>
#include <vector>

#include "ser/device.hpp"

namespace ser::test {

// A fresh folder under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Emo-DB folder (../shared/data/emodb beside the checkout, or $SER_EMODB); "" when absent.
std::string emodb_dir();

#define SER_SKIP_WITHOUT_GPU()                                                   \
  do {                                                                           \
    if (!::ser::probe_cuda().usable) GTEST_SKIP() << "no usable GPU: " << ::ser::probe_cuda().reason; \
  } while (0)

#define SER_SKIP_WITHOUT_EMODB()                                                 \
  do {                                                                           \
    if (::ser::test::emodb_dir().empty()) GTEST_SKIP() << "Emo-DB not present"; \
  } while (0)

// Uniform random floats in [lo, hi), never all zero (seeded).
std::vector<float> random_signal(std::size_t n, std::uint64_t seed, float lo = -0.5f, float hi = 0.5f);

// An empty file at p (folders made as needed), and a file holding `text`.
void touch(const std::filesystem::path& p);
void write_text(const std::filesystem::path& p, const std::string& text);

// The message of the ser::Error fn throws; "" when it throws none.
std::string error_of(const std::function<void()>& fn);
// Runs fn, expecting ser::Error with a one-line message containing every one of `parts`.
void expect_error(const std::function<void()>& fn, const std::vector<std::string>& parts);

// The embedded synthetic corpus's feature cache, made once per test process by the CLI (as a user
// would) in a temporary folder; throws ser::Error with the CLI's output when that fails.
const std::string& synthetic_cache();

// Runs a shell command line; returns the exit code (-1 when killed), stdout and stderr captured into `output`.
int run_shell(const std::string& command, std::string* output = nullptr);
// Runs the ser executable with arguments, as run_shell.
int run_ser(const std::string& args, std::string* output = nullptr);
// Starts the ser executable without waiting, stdout and stderr into log_file; its pid (-1 on failure).
pid_t spawn_ser(const std::vector<std::string>& args, const std::string& log_file);
// waitpid, retried on EINTR; the status.
int wait_for(pid_t pid);
// The whole file, byte for byte ("" when it cannot be read).
std::string read_all(const std::string& path);

}  // namespace ser::test
