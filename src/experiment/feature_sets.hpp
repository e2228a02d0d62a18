// src/experiment/feature_sets.hpp — the feature caches an experiment trains on: extracted once into
// the experiment's folder and reused while corpus, classes and feature config are unchanged; and the
// in-memory variants some models need (speaker-normalised, utterance features, merged corpora).
#pragma once
#include <iosfwd>
#include <string>
#include <vector>

#include "ser/cache.hpp"
#include "ser/extract.hpp"

namespace ser::experiment {

struct CacheRequest {
  std::string corpus;        // adapter name
  std::string data;          // corpus folder ("" for synthetic)
  std::string classes = "all";
  std::string filter;        // "FIELD=VALUE" or "" (load_manifest)
  std::string path;          // where the cache lives
  ExtractOptions extract;    // front-end path, threads, synthetic corpus config
};

// Reuses `path` when it holds a cache of the same corpus, utterances and feature config; otherwise
// extracts the corpus into it (atomically). Prints which on `log`.
FeatureCache obtain_cache(const CacheRequest& request, std::ostream& log);

// Each speaker's log-mel (per mel band, over all its frames) and functionals (per column, over its
// utterances) z-scored with that speaker's own statistics. Uses the test speakers' unlabelled
// features, so an experiment must report it (normalisation = "speaker").
FeatureCache speaker_normalised(const FeatureCache& cache);

// Two caches with the same feature config and class names as one; speakers and paths are prefixed
// with "<name>:" so the corpora stay apart. Throws naming both when they do not match.
FeatureCache merge_caches(const FeatureCache& a, const std::string& name_a, const FeatureCache& b,
                          const std::string& name_b);

// The utterances `keep` (indices, increasing) of a cache as a cache of their own.
FeatureCache subset_cache(const FeatureCache& cache, const std::vector<std::size_t>& keep);

}  // namespace ser::experiment
