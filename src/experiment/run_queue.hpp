// src/experiment/run_queue.hpp — the runs of an experiment (every model x fold x seed) in their fixed
// order, and the two ways of working through them:
//   run_in_order   one process, run after run; a finished run (fold.json with the run's digest) is reused;
//   run_as_worker  one of any number of cooperating processes (`ser experiment --worker`, on one machine
//                  or on nodes sharing the run folder): each run is claimed through a claim file
//                  (run_claim.hpp) before it is computed, a run another worker holds is left to it, and
//                  the run of a worker that died is taken over after the claim timeout, resuming from
//                  its last.h5.
// Either way, results are published from the finished runs in the fixed order, so the aggregate does
// not depend on how many processes computed it or in which order they finished.
#pragma once
#include <deque>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "experiment/experiment_config.hpp"
#include "experiment/fold_runner.hpp"
#include "experiment/progress.hpp"
#include "experiment/protocol.hpp"
#include "experiment/run_claim.hpp"
#include "ser/cache.hpp"
#include "ser/classic.hpp"
#include "ser/experiment.hpp"

namespace ser::experiment {

struct PlannedRun {
  ModelEntry entry;        // the experiment's model entry with the command line's overrides
  FoldRun run;             // run.model points at entry
  int model_index = 0;     // position in the experiment file
  std::string digest;      // what the run depends on; a fold.json with another digest is not reused
  std::filesystem::path done;  // its fold.json
};

// A fold side for logs: the speakers, comma-separated, or their count where a list would fill the screen.
std::string speakers_text(const std::vector<std::string>& speakers);

// Seeds (outer), folds, models (inner), under out/models/MODEL/seedS/foldF. A deque, so that each
// run's FoldRun::model keeps pointing at its own entry.
std::deque<PlannedRun> plan_runs(const ExperimentConfig& cfg, const std::vector<Fold>& folds,
                                 const ExperimentOptions& options, const std::filesystem::path& out,
                                 const FeatureCache& cache);

// The run's fold entry if it has finished (fold.json present, readable, with the run's digest).
std::optional<nlohmann::json> finished_run(const PlannedRun& p);

// What the queues need besides the runs. `publish` receives every run's fold entry (nullopt where it
// has not finished) in plan order and how many of them this process computed, and rewrites the
// results files.
struct RunInputs {
  const FeatureCache& cache;
  const std::string& cache_name;
  const classic::FeatureMatrix& features;
  std::function<void(const std::vector<std::optional<nlohmann::json>>&, int computed_here)> publish;
};

struct RunCounts {
  int finished = 0;  // runs whose results are in
  int computed = 0;  // of which this process computed
};

RunCounts run_in_order(const std::deque<PlannedRun>& runs, const RunInputs& in, ExperimentProgress& progress,
                       std::ostream& log);
// `results_claim` serialises publishing between workers (each publishes what is on disk).
RunCounts run_as_worker(const std::deque<PlannedRun>& runs, const RunInputs& in, const ClaimTiming& timing,
                        const std::filesystem::path& results_claim, ExperimentProgress& progress, std::ostream& log);

}  // namespace ser::experiment
