// Mixup of host batches (src/train/mixup.cpp): the Beta(alpha, alpha) sampler's range and moments,
// and a mixed batch row by row: lambda * own + (1 - lambda) * partner for log-mel and utterance
// vector, the longer length, the partner's label, partners forming a permutation, the same draws
// from the same seed. (The loss side is SoftmaxXent*.Mixup*; resume with mixup is
// Train.ResumeAfterSigkillIsBitIdentical.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "ser/error.hpp"
#include "train/mixup.hpp"

namespace ser::train {
namespace {

// Mean 1/2 and variance 1 / (4 (2 alpha + 1)) over 20,000 seeds. The bounds are 6 standard errors:
// the mean's is sqrt(var / N) (at most 0.0025 here), the variance's about var * sqrt(2 / N) (1 %).
TEST(Mixup, BetaSamplerHasTheBetaDistributionsMoments) {
  const int draws = 20000;
  for (double alpha : {0.05, 0.2, 0.4, 1.0, 2.0, 8.0}) {
    double sum = 0, sum2 = 0;
    for (int s = 0; s < draws; ++s) {
      const double l = beta_symmetric(alpha, 1000003ULL * s + 17);
      ASSERT_TRUE(l >= 0.0 && l <= 1.0) << alpha << ": " << l;
      sum += l;
      sum2 += l * l;
    }
    const double mean = sum / draws, var = sum2 / draws - mean * mean;
    const double want_var = 1.0 / (4.0 * (2.0 * alpha + 1.0));
    EXPECT_NEAR(mean, 0.5, 6.0 * std::sqrt(want_var / draws)) << "alpha " << alpha;
    EXPECT_NEAR(var, want_var, 6.0 * want_var * std::sqrt(2.0 / draws)) << "alpha " << alpha;
  }
  EXPECT_EQ(beta_symmetric(0.4, 99), beta_symmetric(0.4, 99));
  EXPECT_THROW(beta_symmetric(0.0, 1), Error);
}

engine::HostBatch batch() {
  engine::HostBatch b;
  b.n = 5;
  b.t = 6;
  const int mels = 3, p = 2;
  b.lengths = {6, 2, 4, 5, 3};
  b.labels = {0, 3, 1, 3, 2};
  b.utterances = {10, 11, 12, 13, 14};
  for (int i = 0; i < b.n; ++i) {
    for (int r = 0; r < b.t; ++r)
      for (int m = 0; m < mels; ++m) b.x.push_back(r < b.lengths[i] ? 0.25f * (i + 1) + 0.01f * (r * mels + m) : 0.0f);
    for (int e = 0; e < p; ++e) b.prosody.push_back(-1.0f - i - 0.1f * e);
  }
  return b;
}

TEST(Mixup, EachRowIsItsMixtureWithOnePartnerOfAPermutation) {
  const engine::HostBatch before = batch();
  const std::size_t row = before.x.size() / before.n, prow = before.prosody.size() / before.n;
  for (std::uint64_t seed : {1ULL, 2ULL, 3ULL, 77ULL}) {
    engine::HostBatch b = before;
    mixup(b, 0.4, seed);
    const float l = static_cast<float>(beta_symmetric(0.4, seed)), r = static_cast<float>(1.0 - beta_symmetric(0.4, seed));
    EXPECT_EQ(b.mix_lambda, l);
    ASSERT_EQ(b.mix_labels.size(), 5u);
    std::vector<int> partners;
    for (int i = 0; i < b.n; ++i) {
      int found = -1;
      for (int j = 0; j < b.n && found < 0; ++j) {
        bool same = true;
        for (std::size_t e = 0; e < row && same; ++e)
          same = b.x[i * row + e] == l * before.x[i * row + e] + r * before.x[j * row + e];
        for (std::size_t e = 0; e < prow && same; ++e)
          same = b.prosody[i * prow + e] == l * before.prosody[i * prow + e] + r * before.prosody[j * prow + e];
        if (same) found = j;
      }
      ASSERT_GE(found, 0) << "row " << i << " is no mixture with any row, seed " << seed;
      partners.push_back(found);
      EXPECT_EQ(b.mix_labels[i], before.labels[found]);
      EXPECT_EQ(b.labels[i], before.labels[i]);
      EXPECT_EQ(b.lengths[i], std::max(before.lengths[i], before.lengths[found]));
    }
    std::sort(partners.begin(), partners.end());
    EXPECT_EQ(partners, (std::vector<int>{0, 1, 2, 3, 4})) << "seed " << seed;
    engine::HostBatch again = before;
    mixup(again, 0.4, seed);
    EXPECT_EQ(again.x, b.x);
    EXPECT_EQ(again.mix_labels, b.mix_labels);
  }
  // Different seeds pair the rows differently at least once.
  engine::HostBatch a = before, c = before;
  bool differ = false;
  for (std::uint64_t s = 10; s < 20 && !differ; ++s) {
    a = before;
    c = before;
    mixup(a, 1.0, s);
    mixup(c, 1.0, s + 100);
    differ = a.mix_labels != c.mix_labels || a.lengths != c.lengths;
  }
  EXPECT_TRUE(differ);
}

}  // namespace
}  // namespace ser::train
