// src/experiment/run_claim.hpp — claim files, through which `ser experiment --worker` processes
// share one run folder (on one machine, or on several nodes over a shared file system) so that no
// run is computed twice and no run is lost when a worker dies.
//
// A claim is a file created with O_CREAT | O_EXCL (atomic on local file systems and on NFS v3 and
// later) naming its owner ("host pid"). A heartbeat thread bumps its modification time while the
// owner works. A claim not bumped for `timeout_seconds` belongs to a worker that died: another
// worker renames it away — rename is atomic, so of two workers taking over only one succeeds — and
// creates its own. Ages are measured on the file system's clock (the time stamp of a probe file
// written in the same folder), so clock differences between nodes do not matter.
#pragma once
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace ser::experiment {

struct ClaimTiming {
  double timeout_seconds = 300;   // a claim not refreshed for this long is taken over
  double heartbeat_seconds = 15;  // how often its holder refreshes it
};

// "host pid": this process in claims and logs.
std::string worker_name();

// Seconds since the file at `path` was last modified, on its file system's clock; nullopt when it
// does not exist.
std::optional<double> file_age_seconds(const std::filesystem::path& path);

class RunClaim {
 public:
  // Creates the claim file `path` (its folder must exist) unless a live claim holds it; nullptr when
  // one does. When a stale claim was replaced, `taken_over` receives its owner ("" otherwise).
  static std::unique_ptr<RunClaim> try_acquire(const std::filesystem::path& path, const ClaimTiming& timing,
                                               std::string* taken_over = nullptr);
  // Waits (polling every `poll_seconds`) until the claim is free or stale, then takes it.
  static std::unique_ptr<RunClaim> acquire(const std::filesystem::path& path, const ClaimTiming& timing,
                                           double poll_seconds = 0.2);
  ~RunClaim();  // stops the heartbeat and removes the file if it is still this worker's
  RunClaim(const RunClaim&) = delete;
  RunClaim& operator=(const RunClaim&) = delete;

 private:
  RunClaim(std::filesystem::path path, std::string owner, double heartbeat_seconds);
  std::filesystem::path path_;
  std::string owner_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::jthread heartbeat_;
};

}  // namespace ser::experiment
