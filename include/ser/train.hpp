// ser/train.hpp — training a model from a feature cache: `ser train` and the tests call this.
// Speaker-independent: test speakers are never seen in training, normalisation or model selection;
// model selection and early stopping use the validation speakers only.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "ser/device.hpp"
#include "ser/metrics.hpp"

namespace ser {

struct TrainOptions {
  std::string cache;                          // feature cache (.h5)
  std::string config;                         // run config (.toml); empty = defaults
  std::string out_dir;                        // run folder: metrics.jsonl, last.h5, best.h5, summary.json
  std::vector<std::string> test_speakers;     // empty (with validation empty) = default split by seed
  std::vector<std::string> validation_speakers;
  std::string device = "auto";                // auto | cpu | cuda
  std::string kernels = "handwritten";        // handwritten | vendor
  bool deterministic = false;                 // GPU: deterministic algorithms only
  bool resume = false;                        // continue from out_dir/last.h5
  int epochs = 0;                             // > 0 overrides [train] epochs
  int refit_epochs = 0;                       // > 0: a refit. No validation speakers (every non-test speaker
                                              // trains), exactly this many epochs of the schedule that
                                              // [train] epochs defines, and the last model is kept (best.h5)
  int batch_size = 0;                         // > 0 overrides [train] batch_size
  std::int64_t seed = -1;                     // >= 0 overrides [train] seed
  int checkpoint_every = 0;                   // also checkpoint every N steps (0 = at epoch ends only)
  std::int64_t kill_at_step = -1;             // testing: SIGKILL this process after this step
  bool progress = true;                       // progress bar on stderr
  int attention_examples = 0;                 // record attention-pooling weights of this many test utterances
  bool data_parallel = false;                 // under mpirun: every rank trains on its slice of each global
                                              // batch; rank 0 alone evaluates and writes (docs/cluster.md)
};

// The attention-pooling weights of one test utterance (for reports).
struct AttentionExample {
  int utterance = -1;                         // cache index
  int predicted = -1;
  int frames_per_step = 1;                    // log-mel frames per pooled time step
  std::vector<float> weights;                 // (T') softmax over the pooled time steps
};

struct TrainSummary {
  int epochs_run = 0;
  int best_epoch = -1;
  double best_val_ua = 0;
  ClassMetrics validation, test;              // of the best (validation-selected) model
  bool has_test = false;
  double seconds = 0;
  double seconds_per_epoch = 0;
  double train_utterances_per_second = 0;
  double train_audio_seconds_per_second = 0;
  std::vector<std::string> class_names;
  std::int64_t parameters = 0;
  std::vector<int> test_utterances, test_truth, test_predicted;  // cache indices, in evaluation order
  std::vector<float> test_probs;  // (test utterances, classes) posteriors, same order
  double test_seconds = 0;                    // evaluating the test speakers (batched inference)
  std::vector<AttentionExample> attention;    // options.attention_examples of the test utterances
};

TrainSummary run_training(const TrainOptions& options, std::ostream& log);

struct FeatureCache;
// The same on a cache already in memory (options.cache only names it in messages); experiments use
// this for derived caches (speaker-normalised, merged corpora, other utterance features).
TrainSummary run_training(const TrainOptions& options, const FeatureCache& cache, std::ostream& log);

}  // namespace ser
