// Pieces of the trainer: speaker-independent splits, the learning-rate schedule, length bucketing,
// normalisation from training utterances only, metrics.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "ser/error.hpp"
#include "ser/metrics.hpp"
#include "engine/dataset.hpp"
#include "train/optimizer.hpp"

namespace ser {
namespace {

FeatureCache toy_cache() {
  FeatureCache c;
  c.class_names = {"a", "b"};
  c.functional_names = {"f0", "f1"};
  const std::vector<std::string> spk{"s1", "s1", "s2", "s2", "s3", "s3", "s4", "s4", "s5", "s5"};
  c.offsets = {0};
  for (std::size_t i = 0; i < spk.size(); ++i) {
    const int frames = 10 + static_cast<int>(i) * 3;
    for (int r = 0; r < frames; ++r)
      for (int j = 0; j < c.n_mels(); ++j) c.logmel.push_back(spk[i] == "s5" ? 1000.0f : float(r % 7 + j % 3));
    c.offsets.push_back(c.offsets.back() + frames);
    c.functionals.push_back(spk[i] == "s5" ? 1e6f : float(i));
    c.functionals.push_back(1.0f);
    c.labels.push_back(static_cast<int>(i % 2));
    c.speakers.push_back(spk[i]);
    c.paths.push_back(std::to_string(i) + ".wav");
  }
  return c;
}

TEST(TrainSplit, SpeakersNeverCrossSides) {
  const FeatureCache c = toy_cache();
  const auto sp = engine::split_by_speakers(c, {"s5"}, {"s4"});
  std::set<std::string> tr, va, te;
  for (int u : sp.train) tr.insert(c.speakers[static_cast<std::size_t>(u)]);
  for (int u : sp.validation) va.insert(c.speakers[static_cast<std::size_t>(u)]);
  for (int u : sp.test) te.insert(c.speakers[static_cast<std::size_t>(u)]);
  EXPECT_EQ(te, (std::set<std::string>{"s5"}));
  EXPECT_EQ(va, (std::set<std::string>{"s4"}));
  EXPECT_EQ(tr, (std::set<std::string>{"s1", "s2", "s3"}));
  EXPECT_THROW(engine::split_by_speakers(c, {"s5"}, {"s5"}), Error);
  EXPECT_THROW(engine::split_by_speakers(c, {"nobody"}, {"s4"}), Error);
  const auto d = engine::default_split(c, 3);
  EXPECT_EQ(d.test_speakers.size(), 1u);
  EXPECT_EQ(d.validation_speakers.size(), 1u);
  EXPECT_NE(d.test_speakers[0], d.validation_speakers[0]);
}

TEST(TrainSplit, NormalisationSeesOnlyTrainingUtterances) {
  const FeatureCache c = toy_cache();
  const auto sp = engine::split_by_speakers(c, {"s5"}, {"s4"});  // s5's features are huge
  const auto norm = engine::fit_normalizer(c, sp.train);
  for (float m : norm.logmel_mean) EXPECT_LT(m, 10.0f);
  EXPECT_LT(norm.functional_mean[0], 10.0f);
}

TEST(TrainBatches, BucketedEpochCoversEveryUtteranceOnceAndPadsWithZeros) {
  const FeatureCache c = toy_cache();
  std::vector<int> all(c.n_utterances());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
  const auto norm = engine::fit_normalizer(c, all);
  engine::BatchMaker maker(c, norm, 4);
  const auto batches = engine::epoch_batches(all, maker, 3, 2, 0, 7, 0);
  std::vector<int> seen;
  for (const auto& b : batches) seen.insert(seen.end(), b.begin(), b.end());
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, all);
  EXPECT_NE(engine::epoch_batches(all, maker, 3, 2, 0, 7, 1), batches);  // reshuffled every epoch
  EXPECT_EQ(engine::epoch_batches(all, maker, 3, 2, 0, 7, 0), batches);  // and reproducibly
  engine::HostBatch hb;
  maker.make({0, 9}, 0, 0, hb);
  EXPECT_EQ(hb.t, 37);
  EXPECT_EQ(hb.lengths, (std::vector<int>{10, 37}));
  for (int r = 10; r < hb.t; ++r)
    for (int j = 0; j < c.n_mels(); ++j) EXPECT_EQ(hb.x[static_cast<std::size_t>(r * c.n_mels() + j)], 0.0f);
  maker.make({9}, 16, 5, hb);  // cropped
  EXPECT_EQ(hb.t, 16);
}

TEST(TrainSchedule, WarmupThenCosineAndStep) {
  TrainConfig t;
  t.lr = 1.0f;
  t.warmup_epochs = 1;
  t.min_lr_ratio = 0.1f;
  EXPECT_NEAR(train::learning_rate(t, 0, 10, 100), 0.1, 1e-7);
  EXPECT_NEAR(train::learning_rate(t, 9, 10, 100), 1.0, 1e-7);
  EXPECT_NEAR(train::learning_rate(t, 10, 10, 100), 1.0, 1e-7);
  EXPECT_NEAR(train::learning_rate(t, 55, 10, 100), 0.55, 1e-7);  // half way down the cosine
  EXPECT_NEAR(train::learning_rate(t, 100, 10, 100), 0.1, 1e-7);
  t.schedule = "step";
  t.step_every_epochs = 2;
  t.step_gamma = 0.5f;
  EXPECT_NEAR(train::learning_rate(t, 45, 10, 100), 0.25, 1e-7);
}

TEST(Metrics, AccuracyUaAndMacroF1) {
  // 3 classes; class 2 never predicted.
  const std::vector<int> truth{0, 0, 0, 0, 1, 1, 2, 2};
  const std::vector<int> pred{0, 0, 0, 1, 1, 1, 1, 0};
  const ClassMetrics m = compute_metrics(truth, pred, 3);
  EXPECT_DOUBLE_EQ(m.accuracy, 5.0 / 8);
  EXPECT_DOUBLE_EQ(m.ua, (0.75 + 1.0 + 0.0) / 3);
  EXPECT_DOUBLE_EQ(m.precision[0], 3.0 / 4);
  EXPECT_DOUBLE_EQ(m.precision[1], 2.0 / 4);
  EXPECT_DOUBLE_EQ(m.f1[2], 0.0);
  EXPECT_EQ(m.confusion[2][1], 1);
  EXPECT_NEAR(m.macro_f1, (0.75 + 2.0 / 3 + 0) / 3, 1e-12);
}

}  // namespace
}  // namespace ser
