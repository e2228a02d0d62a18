// What an extraction's results depend on, so that saved progress is only ever resumed by a run
// that would compute the same cache (docs/cache.md, "Resuming").
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ser/corpus.hpp"
#include "ser/extract.hpp"

namespace ser {

// One "key value" line per input: the ser build, corpus, corpus folder, front-end (as the cache's
// `frontend` attribute names it), feature config JSON, batch size, the synthetic generator's
// config, a digest of the manifest (classes and every utterance with its fields) and one of every
// audio file's size and modification time.
std::string extraction_identity(const Manifest& m, const ExtractOptions& opt, const std::string& frontend_name);

// The keys whose lines differ between two identities ("feature_config", "batch_size", ...); a
// line only one of them has counts as differing.
std::vector<std::string> identity_differences(const std::string& a, const std::string& b);

// 64-bit FNV-1a of `text`: how batch files name the identity they belong to.
std::uint64_t identity_digest(const std::string& text);

}  // namespace ser
