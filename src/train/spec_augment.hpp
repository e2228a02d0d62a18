// src/train/spec_augment.hpp — SpecAugment-style masking of training batches (Park et al. 2019,
// without time warping): per utterance, `time_masks` bands of up to `time_mask_frames` consecutive
// frames and `freq_masks` bands of up to `freq_mask_bins` consecutive mel bins are set to 0, the
// training mean of the normalised log-mel. Widths are uniform in [0, max], starts uniform over the
// positions where the band fits inside the utterance's valid frames. Every draw is a counter-based
// random number of (seed, utterance, draw), so a batch's masks depend on nothing else and an
// interrupted run resumes bit for bit.
#pragma once
#include <cstdint>

#include "ser/model_config.hpp"
#include "engine/dataset.hpp"

namespace ser::train {

// True when the config masks anything.
bool spec_augment_enabled(const TrainConfig& t);

// Masks b.x (n, 1, t, n_mels) in place, inside each utterance's valid length only.
void spec_augment(engine::HostBatch& b, int n_mels, const TrainConfig& t, std::uint64_t seed);

}  // namespace ser::train
