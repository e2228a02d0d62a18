// One finished batch of an extraction, saved so that a killed `ser features` can resume
// (src/cache/partial_extraction.cpp keeps the folder of them; docs/cache.md, "Resuming").
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ser/frontend.hpp"

namespace ser {

struct SavedUtterance {
  std::uint64_t index = 0;        // in the manifest
  std::string skipped;            // why --on-error skip left it out; "" = extracted
  std::uint64_t samples = 0;      // audio length at the feature sample rate (0 when skipped)
  UtteranceFeatures features;     // empty when skipped
};

struct SavedBatch {
  std::uint64_t begin = 0, end = 0;         // manifest utterances [begin, end)
  std::vector<SavedUtterance> utterances;   // (end - begin,), in manifest order
};

// Writes `path` whole: to PATH.tmp-PID, then renamed, so a batch file that exists is complete.
// `identity` (the digest of the run's identity) is stored and checked on reading, so a batch file
// never serves a run with other inputs. Throws ser::Error naming the file and the system's reason.
void write_batch_file(const std::string& path, std::uint64_t identity, const SavedBatch& batch);

// Reads and checks a batch file (magic, identity, CRC-32 of its contents, every length inside the
// file). Throws ser::Error naming the file and what is wrong; never reads out of bounds.
SavedBatch read_batch_file(const std::string& path, std::uint64_t identity);

}  // namespace ser
