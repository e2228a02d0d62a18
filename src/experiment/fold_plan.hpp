// src/experiment/fold_plan.hpp — from an experiment's protocol and its feature cache to the folds:
// which utterances take part (speaker-based protocols leave out utterances without a speaker id;
// "predefined" takes the corpus's own partitions), the folds, and what results.json records about
// them (utterances per class on every side of every fold, speakers shared by training and test).
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "experiment/experiment_config.hpp"
#include "experiment/protocol.hpp"
#include "ser/cache.hpp"

namespace ser::experiment {

struct FoldPlan {
  FeatureCache cache;        // the utterances the folds cover; for "predefined" each speaker id is
                             // qualified by its partition ("train/127"), so sides never share an id
  std::vector<Fold> folds;
  nlohmann::json details;    // (folds,) {fold, test, validation, train_speakers, utterances {test,
                             // validation, train: per class}, shared_speakers, shared_test_utterances}
  std::vector<std::string> notes;  // what was left out and why, for the log and results.json
};

// `cache` is the experiment's (merged for cross_corpus, where speakers carry "corpus:" prefixes).
FoldPlan plan_folds(const ExperimentConfig& cfg, const FeatureCache& cache);

}  // namespace ser::experiment
