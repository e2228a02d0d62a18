// src/train/mixup.hpp — mixup of training batches (Zhang et al., "mixup: Beyond Empirical Risk
// Minimization", ICLR 2018, as its reference code does it): one lambda ~ Beta(alpha, alpha) per batch
// and a random partner for each row (a permutation of the batch); the row's log-mel and fused
// utterance vector become lambda * own + (1 - lambda) * partner's, its length the longer of the two
// (padding is 0, the training mean of the normalised features), and the loss
// lambda * L(labels) + (1 - lambda) * L(partners' labels) (ser/nn/loss.hpp, XentTargets). Every draw
// is a counter-based random number of (seed, draw), so a batch's mixup depends only on its seed and an
// interrupted run resumes bit for bit.
#pragma once
#include <cstdint>

#include "engine/dataset.hpp"

namespace ser::train {

// A Beta(alpha, alpha) variate from draws of `seed` (alpha > 0): two Gamma(alpha) variates by
// Marsaglia and Tsang's method (2000), below alpha = 1 boosted by U^(1 / alpha).
double beta_symmetric(double alpha, std::uint64_t seed);

// Mixes b in place (alpha > 0): x (n, 1, t, n_mels), prosody (n, P), lengths; sets b.mix_labels
// and b.mix_lambda.
void mixup(engine::HostBatch& b, double alpha, std::uint64_t seed);

}  // namespace ser::train
