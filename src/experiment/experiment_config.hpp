// src/experiment/experiment_config.hpp — an experiment file (experiments/NAME.toml): which corpus,
// which speaker-independent protocol, which seeds, and the models to compare. Errors name the file
// and the key.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ser::experiment {

struct ModelEntry {
  std::string name;         // unique; folder and table name
  std::string kind;         // "engine" | "svm_linear" | "svm_rbf" | "knn" | "gmm"
  std::string approach;     // the paper's approach: "hybrid" | "cnn" | "classic" | "mlp"
  std::string description;
  std::string config;       // engine: run config path (resolved against the experiment file's folder)
  int epochs = 0;           // engine: > 0 overrides the run config's [train] epochs
  int attention_after = -1; // engine: >= 0 overrides [model] attention_after (ablations)
};

struct ExperimentConfig {
  std::string path;         // the file it came from
  std::string name;         // runs/NAME
  std::string title;
  std::string corpus = "synthetic";     // adapter for --data (see `ser corpus`)
  std::string classes = "all";          // class set ("all", "paper4", "iemocap4" or a list)
  std::string filter;                   // "FIELD=VALUE": only those utterances (e.g. type=improvised)
  std::string protocol = "loso";        // "loso" | "logo" (leave one fold group out, e.g. an IEMOCAP
                                        // session) | "kfold" | "predefined" | "cross_corpus"
  int folds = 5;                        // kfold: number of speaker groups
  std::string train_partition = "train";            // predefined: the corpus's partitions that
  std::string validation_partition = "validation";  // become the training, validation and test
  std::string test_partition = "test";              // sides (MSP-Podcast: development, test1)
  int validation_speakers = 1;          // taken from the training side of every fold
  std::uint64_t split_seed = 1;         // kfold: how speakers are dealt into groups
  std::vector<std::uint64_t> seeds{1};  // every model x fold runs once per seed
  std::string normalisation = "training";  // "training" (statistics of the training speakers) or
                                           // "speaker" (each speaker by its own statistics, test
                                           // speakers included: transductive, reported as such)
  std::string baseline;                 // model the significance tests compare against ("" = none)
  bool engine_refit = false;            // engine models: after selection on the validation speakers,
                                        // retrain on training + validation speakers for the chosen epoch
                                        // count and test that model (the classic baselines always refit)
  int attention_examples = 2;           // attention maps of this many test utterances (fold 0, first seed)
  std::string test_corpus;              // cross_corpus: the corpus tested on (synthetic needs no folder)
  bool both_directions = false;         // cross_corpus: also train on test_corpus and test on corpus
  int synthetic_speakers = 8;           // the embedded synthetic corpus's size
  int synthetic_per_emotion = 10;
  std::vector<ModelEntry> models;
};

ExperimentConfig load_experiment_config(const std::string& path);
ExperimentConfig parse_experiment_config(const std::string& toml_text, const std::string& origin,
                                         const std::string& base_dir);

}  // namespace ser::experiment
