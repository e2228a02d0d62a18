// tests/test_experiment_protocol.cpp — fold rules: leave-one-speaker-out, leave-one-group-out,
// balanced k-fold over speakers, the validation rule, and the per-fold class counts.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <set>

#include "experiment/protocol.hpp"
#include "ser/error.hpp"
#include "ser/nn/counter_rng.hpp"

namespace ser {
namespace {

using namespace experiment;
using Strings = std::vector<std::string>;

std::set<std::string> as_set(const Strings& v) { return {v.begin(), v.end()}; }

void expect_disjoint_and_complete(const Fold& f, const Strings& all) {
  std::set<std::string> seen;
  for (const auto* side : {&f.test, &f.validation, &f.train})
    for (const auto& s : *side) EXPECT_TRUE(seen.insert(s).second) << s << " appears twice in fold " << f.index;
  EXPECT_EQ(seen, as_set(all));
  EXPECT_FALSE(f.test.empty());
  EXPECT_FALSE(f.validation.empty());
  EXPECT_FALSE(f.train.empty());
}

// Per-utterance inputs for speaker_table: speaker s has counts[s][c] utterances of class c.
SpeakerTable table_of(const Strings& speakers, const std::vector<std::vector<int>>& counts, const Strings& groups = {}) {
  Strings spk, grp;
  std::vector<int> labels;
  for (std::size_t s = 0; s < speakers.size(); ++s)
    for (std::size_t c = 0; c < counts[s].size(); ++c)
      for (int i = 0; i < counts[s][c]; ++i) {
        spk.push_back(speakers[s]);
        if (!groups.empty()) grp.push_back(groups[s]);
        labels.push_back(static_cast<int>(c));
      }
  return speaker_table(spk, grp, labels, static_cast<int>(counts.front().size()));
}

SpeakerTable uniform_table(const Strings& speakers, int per_class = 3, int classes = 2) {
  return table_of(speakers, std::vector<std::vector<int>>(speakers.size(), std::vector<int>(static_cast<std::size_t>(classes), per_class)));
}

TEST(ExperimentProtocol, SpeakerTableCountsClassesPerSpeakerAndRejectsASpeakerInTwoGroups) {
  const SpeakerTable t = speaker_table({"b", "a", "b", "b"}, {}, {0, 1, 1, 1}, 2);
  EXPECT_EQ(t.speakers, (Strings{"a", "b"}));
  EXPECT_EQ(t.groups, (Strings{"a", "b"}));  // no groups: every speaker its own
  EXPECT_EQ(t.counts, (std::vector<std::vector<int>>{{0, 1}, {1, 2}}));
  EXPECT_THROW(speaker_table({"a", "a"}, {"g1", "g2"}, {0, 0}, 1), Error);
  EXPECT_THROW(speaker_table({"a"}, {}, {3}, 2), Error);
}

TEST(ExperimentProtocol, LeaveOneSpeakerOutTestsEverySpeakerOnceAndValidatesOnTheTrainingSide) {
  const Strings spk{"03", "08", "09", "10", "11", "16"};
  const auto folds = leave_one_speaker_out(uniform_table(spk), 2);
  ASSERT_EQ(folds.size(), 6u);
  std::map<std::string, int> tested, validated;
  for (const auto& f : folds) {
    expect_disjoint_and_complete(f, spk);
    ASSERT_EQ(f.test.size(), 1u);
    EXPECT_EQ(f.validation.size(), 2u);
    ++tested[f.test[0]];
    for (const auto& v : f.validation) ++validated[v];
  }
  for (const auto& [s, n] : tested) EXPECT_EQ(n, 1) << s;
  for (const auto& [s, n] : validated) EXPECT_EQ(n, 2) << s;  // rotation: every speaker validates equally often
  EXPECT_EQ(folds[0].test[0], "03");
  EXPECT_EQ(folds[0].validation, (Strings{"08", "09"}));
  EXPECT_EQ(folds[5].validation, (Strings{"03", "08"}));
  EXPECT_THROW(leave_one_speaker_out(uniform_table({"a", "b"}), 1), Error);
}

TEST(ExperimentProtocol, ValidationKeepsTheRotationUnlessAClassWouldHangOnOneUtterance) {
  // Class 1 is rare: b has one utterance of it, c none, d three.
  const SpeakerTable t = table_of({"a", "b", "c", "d", "e"}, {{5, 2}, {5, 1}, {5, 0}, {5, 3}, {5, 2}});
  // Test a: the rotation's b, c hold 1 utterance of class 1; d, e hold 5.
  const auto folds = leave_one_speaker_out(t, 2);
  EXPECT_EQ(folds[0].validation, (Strings{"d", "b"}));  // greedy: d covers class 1 twice, then b (earliest of the ties)
  // Test c: the rotation's d, e already give class 1 two utterances or more: kept.
  EXPECT_EQ(folds[2].validation, (Strings{"d", "e"}));
  // The rule directly: the first candidates are kept when they already cover every class twice.
  EXPECT_EQ(choose_validation(t, {"a", "e", "d"}, 2), (Strings{"a", "e"}));
  // b holds the only utterance of class 1 on the training side: it replaces c.
  const SpeakerTable poor = table_of({"a", "b", "c"}, {{4, 0}, {4, 1}, {4, 0}});
  EXPECT_EQ(choose_validation(poor, {"c", "b"}, 1), (Strings{"b"}));
  for (const auto& f : folds) {
    const auto counts = fold_class_counts(t, f);
    ASSERT_EQ(counts.size(), 3u);
    int total = 0;
    for (const auto& side : counts) total += std::accumulate(side.begin(), side.end(), 0);
    EXPECT_EQ(total, 5 * 5 + 2 + 1 + 3 + 2);
  }
}

TEST(ExperimentProtocol, LeaveOneGroupOutTestsBothSpeakersOfASession) {
  const Strings spk{"Ses01F", "Ses01M", "Ses02F", "Ses02M", "Ses03F", "Ses03M", "Ses04F", "Ses04M"};
  const Strings groups{"Ses01", "Ses01", "Ses02", "Ses02", "Ses03", "Ses03", "Ses04", "Ses04"};
  const auto folds = leave_one_group_out(table_of(spk, std::vector<std::vector<int>>(8, {3, 3, 3}), groups), 2);
  ASSERT_EQ(folds.size(), 4u);
  for (std::size_t i = 0; i < folds.size(); ++i) {
    expect_disjoint_and_complete(folds[i], spk);
    const std::string ses = "Ses0" + std::to_string(i + 1);
    EXPECT_EQ(folds[i].test, (Strings{ses + "F", ses + "M"}));
    const std::string next = "Ses0" + std::to_string((i + 1) % 4 + 1);
    EXPECT_EQ(folds[i].validation, (Strings{next + "F", next + "M"}));  // the next session validates
  }
  EXPECT_THROW(leave_one_group_out(table_of({"a", "b"}, {{1}, {1}}, {"g", "h"}), 1), Error);
}

TEST(ExperimentProtocol, SpeakerKFoldDealsEverySpeakerIntoOneTestGroupDeterministically) {
  Strings spk;
  for (int i = 0; i < 10; ++i) spk.push_back(std::string("s").append(std::to_string(i)));
  const SpeakerTable t = uniform_table(spk);
  const auto a = speaker_k_fold(t, 3, 1, 7), b = speaker_k_fold(t, 3, 1, 7), c = speaker_k_fold(t, 3, 1, 8);
  ASSERT_EQ(a.size(), 3u);
  std::map<std::string, int> tested;
  for (const auto& f : a) {
    expect_disjoint_and_complete(f, spk);
    EXPECT_GE(f.test.size(), 3u);
    EXPECT_LE(f.test.size(), 4u);
    for (const auto& s : f.test) ++tested[s];
  }
  EXPECT_EQ(tested.size(), 10u);
  for (const auto& [s, n] : tested) EXPECT_EQ(n, 1) << s;
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].test, b[i].test);
  bool differs = false;
  for (std::size_t i = 0; i < a.size(); ++i) differs |= a[i].test != c[i].test;
  EXPECT_TRUE(differs) << "another split_seed should deal speakers of equal size differently";
  EXPECT_THROW(speaker_k_fold(t, 11, 1, 1), Error);
}

// The case a new user hit: 29 speakers with 2 to 80 utterances each over 4 unbalanced classes,
// 5 folds. Every fold must hold a fair share of the utterances and every class on its test side.
TEST(ExperimentProtocol, SpeakerKFoldBalancesUtterancesAndClassesOnAnUnbalancedCorpus) {
  for (std::uint64_t corpus_seed : {1u, 2u, 3u, 4u}) {
    Strings spk;
    std::vector<std::vector<int>> counts;
    int largest = 0;
    for (int s = 0; s < 29; ++s) {
      const int n = 2 + static_cast<int>(nn::mix64(corpus_seed * 1000 + static_cast<std::uint64_t>(s)) % 79);  // 2..80
      std::vector<int> c(4, 0);
      for (int i = 0; i < n; ++i) {
        const std::uint64_t r = nn::mix64(corpus_seed * 7919 + static_cast<std::uint64_t>(s * 100 + i)) % 10;
        ++c[r < 4 ? 0 : r < 7 ? 1 : r < 9 ? 2 : 3];  // 40 / 30 / 20 / 10 %
      }
      spk.push_back("spk" + std::to_string(100 + s));
      counts.push_back(c);
      largest = std::max(largest, n);
    }
    const SpeakerTable t = table_of(spk, counts);
    const auto folds = speaker_k_fold(t, 5, 2, 1);
    ASSERT_EQ(folds.size(), 5u);
    int smallest_fold = 1 << 30, largest_fold = 0;
    for (const auto& f : folds) {
      expect_disjoint_and_complete(f, spk);
      const auto c = fold_class_counts(t, f);
      const int n = std::accumulate(c[0].begin(), c[0].end(), 0);
      smallest_fold = std::min(smallest_fold, n);
      largest_fold = std::max(largest_fold, n);
      for (std::size_t k = 0; k < 4; ++k) {
        EXPECT_GT(c[0][k], 0) << "corpus " << corpus_seed << " fold " << f.index << " tests no utterance of class " << k;
        EXPECT_GE(c[1][k], 1) << "corpus " << corpus_seed << " fold " << f.index << " validates on no utterance of class " << k;
      }
    }
    // Largest-first placement: the folds differ by less than one large speaker.
    EXPECT_LE(largest_fold - smallest_fold, largest) << "corpus " << corpus_seed;
  }
}

}  // namespace
}  // namespace ser
