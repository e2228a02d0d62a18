// src/experiment/run_claim.cpp — claim files of cooperating experiment workers (run_claim.hpp).
#include "experiment/run_claim.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

#include "ser/error.hpp"
#include "util/process_name.hpp"

namespace ser::experiment {
namespace fs = std::filesystem;

namespace {

double seconds_of(const struct timespec& t) { return double(t.tv_sec) + double(t.tv_nsec) * 1e-9; }

// "Now" on the clock of the file system holding `dir`: the modification time the server gives a
// probe file we just wrote there.
double file_system_now(const fs::path& dir) {
  static std::atomic<unsigned> counter{0};
  const fs::path probe = dir / (".clock." + worker_name() + "." + std::to_string(counter++));
  const int fd = ::open(probe.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (fd < 0) throw Error(dir.string() + ": cannot write a probe file to read the file system's clock: " + std::strerror(errno));
  struct stat st{};
  const bool ok = ::futimens(fd, nullptr) == 0 && ::fstat(fd, &st) == 0;
  ::close(fd);
  ::unlink(probe.c_str());
  if (!ok) throw Error(probe.string() + ": cannot time-stamp the probe file: " + std::strerror(errno));
  return seconds_of(st.st_mtim);
}

std::string read_owner(const fs::path& path) {
  std::ifstream in(path);
  std::string owner;
  std::getline(in, owner);
  return owner;
}

}  // namespace

std::string worker_name() { return util::process_name(); }

std::optional<double> file_age_seconds(const fs::path& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return file_system_now(path.parent_path()) - seconds_of(st.st_mtim);
}

std::unique_ptr<RunClaim> RunClaim::try_acquire(const fs::path& path, const ClaimTiming& timing, std::string* taken_over) {
  if (taken_over) taken_over->clear();
  const std::string owner = worker_name();
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
    if (fd >= 0) {
      const std::string line = owner + "\n";
      const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
      ::close(fd);
      if (!written) {
        ::unlink(path.c_str());
        throw Error(path.string() + ": cannot write the claim file: " + std::strerror(errno));
      }
      return std::unique_ptr<RunClaim>(new RunClaim(path, owner, timing.heartbeat_seconds));
    }
    if (errno != EEXIST) throw Error(path.string() + ": cannot create the claim file: " + std::strerror(errno));
    if (attempt == 1) return nullptr;
    const std::optional<double> age = file_age_seconds(path);
    if (!age) continue;  // released just now: try again
    if (*age < timing.timeout_seconds) return nullptr;
    // Stale: move it out of the way; only one of several workers doing this at once succeeds.
    const std::string old = read_owner(path);
    const fs::path aside = path.string() + ".stale." + owner;
    if (::rename(path.c_str(), aside.c_str()) != 0) return nullptr;
    ::unlink(aside.c_str());
    if (taken_over) *taken_over = old.empty() ? "an unknown worker" : old;
  }
  return nullptr;
}

std::unique_ptr<RunClaim> RunClaim::acquire(const fs::path& path, const ClaimTiming& timing, double poll_seconds) {
  for (;;) {
    if (auto claim = try_acquire(path, timing)) return claim;
    std::this_thread::sleep_for(std::chrono::duration<double>(poll_seconds));
  }
}

RunClaim::RunClaim(fs::path path, std::string owner, double heartbeat_seconds)
    : path_(std::move(path)), owner_(std::move(owner)) {
  heartbeat_ = std::jthread([this, heartbeat_seconds](std::stop_token stop) {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stop.stop_requested()) {
      wake_.wait_for(lock, stop, std::chrono::duration<double>(heartbeat_seconds), [] { return false; });
      if (stop.stop_requested()) break;
      ::utimensat(AT_FDCWD, path_.c_str(), nullptr, 0);  // a claim lost meanwhile is noticed at release
    }
  });
}

RunClaim::~RunClaim() {
  heartbeat_.request_stop();
  if (heartbeat_.joinable()) heartbeat_.join();
  if (read_owner(path_) == owner_) ::unlink(path_.c_str());
}

}  // namespace ser::experiment
