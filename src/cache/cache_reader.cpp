// Reads a feature cache and checks everything a trainer relies on before anyone uses it.
#include <filesystem>

#include "cache/h5_handles.hpp"
#include "ser/cache.hpp"

namespace ser {

namespace {

void require(bool ok, const std::string& path, const std::string& what) {
  if (!ok) throw file_error(path, "damaged feature cache: " + what);
}

}  // namespace

FeatureCache read_cache(const std::string& path) {
  h5::quiet_errors();
  if (!std::filesystem::exists(path)) throw file_error(path, "no such feature cache");
  h5::Handle file = h5::open_sealed(path, "feature cache", "extract the features again");
  const hid_t f = file.get();
  if (!h5::has_attr(f, "format") || h5::read_attr_string(f, path, "format") != "ser-feature-cache")
    throw file_error(path, "an HDF5 file but not a ser feature cache (no format=\"ser-feature-cache\" attribute)");
  const std::int64_t version = h5::read_attr_int(f, path, "format_version");
  if (version != kCacheFormatVersion)
    throw file_error(path, "cache format version " + std::to_string(version) + ", this ser reads version " +
                               std::to_string(kCacheFormatVersion) + "; extract the features again");

  FeatureCache c;
  try {
    c.config = FeatureConfig::from_json(h5::read_attr_string(f, path, "feature_config"));
  } catch (const Error& e) {
    throw file_error(path, std::string("bad feature_config attribute: ") + e.what());
  }
  c.corpus = h5::read_attr_string(f, path, "corpus");
  c.frontend = h5::read_attr_string(f, path, "frontend");
  c.class_names = h5::read_attr_strings(f, path, "class_names");
  c.prosody_names = h5::read_attr_strings(f, path, "prosody_names");
  c.functional_names = h5::read_attr_strings(f, path, "functional_names");

  std::vector<hsize_t> lm_dims, pr_dims, fn_dims;
  c.logmel = h5::read_f32(f, path, "logmel", &lm_dims);
  c.offsets = h5::read_i64(f, path, "offsets");
  c.prosody = h5::read_f32(f, path, "prosody", &pr_dims);
  c.functionals = h5::read_f32(f, path, "functionals", &fn_dims);
  c.labels = h5::read_i32(f, path, "labels");
  c.speakers = h5::read_strings(f, path, "speakers");
  c.paths = h5::read_strings(f, path, "paths");
  if (h5::has_dataset(f, "groups")) c.groups = h5::read_strings(f, path, "groups");
  if (h5::has_dataset(f, "splits")) c.splits = h5::read_strings(f, path, "splits");

  const std::size_t n = c.labels.size();
  require(lm_dims.size() == 2 && lm_dims[1] == static_cast<hsize_t>(c.n_mels()), path,
          "/logmel must be (total_frames, n_mels=" + std::to_string(c.n_mels()) + ")");
  require(c.offsets.size() == n + 1, path, "/offsets must have n_utterances + 1 = " + std::to_string(n + 1) +
                                               " entries, found " + std::to_string(c.offsets.size()));
  require(c.offsets.front() == 0, path, "/offsets must start at 0");
  for (std::size_t u = 0; u < n; ++u)
    require(c.offsets[u + 1] >= c.offsets[u], path, "/offsets decrease at utterance " + std::to_string(u));
  require(static_cast<hsize_t>(c.offsets.back()) == lm_dims[0], path,
          "/offsets end at " + std::to_string(c.offsets.back()) + " but /logmel has " + std::to_string(lm_dims[0]) +
              " frames");
  require(pr_dims.size() == 2 && pr_dims[0] == lm_dims[0] && pr_dims[1] == c.prosody_names.size(), path,
          "/prosody must be (total_frames, n_prosody) matching prosody_names");
  require(fn_dims.size() == 2 && fn_dims[0] == n && fn_dims[1] == c.functional_names.size(), path,
          "/functionals must be (n_utterances, n_functionals) matching functional_names");
  require(c.speakers.size() == n && c.paths.size() == n, path, "/speakers and /paths must have one entry per utterance");
  require(c.groups.empty() || c.groups.size() == n, path, "/groups must have one entry per utterance");
  require(c.splits.empty() || c.splits.size() == n, path, "/splits must have one entry per utterance");
  for (std::size_t u = 0; u < n; ++u)
    require(c.labels[u] >= 0 && c.labels[u] < static_cast<int>(c.class_names.size()), path,
            "label " + std::to_string(c.labels[u]) + " of utterance " + std::to_string(u) + " is outside class_names");
  return c;
}

FeatureCache read_cache(const std::string& path, const FeatureConfig& expected) {
  FeatureCache c = read_cache(path);
  const auto diff = expected.differences(c.config);
  if (!diff.empty()) {
    std::string msg = "cache was extracted with a different feature config (asked for vs in cache):";
    for (const auto& d : diff) msg += "\n  " + d;
    msg += "\nextract the features again with the config you want";
    throw file_error(path, msg);
  }
  return c;
}

}  // namespace ser
