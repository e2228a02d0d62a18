// The saved progress of an extraction, in the folder OUT.partial beside the cache OUT:
//   identity            the run's identity (src/cache/extraction_identity.hpp), written first
//   batch-NNNNNN.bin    batch N once it is completely extracted (src/cache/partial_batch.hpp)
// Every file is written to a temporary name and renamed, so a killed run leaves only whole files
// (and perhaps a *.tmp-PID, which is ignored). docs/cache.md, "Resuming".
#pragma once
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

#include "cache/partial_batch.hpp"

namespace ser {

class PartialExtraction {
 public:
  PartialExtraction(const std::string& out_path, std::string identity);
  const std::string& dir() const { return dir_; }

  // Passes `restore` the batches an earlier run with the same identity saved, batch 0 first, and
  // returns how many. Batch k must cover utterances [k * batch_size, min(total, (k + 1) * batch_size)).
  // Saved progress of another identity, or with a missing or damaged identity, is removed and the
  // run starts over; at a missing or damaged batch the run goes on from there; both are said on
  // `log`. Throws ser::Error naming the folder when it holds files that are not ser's.
  std::size_t resume(std::size_t batch_size, std::size_t total, std::ostream& log,
                     const std::function<void(SavedBatch&&)>& restore);
  // Removes earlier saved progress, saying why on `log` (--no-resume).
  void discard(std::ostream& log, const std::string& why);
  // Saves batch k durably; the first call makes the folder and writes the identity.
  void save(std::size_t k, const SavedBatch& batch);
  // Removes the folder once the cache is in place (a failure is only reported on `log`).
  void remove(std::ostream& log);

 private:
  std::string batch_path(std::size_t k) const;
  void clear();

  std::string dir_;
  std::string identity_;
  std::uint64_t digest_;
  bool identity_written_ = false;
};

}  // namespace ser
