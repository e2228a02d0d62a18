// src/experiment/fold_runner.hpp — one model on one fold with one seed: trains (engine) or fits
// (classic baselines) on the fold's training speakers, selects on its validation speakers, and
// evaluates once on its test speakers. Returns the fold's entry of results.json.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <string>

#include <nlohmann/json.hpp>

#include "experiment/experiment_config.hpp"
#include "experiment/protocol.hpp"
#include "ser/cache.hpp"
#include "ser/classic.hpp"
#include "ser/model_config.hpp"

namespace ser::experiment {

struct FoldRun {
  const ModelEntry* model = nullptr;
  Fold fold;
  std::uint64_t seed = 1;
  std::string dir;                 // this run's folder (engine: checkpoints, metrics.jsonl, train.log)
  std::string device = "auto", kernels = "handwritten";
  int attention_examples = 0;      // engine: attention maps of this many test utterances
  bool refit = false;              // engine: after selection on validation, retrain on training +
                                   // validation speakers for the chosen epoch count; that model is tested
  bool progress = true;
};

// The run config an engine run trains with: the model's config file with the entry's overrides
// (epochs, attention_after) and the run's seed.
RunConfig effective_run_config(const FoldRun& run);

// Metrics of a fold from its predictions (per-class recall null where the class is absent).
nlohmann::json fold_metrics(const std::vector<int>& truth, const std::vector<int>& predicted, int n_classes);

// Engine model. `examples` receives attention-map entries (attention_examples > 0). With run.refit
// the fold's entry holds the refit's test results, refit_epochs, and under "validation_selected" the
// test metrics and predictions of the model selected on validation.
nlohmann::json run_engine_fold(const FoldRun& run, const FeatureCache& cache, const std::string& cache_name,
                               nlohmann::json& examples, std::ostream& log);
// Classic baseline on utterance features x (rows = the cache's utterances).
nlohmann::json run_classic_fold(const FoldRun& run, const FeatureCache& cache, const classic::FeatureMatrix& x);

// A digest of everything a run's result depends on (to reuse a finished run's fold.json).
std::string run_digest(const FoldRun& run, const FeatureCache& cache, const std::string& extra);

}  // namespace ser::experiment
