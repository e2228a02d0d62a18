// src/engine/dataset.hpp — what the trainer reads from a feature cache: the utterances of one split,
// normalisation statistics computed on the training utterances only, and padded batches.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ser/cache.hpp"

namespace ser::engine {

// Speaker-independent split: indices of utterances into the cache.
struct Split {
  std::vector<int> train, validation, test;
  std::vector<std::string> train_speakers, validation_speakers, test_speakers;
};

// Splits by speaker lists (each speaker in at most one list); speakers not named go to training.
// Throws ser::Error for an unknown speaker, no training utterances, or (unless `validation_required`
// is false, as for a refit on training + validation speakers) no validation utterances.
Split split_by_speakers(const FeatureCache& cache, const std::vector<std::string>& test_speakers,
                        const std::vector<std::string>& validation_speakers, bool validation_required = true);
// A default split when none is given: speakers sorted, then shuffled by seed; about 20 % of them
// (at least 1) for test and 10 % (at least 1) for validation.
Split default_split(const FeatureCache& cache, std::uint64_t seed);

// Per-feature mean and standard deviation (std floored at 1e-5).
struct Normalizer {
  std::vector<float> logmel_mean, logmel_std;           // (n_mels)
  std::vector<float> functional_mean, functional_std;   // (n_functionals)
};
// Statistics over the frames and utterances of `train` only.
Normalizer fit_normalizer(const FeatureCache& cache, const std::vector<int>& train);

// A padded batch on the host: x (n, 1, t, n_mels) normalised log-mel, zero beyond each length;
// prosody (n, n_functionals) normalised functionals; labels (n).
struct HostBatch {
  int n = 0, t = 0;
  std::vector<int> utterances;     // cache indices
  std::vector<int> lengths;        // (n)
  std::vector<float> x;            // (n, 1, t, n_mels)
  std::vector<float> prosody;      // (n, n_functionals)
  std::vector<std::int32_t> labels;// (n)
  // Mixup (train/mixup.hpp): each row's partner label, and the weight of `labels` in the loss.
  std::vector<std::int32_t> mix_labels;  // (n), empty without mixup
  float mix_lambda = 1.0f;
};

class BatchMaker {
 public:
  BatchMaker(const FeatureCache& cache, const Normalizer& norm, int min_frames);
  // The batch of these utterances. crop_frames > 0 crops longer utterances to that many frames at
  // an offset drawn from (seed, utterance); shorter than min_frames are zero-padded and counted as
  // min_frames long.
  void make(const std::vector<int>& utterances, int crop_frames, std::uint64_t seed, HostBatch& out) const;
  int length_of(int utterance, int crop_frames) const;
  int n_mels() const { return mels_; }
  int n_prosody() const { return prosody_; }

 private:
  const FeatureCache& cache_;
  const Normalizer& norm_;
  int min_frames_, mels_, prosody_;
};

// One epoch's batches: indices shuffled by (seed, epoch), sorted by length inside windows of
// bucket_batches batches (so a batch holds similar lengths), cut into batches, batch order shuffled.
std::vector<std::vector<int>> epoch_batches(const std::vector<int>& indices, const BatchMaker& maker,
                                            int batch_size, int bucket_batches, int crop_frames,
                                            std::uint64_t seed, int epoch);
// Evaluation batches: sorted by length, in order (deterministic, no shuffling).
std::vector<std::vector<int>> eval_batches(const std::vector<int>& indices, const BatchMaker& maker,
                                           int batch_size);

}  // namespace ser::engine
