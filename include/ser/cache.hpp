// ser/cache.hpp — the HDF5 feature cache. Layout (docs/cache.md):
//   /logmel       float32 (total_frames, n_mels)        log-mel frames of all utterances, back to back
//   /offsets      int64   (n_utterances + 1,)           utterance u = rows offsets[u] .. offsets[u+1]
//   /prosody      float32 (total_frames, n_prosody)     columns named by attribute prosody_names
//   /functionals  float32 (n_utterances, n_functionals) columns named by attribute functional_names
//   /labels       int32   (n_utterances,)               index into attribute class_names
//   /speakers     string  (n_utterances,)
//   /paths        string  (n_utterances,)               relative to the corpus folder
//   /groups       string  (n_utterances,)  optional     fold group (IEMOCAP session)
//   /splits       string  (n_utterances,)  optional     the corpus's own partition (MSP-Podcast Split_Set)
//   root attributes: format = "ser-feature-cache", format_version, feature_config (JSON),
//   class_names, prosody_names, functional_names, corpus, frontend, ser_version.
// Written to a temporary name and renamed when complete: a cache at the final name is whole.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ser/feature_config.hpp"
#include "ser/frontend.hpp"

namespace ser {

inline constexpr int kCacheFormatVersion = 2;  // 2: the checksum block (docs/cache.md)

struct FeatureCache {
  FeatureConfig config;
  std::string corpus;
  std::string frontend;                    // which path computed the features
  std::vector<std::string> class_names;
  std::vector<std::string> prosody_names;
  std::vector<std::string> functional_names;
  std::vector<float> logmel;               // (total_frames, n_mels)
  std::vector<std::int64_t> offsets;       // (n_utterances + 1,)
  std::vector<float> prosody;              // (total_frames, n_prosody)
  std::vector<float> functionals;          // (n_utterances, n_functionals)
  std::vector<std::int32_t> labels;        // (n_utterances,)
  std::vector<std::string> speakers;       // (n_utterances,)
  std::vector<std::string> paths;          // (n_utterances,)
  std::vector<std::string> groups;         // (n_utterances,) or empty: the corpus has no fold groups
  std::vector<std::string> splits;         // (n_utterances,) or empty: the corpus has no partition

  std::size_t n_utterances() const { return labels.size(); }
  std::int64_t total_frames() const { return offsets.empty() ? 0 : offsets.back(); }
  int n_mels() const { return config.logmel.n_mels; }
};

// Accumulates utterances, then writes the whole cache at commit().
class CacheWriter {
 public:
  CacheWriter(std::string path, FeatureConfig config, std::string corpus, std::string frontend,
              std::vector<std::string> class_names);
  void add(const std::string& rel_path, const std::string& speaker, int label, const UtteranceFeatures& f,
           const std::string& group = "", const std::string& split = "");
  std::size_t size() const { return cache_.n_utterances(); }
  // Writes PATH.tmp-PID, then renames it to PATH. Throws ser::Error (and removes the temporary)
  // on failure; a previous cache at PATH stays untouched until the rename.
  void commit();

 private:
  std::string path_;
  FeatureCache cache_;
};

// Reads and validates a whole cache. Throws ser::Error naming the file and what is wrong
// (not HDF5, not a ser cache, wrong version, missing dataset, inconsistent shapes or offsets).
FeatureCache read_cache(const std::string& path);
// As above, and refuses a cache whose feature config differs from `expected`, listing each field.
FeatureCache read_cache(const std::string& path, const FeatureConfig& expected);

// Human-readable summary for `ser inspect`.
std::string describe_cache(const FeatureCache& cache, const std::string& path);

}  // namespace ser
