// SpecAugment-style masking of training batches (src/train/spec_augment.hpp): bands are zero, no
// wider than configured, inside each utterance's valid frames; everything else is untouched; the
// masks depend only on (seed, utterance); off by default.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "train/spec_augment.hpp"

namespace ser::train {
namespace {

constexpr int kMels = 16;

// A batch of three utterances (ids 5, 9, 2) with lengths 40, 25, 12, padded to 40 frames, every valid
// value non-zero.
engine::HostBatch make_batch() {
  engine::HostBatch b;
  b.n = 3;
  b.t = 40;
  b.utterances = {5, 9, 2};
  b.lengths = {40, 25, 12};
  b.x.assign(static_cast<std::size_t>(b.n) * b.t * kMels, 0.0f);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0.5f, 2.0f);
  for (int i = 0; i < b.n; ++i)
    for (int r = 0; r < b.lengths[static_cast<std::size_t>(i)]; ++r)
      for (int j = 0; j < kMels; ++j) b.x[(static_cast<std::size_t>(i) * b.t + r) * kMels + j] = u(rng);
  return b;
}

TrainConfig masks(int time_masks, int time_frames, int freq_masks, int freq_bins) {
  TrainConfig t;
  t.time_masks = time_masks;
  t.time_mask_frames = time_frames;
  t.freq_masks = freq_masks;
  t.freq_mask_bins = freq_bins;
  return t;
}

TEST(SpecAugment, OffByDefaultLeavesTheBatchAlone) {
  engine::HostBatch b = make_batch();
  const std::vector<float> before = b.x;
  EXPECT_FALSE(spec_augment_enabled(TrainConfig{}));
  spec_augment(b, kMels, TrainConfig{}, 7);
  EXPECT_EQ(b.x, before);
}

TEST(SpecAugment, FrequencyBandsAreZeroBoundedAndInsideTheValidFrames) {
  const engine::HostBatch orig = make_batch();
  engine::HostBatch b = orig;
  spec_augment(b, kMels, masks(0, 0, 1, 5), 11);
  for (int i = 0; i < b.n; ++i) {
    const int len = b.lengths[static_cast<std::size_t>(i)];
    // One band: the same bins are zero in every valid frame, at most 5 of them, contiguous.
    std::vector<int> zero_bins;
    for (int j = 0; j < kMels; ++j)
      if (b.x[(static_cast<std::size_t>(i) * b.t) * kMels + j] == 0.0f) zero_bins.push_back(j);
    EXPECT_LE(zero_bins.size(), 5u) << "utterance " << i;
    for (std::size_t k = 1; k < zero_bins.size(); ++k) EXPECT_EQ(zero_bins[k], zero_bins[k - 1] + 1);
    for (int r = 0; r < b.t; ++r)
      for (int j = 0; j < kMels; ++j) {
        const std::size_t at = (static_cast<std::size_t>(i) * b.t + r) * kMels + j;
        const bool in_band = std::find(zero_bins.begin(), zero_bins.end(), j) != zero_bins.end();
        if (r < len && in_band) {
          EXPECT_EQ(b.x[at], 0.0f);
        } else {
          EXPECT_EQ(b.x[at], orig.x[at]) << "utterance " << i << " frame " << r << " bin " << j;
        }
      }
  }
}

TEST(SpecAugment, TimeBandsAreZeroBoundedAndInsideTheValidFrames) {
  const engine::HostBatch orig = make_batch();
  engine::HostBatch b = orig;
  spec_augment(b, kMels, masks(2, 8, 0, 0), 13);
  int masked_frames = 0;
  for (int i = 0; i < b.n; ++i) {
    const int len = b.lengths[static_cast<std::size_t>(i)];
    int zero_rows = 0;
    for (int r = 0; r < b.t; ++r) {
      const float* row = &b.x[(static_cast<std::size_t>(i) * b.t + r) * kMels];
      const float* was = &orig.x[(static_cast<std::size_t>(i) * b.t + r) * kMels];
      bool all_zero = true, unchanged = true;
      for (int j = 0; j < kMels; ++j) {
        all_zero &= row[j] == 0.0f;
        unchanged &= row[j] == was[j];
      }
      EXPECT_TRUE(all_zero || unchanged) << "a time mask covers whole frames only";
      if (r < len && all_zero) ++zero_rows;
      if (r >= len) {
        EXPECT_TRUE(unchanged);  // padding stays as it was (zero)
      }
    }
    EXPECT_LE(zero_rows, 2 * 8) << "utterance " << i;
    masked_frames += zero_rows;
  }
  EXPECT_GT(masked_frames, 0) << "three utterances, two bands each, and nothing masked";
}

TEST(SpecAugment, MasksDependOnlyOnSeedAndUtterance) {
  const TrainConfig t = masks(2, 10, 2, 4);
  engine::HostBatch a = make_batch(), b = make_batch(), c = make_batch();
  spec_augment(a, kMels, t, 21);
  spec_augment(b, kMels, t, 21);
  spec_augment(c, kMels, t, 22);
  EXPECT_EQ(a.x, b.x);
  EXPECT_NE(a.x, c.x);
  // Utterance 9 alone in a batch gets the same masks as in the batch of three.
  engine::HostBatch one;
  one.n = 1;
  one.t = 25;
  one.utterances = {9};
  one.lengths = {25};
  const engine::HostBatch full = make_batch();
  one.x.assign(full.x.begin() + 40 * kMels, full.x.begin() + 40 * kMels + 25 * kMels);
  spec_augment(one, kMels, t, 21);
  for (int r = 0; r < 25; ++r)
    for (int j = 0; j < kMels; ++j)
      EXPECT_EQ(one.x[static_cast<std::size_t>(r) * kMels + j], a.x[(40 + static_cast<std::size_t>(r)) * kMels + j]);
}

}  // namespace
}  // namespace ser::train
