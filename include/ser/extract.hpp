// ser/extract.hpp — corpus → features → cache: the job behind `ser features`.
#pragma once
#include <cstddef>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "ser/corpus.hpp"
#include "ser/feature_config.hpp"
#include "ser/frontend.hpp"
#include "ser/synthetic.hpp"

namespace ser {

enum class OnError { fail, skip };
OnError parse_on_error(const std::string&);  // "fail" | "skip"

struct ExtractOptions {
  FeatureConfig config;
  FrontEndPath path = FrontEndPath::cpu;
  int cpu_threads = 0;            // decoding and CPU front-end threads (0 = all cores)
  OnError on_error = OnError::fail;
  std::size_t batch_size = 64;    // utterances decoded and extracted together
  bool progress = true;           // progress line on stderr
  SyntheticCorpusConfig synthetic;  // used when the manifest's corpus is "synthetic"
};

struct ExtractReport {
  std::size_t written = 0;
  std::vector<std::pair<std::string, std::string>> skipped;  // (path, reason)
  double audio_seconds = 0;     // audio that went through the front-end
  double decode_seconds = 0;    // wall time reading + resampling (or synthesising), overlapping the front-end
  double frontend_seconds = 0;  // wall time in the front-end
  double total_seconds = 0;
};

// Loads utterance `i` of the manifest at the feature sample rate (decoded or synthesised).
std::vector<float> load_utterance(const Manifest& m, std::size_t i, const ExtractOptions& opt);

// Extracts every utterance and writes the cache atomically to out_path. With OnError::fail the
// first bad file aborts (error names it) and no cache is written; with skip, bad files are listed
// in the report and a summary is printed to `log`.
ExtractReport extract_corpus(const Manifest& m, const ExtractOptions& opt, const std::string& out_path,
                             std::ostream& log);

}  // namespace ser
