// ser/extract.hpp — corpus → features → cache: the job behind `ser features`.
#pragma once
#include <cstddef>
#include <functional>
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
  std::size_t batch_size = 64;    // utterances decoded, extracted and saved for resuming together
  bool progress = true;           // progress line on stderr
  SyntheticCorpusConfig synthetic;  // used when the manifest's corpus is "synthetic"
  bool resume = true;             // continue from the progress an interrupted run saved (docs/cache.md)
  // Called after each batch this run saved, with how many it has saved (tests interrupt runs here).
  std::function<void(std::size_t)> after_batch_saved;
};

struct ExtractReport {
  std::size_t written = 0;
  std::size_t resumed = 0;      // utterances taken from the progress an interrupted run saved
  std::vector<std::pair<std::string, std::string>> skipped;  // (path, reason)
  double audio_seconds = 0;     // audio of the utterances written, resumed ones included
  double resumed_audio_seconds = 0;  // of that, what an interrupted run already put through the front-end
  double decode_seconds = 0;    // wall time reading + resampling (or synthesising), overlapping the front-end
  double frontend_seconds = 0;  // wall time in the front-end
  double total_seconds = 0;
};

// Loads utterance `i` of the manifest at the feature sample rate (decoded or synthesised).
std::vector<float> load_utterance(const Manifest& m, std::size_t i, const ExtractOptions& opt);

// Extracts every utterance and writes the cache atomically to out_path. With OnError::fail the
// first bad file aborts (error names it) and no cache is written; with skip, bad files are listed
// in the report and a summary is printed to `log`. Each finished batch is saved in
// OUT.partial/ first; a run with the same inputs resumes from there ("resuming: ..." on `log`) and
// writes the cache an uninterrupted run would have; OUT.partial/ is removed once the cache is in place.
ExtractReport extract_corpus(const Manifest& m, const ExtractOptions& opt, const std::string& out_path,
                             std::ostream& log);

}  // namespace ser
