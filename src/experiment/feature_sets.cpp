// src/experiment/feature_sets.cpp — obtaining and deriving the caches of an experiment.
#include "experiment/feature_sets.hpp"

#include <cmath>
#include <filesystem>
#include <map>
#include <ostream>

#include "ser/corpus.hpp"
#include "ser/error.hpp"
#include "ser/synthetic.hpp"

namespace ser::experiment {
namespace fs = std::filesystem;

namespace {

// Why the cache at `path` cannot be reused for manifest `m` ("" when it can).
std::string stale_reason(const std::string& path, const Manifest& m, const FeatureConfig& config) {
  if (!fs::exists(path)) return "no cache yet";
  FeatureCache c;
  try {
    c = read_cache(path, config);
  } catch (const Error& e) {
    return e.what();
  }
  if (c.corpus != m.corpus) return "it holds corpus " + c.corpus;
  if (c.n_utterances() != m.utterances.size())
    return "it holds " + std::to_string(c.n_utterances()) + " utterances, the corpus has " +
           std::to_string(m.utterances.size());
  if (c.class_names != m.class_names) return "its class set differs";
  for (std::size_t i = 0; i < m.utterances.size(); ++i) {
    const Utterance& u = m.utterances[i];
    if (c.paths[i] != u.path) return "its utterance " + c.paths[i] + " is not the corpus's " + u.path;
    if (c.speakers[i] != u.speaker || c.class_names[static_cast<std::size_t>(c.labels[i])] != u.label)
      return "the speaker or label of " + u.path + " differs";
    if ((c.groups.empty() ? std::string() : c.groups[i]) != u.group ||
        (c.splits.empty() ? std::string() : c.splits[i]) != u.split)
      return "the fold group or partition of " + u.path + " differs";
  }
  return "";
}

// z-scores the rows of `rows` in a (rows, cols) matrix column by column, in place.
void zscore_rows(std::vector<float>& data, int cols, const std::vector<std::int64_t>& rows) {
  if (rows.empty()) return;
  for (int j = 0; j < cols; ++j) {
    double s = 0, s2 = 0;
    for (std::int64_t r : rows) {
      const double v = data[static_cast<std::size_t>(r * cols + j)];
      s += v;
      s2 += v * v;
    }
    const double n = static_cast<double>(rows.size());
    const double mean = s / n;
    const double sd = std::sqrt(std::max(s2 / n - mean * mean, 0.0));
    const double inv = 1.0 / std::max(sd, 1e-5);
    for (std::int64_t r : rows) {
      float& v = data[static_cast<std::size_t>(r * cols + j)];
      v = static_cast<float>((v - mean) * inv);
    }
  }
}

}  // namespace

FeatureCache obtain_cache(const CacheRequest& q, std::ostream& log) {
  Manifest kept;
  if (q.corpus == "synthetic") {  // the configured generator (size may differ from the default), class-filtered
    const Manifest full = synthetic_manifest(q.extract.synthetic);
    kept = full;
    kept.class_names = resolve_class_set("synthetic", q.classes);
    kept.utterances.clear();
    for (const auto& u : full.utterances)
      if (kept.label_index(u.label) >= 0) kept.utterances.push_back(u);
  } else {
    kept = load_manifest(q.corpus, q.data, q.classes, q.filter);
  }
  if (!kept.left_out.empty()) {
    log << "features: left out as no emotion class:";
    for (const auto& [label, n] : kept.left_out) log << " " << n << " x " << label;
    log << "\n";
  }
  const std::string why = stale_reason(q.path, kept, q.extract.config);
  if (why.empty()) {
    log << "features: reusing " << q.path << " (" << kept.utterances.size() << " utterances of " << kept.corpus << ")\n";
    return read_cache(q.path, q.extract.config);
  }
  log << "features: extracting " << kept.utterances.size() << " utterances of " << kept.corpus
      << (kept.corpus == "synthetic" ? " (SYNTHETIC)" : "") << " into " << q.path << " (" << why << ")\n";
  if (!q.path.empty() && fs::path(q.path).has_parent_path()) fs::create_directories(fs::path(q.path).parent_path());
  const ExtractReport r = extract_corpus(kept, q.extract, q.path, log);
  log << "features: " << r.written << " utterances, " << r.audio_seconds << " s of audio in " << r.total_seconds << " s\n";
  return read_cache(q.path, q.extract.config);
}

FeatureCache speaker_normalised(const FeatureCache& cache) {
  FeatureCache c = cache;
  std::map<std::string, std::vector<std::int64_t>> frames, utts;
  for (std::size_t u = 0; u < c.n_utterances(); ++u) {
    for (std::int64_t r = c.offsets[u]; r < c.offsets[u + 1]; ++r) frames[c.speakers[u]].push_back(r);
    utts[c.speakers[u]].push_back(static_cast<std::int64_t>(u));
  }
  const int f = static_cast<int>(c.functional_names.size());
  for (const auto& [spk, rows] : frames) zscore_rows(c.logmel, c.n_mels(), rows);
  if (f > 0)
    for (const auto& [spk, rows] : utts) zscore_rows(c.functionals, f, rows);
  return c;
}

FeatureCache merge_caches(const FeatureCache& a, const std::string& name_a, const FeatureCache& b,
                          const std::string& name_b) {
  if (a.config.to_json() != b.config.to_json())
    throw Error("cannot merge the " + name_a + " and " + name_b + " caches: their feature configs differ");
  if (a.class_names != b.class_names)
    throw Error("cannot merge the " + name_a + " and " + name_b + " caches: their class lists differ");
  if (a.functional_names != b.functional_names || a.prosody_names != b.prosody_names)
    throw Error("cannot merge the " + name_a + " and " + name_b + " caches: their prosodic feature sets differ");
  FeatureCache c = a;
  c.corpus = name_a + "+" + name_b;
  c.groups.clear();  // a cross-corpus fold is a corpus: neither fold groups nor partitions apply
  c.splits.clear();
  for (auto& s : c.speakers) s = std::string(name_a).append(":").append(s);
  for (auto& p : c.paths) p = std::string(name_a).append(":").append(p);
  const std::int64_t base = c.total_frames();
  c.logmel.insert(c.logmel.end(), b.logmel.begin(), b.logmel.end());
  c.prosody.insert(c.prosody.end(), b.prosody.begin(), b.prosody.end());
  c.functionals.insert(c.functionals.end(), b.functionals.begin(), b.functionals.end());
  c.labels.insert(c.labels.end(), b.labels.begin(), b.labels.end());
  for (std::size_t i = 1; i < b.offsets.size(); ++i) c.offsets.push_back(base + b.offsets[i]);
  for (const auto& s : b.speakers) c.speakers.push_back(std::string(name_b).append(":").append(s));
  for (const auto& p : b.paths) c.paths.push_back(std::string(name_b).append(":").append(p));
  return c;
}

FeatureCache subset_cache(const FeatureCache& cache, const std::vector<std::size_t>& keep) {
  FeatureCache c;
  c.config = cache.config;
  c.corpus = cache.corpus;
  c.frontend = cache.frontend;
  c.class_names = cache.class_names;
  c.prosody_names = cache.prosody_names;
  c.functional_names = cache.functional_names;
  c.offsets = {0};
  const std::size_t m = static_cast<std::size_t>(cache.n_mels()), p = cache.prosody_names.size(),
                    f = cache.functional_names.size();
  for (std::size_t u : keep) {
    const std::size_t r0 = static_cast<std::size_t>(cache.offsets[u]), r1 = static_cast<std::size_t>(cache.offsets[u + 1]);
    c.logmel.insert(c.logmel.end(), cache.logmel.begin() + static_cast<std::ptrdiff_t>(r0 * m),
                    cache.logmel.begin() + static_cast<std::ptrdiff_t>(r1 * m));
    c.prosody.insert(c.prosody.end(), cache.prosody.begin() + static_cast<std::ptrdiff_t>(r0 * p),
                     cache.prosody.begin() + static_cast<std::ptrdiff_t>(r1 * p));
    c.functionals.insert(c.functionals.end(), cache.functionals.begin() + static_cast<std::ptrdiff_t>(u * f),
                         cache.functionals.begin() + static_cast<std::ptrdiff_t>((u + 1) * f));
    c.offsets.push_back(c.offsets.back() + static_cast<std::int64_t>(r1 - r0));
    c.labels.push_back(cache.labels[u]);
    c.speakers.push_back(cache.speakers[u]);
    c.paths.push_back(cache.paths[u]);
    if (!cache.groups.empty()) c.groups.push_back(cache.groups[u]);
    if (!cache.splits.empty()) c.splits.push_back(cache.splits[u]);
  }
  return c;
}

}  // namespace ser::experiment
