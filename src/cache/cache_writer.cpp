// Writes the feature cache: everything to PATH.tmp-PID, then one rename, so an interrupted or
// failed run never leaves a file at PATH that looks like a cache.
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "cache/h5_handles.hpp"
#include "ser/cache.hpp"
#include "ser/prosody.hpp"
#include "ser/build_info.hpp"

namespace ser {

CacheWriter::CacheWriter(std::string path, FeatureConfig config, std::string corpus, std::string frontend,
                         std::vector<std::string> class_names)
    : path_(std::move(path)) {
  cache_.config = std::move(config);
  cache_.corpus = std::move(corpus);
  cache_.frontend = std::move(frontend);
  cache_.class_names = std::move(class_names);
  cache_.prosody_names = prosody_names();
  cache_.functional_names = functional_names();
  cache_.offsets = {0};
}

void CacheWriter::add(const std::string& rel_path, const std::string& speaker, int label, const UtteranceFeatures& f,
                      const std::string& group, const std::string& split) {
  const std::size_t n_mels = cache_.config.logmel.n_mels, n_pros = cache_.prosody_names.size();
  if (f.logmel.size() != static_cast<std::size_t>(f.n_frames) * n_mels ||
      f.prosody.size() != static_cast<std::size_t>(f.n_frames) * n_pros ||
      f.functionals.size() != cache_.functional_names.size())
    throw Error("cache " + path_ + ": features of " + rel_path + " have inconsistent sizes");
  if (label < 0 || label >= static_cast<int>(cache_.class_names.size()))
    throw Error("cache " + path_ + ": label " + std::to_string(label) + " of " + rel_path + " is out of range");
  cache_.logmel.insert(cache_.logmel.end(), f.logmel.begin(), f.logmel.end());
  cache_.prosody.insert(cache_.prosody.end(), f.prosody.begin(), f.prosody.end());
  cache_.functionals.insert(cache_.functionals.end(), f.functionals.begin(), f.functionals.end());
  cache_.offsets.push_back(cache_.offsets.back() + f.n_frames);
  cache_.labels.push_back(label);
  cache_.speakers.push_back(speaker);
  cache_.paths.push_back(rel_path);
  cache_.groups.push_back(group);
  cache_.splits.push_back(split);
}

void CacheWriter::commit() {
  if (cache_.n_utterances() == 0) throw Error(path_ + ": no utterances to write; the cache was not created");
  h5::quiet_errors();
  const std::string tmp = path_ + ".tmp-" + std::to_string(::getpid());
  try {
    {
      h5::Handle file = h5::create_file(tmp, "creating the cache file");
      const hid_t f = file.get();
      const hsize_t frames = static_cast<hsize_t>(cache_.total_frames());
      const hsize_t utts = cache_.n_utterances();
      // Log-mel is stored uncompressed: shuffle + deflate saved 18 % of its size on Emo-DB for 0.7 s
      // of one core per 1,500 s of audio (as long as the rest of the front-end on two cores), and
      // every training run would pay for inflating it again (experiments/RESULTS.md, CPU speed).
      h5::write_f32(f, tmp, "logmel", cache_.logmel, {frames, static_cast<hsize_t>(cache_.n_mels())},
                    h5::Compression::none);
      h5::write_i64(f, tmp, "offsets", cache_.offsets);
      h5::write_f32(f, tmp, "prosody", cache_.prosody, {frames, cache_.prosody_names.size()});
      h5::write_f32(f, tmp, "functionals", cache_.functionals, {utts, cache_.functional_names.size()});
      h5::write_i32(f, tmp, "labels", cache_.labels);
      h5::write_strings(f, tmp, "speakers", cache_.speakers);
      h5::write_strings(f, tmp, "paths", cache_.paths);
      // Only corpora with fold groups (IEMOCAP sessions) or their own partition (MSP-Podcast) have these.
      const auto any = [](const std::vector<std::string>& v) {
        return std::any_of(v.begin(), v.end(), [](const std::string& s) { return !s.empty(); });
      };
      if (any(cache_.groups)) h5::write_strings(f, tmp, "groups", cache_.groups);
      if (any(cache_.splits)) h5::write_strings(f, tmp, "splits", cache_.splits);
      h5::write_attr_string(f, tmp, "format", "ser-feature-cache");
      h5::write_attr_int(f, tmp, "format_version", kCacheFormatVersion);
      h5::write_attr_string(f, tmp, "feature_config", cache_.config.to_json());
      h5::write_attr_strings(f, tmp, "class_names", cache_.class_names);
      h5::write_attr_strings(f, tmp, "prosody_names", cache_.prosody_names);
      h5::write_attr_strings(f, tmp, "functional_names", cache_.functional_names);
      h5::write_attr_string(f, tmp, "corpus", cache_.corpus);
      h5::write_attr_string(f, tmp, "frontend", cache_.frontend);
      h5::write_attr_string(f, tmp, "ser_version", SER_VERSION);
      h5::write_attr_string(f, tmp, "ser_commit", build_commit());
      h5::check(H5Fflush(f, H5F_SCOPE_GLOBAL), tmp, "flushing the cache file");
    }  // closed here, before the rename
    h5::seal_file(tmp);
    std::filesystem::rename(tmp, path_);
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw;
  }
}

}  // namespace ser
