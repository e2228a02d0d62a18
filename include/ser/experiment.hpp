// ser/experiment.hpp — `ser experiment experiments/NAME.toml --data DIR`: every model x fold x seed of
// a speaker-independent protocol, written to runs/NAME/ as results.json, results.md and report.html.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "ser/frontend.hpp"

namespace ser {

struct ExperimentOptions {
  std::string config;               // experiments/NAME.toml
  std::string data;                 // corpus folder (not needed for the synthetic corpus)
  std::string test_data;            // cross_corpus: the test corpus's folder (synthetic needs none)
  std::string cache;                // use this feature cache instead of extracting (must match the corpus)
  std::string runs_dir = "runs";    // results go to runs_dir/NAME
  std::string device = "auto";      // training device: auto | cpu | cuda
  std::string kernels = "handwritten";
  FrontEndPath frontend = FrontEndPath::cpu;
  int threads = 0;                  // front-end threads (0 = all cores)
  int epochs = 0;                   // > 0 overrides every engine model's epochs (quick runs)
  std::vector<std::uint64_t> seeds; // non-empty: overrides the experiment's seeds
  bool fresh = false;               // ignore finished runs in runs_dir/NAME and start over
  // One of several cooperating processes on the same runs_dir/NAME (docs/cluster.md): runs are
  // claimed through claim files, the feature cache is extracted by one worker while the others wait,
  // and a claim not refreshed for claim_timeout_seconds (its worker died) is taken over.
  bool worker = false;
  double claim_timeout_seconds = 300;
  bool progress = true;
};

// Returns the path of results.json. Throws ser::Error for bad configs, corpora or caches.
std::string run_experiment(const ExperimentOptions& options, std::ostream& log);

}  // namespace ser
