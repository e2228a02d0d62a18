// src/experiment/fold_plan.cpp — utterances, folds and the per-fold record of an experiment.
#include "experiment/fold_plan.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "experiment/feature_sets.hpp"
#include "ser/corpus.hpp"
#include "ser/error.hpp"

namespace ser::experiment {

namespace {

// Cross-corpus "folds": train on one corpus (validation speakers from it), test on all of the other.
std::vector<Fold> cross_corpus_folds(const SpeakerTable& t, const std::string& a, const std::string& b, int n_val,
                                     bool both) {
  std::vector<Fold> folds;
  for (int dir = 0; dir < (both ? 2 : 1); ++dir) {
    const std::string from = (dir == 0 ? a : b) + ":", to = (dir == 0 ? b : a) + ":";
    std::vector<std::string> src;
    Fold f;
    f.index = dir;
    for (const auto& s : t.speakers) {  // sorted
      if (s.rfind(from, 0) == 0) src.push_back(s);
      if (s.rfind(to, 0) == 0) f.test.push_back(s);
    }
    f.validation = choose_validation(t, src, n_val);
    for (const auto& s : src)
      if (std::find(f.validation.begin(), f.validation.end(), s) == f.validation.end()) f.train.push_back(s);
    folds.push_back(std::move(f));
  }
  return folds;
}

std::vector<int> labels_of(const FeatureCache& c) { return {c.labels.begin(), c.labels.end()}; }

// The speaker id before any partition qualifier ("train/127" -> "127").
std::string bare_speaker(const std::string& s, bool qualified) {
  return qualified ? s.substr(s.find('/') + 1) : s;
}

// Speakers on the test side that also appear on the training or validation side, by their bare ids
// (the unknown speaker is no speaker), and how many test utterances they hold.
std::pair<std::vector<std::string>, long> shared_speakers(const FeatureCache& c, const Fold& f, bool qualified) {
  std::set<std::string> test(f.test.begin(), f.test.end()), fit(f.train.begin(), f.train.end());
  fit.insert(f.validation.begin(), f.validation.end());
  std::set<std::string> test_bare, fit_bare;
  for (const auto& s : test) test_bare.insert(bare_speaker(s, qualified));
  for (const auto& s : fit) fit_bare.insert(bare_speaker(s, qualified));
  std::vector<std::string> shared;
  for (const auto& s : test_bare)
    if (fit_bare.count(s) && s != kUnknownSpeaker) shared.push_back(s);
  const std::set<std::string> shared_set(shared.begin(), shared.end());
  long utterances = 0;
  for (std::size_t u = 0; u < c.n_utterances(); ++u)
    if (test.count(c.speakers[u]) && shared_set.count(bare_speaker(c.speakers[u], qualified))) ++utterances;
  return {shared, utterances};
}

// "predefined": the corpus's partitions named by the experiment become the fold's three sides.
FeatureCache partitioned(const ExperimentConfig& cfg, const FeatureCache& cache, std::vector<std::string>& notes, Fold& fold) {
  if (cache.splits.empty())
    throw Error(cfg.path + ": protocol \"predefined\" needs a corpus with its own partition (msppodcast, or a csv "
                "manifest with a split column); the " + cache.corpus + " cache has none");
  const std::map<std::string, std::string> role = {
      {cfg.train_partition, "train"}, {cfg.validation_partition, "validation"}, {cfg.test_partition, "test"}};
  std::vector<std::size_t> keep;
  std::map<std::string, long> unused;
  std::map<std::string, long> per_role;
  for (std::size_t u = 0; u < cache.n_utterances(); ++u) {
    const auto r = role.find(cache.splits[u]);
    if (r == role.end()) {
      ++unused[cache.splits[u].empty() ? "(none)" : cache.splits[u]];
      continue;
    }
    keep.push_back(u);
    ++per_role[r->second];
  }
  for (const char* side : {"train", "validation", "test"})
    if (!per_role.count(side)) {
      const std::string name = side == std::string("train") ? cfg.train_partition
                               : side == std::string("validation") ? cfg.validation_partition : cfg.test_partition;
      const std::set<std::string> present(cache.splits.begin(), cache.splits.end());
      std::string list;
      for (const auto& p : present) list.append(list.empty() ? "" : ", ").append(p);
      throw Error(cfg.path + ": the " + side + " partition '" + name + "' holds no utterance (the cache's partitions: " +
                  list + ")");
    }
  for (const auto& [name, n] : unused)
    notes.push_back(std::to_string(n) + " utterances of partition '" + name + "' are in no side of this experiment");
  FeatureCache c = subset_cache(cache, keep);
  std::set<std::string> sides[3];
  for (std::size_t u = 0; u < c.n_utterances(); ++u) {
    const std::string r = role.at(c.splits[u]);
    c.speakers[u] = r + "/" + c.speakers[u];
    sides[r == "test" ? 0 : r == "validation" ? 1 : 2].insert(c.speakers[u]);
  }
  fold.index = 0;
  fold.test.assign(sides[0].begin(), sides[0].end());
  fold.validation.assign(sides[1].begin(), sides[1].end());
  fold.train.assign(sides[2].begin(), sides[2].end());
  return c;
}

}  // namespace

FoldPlan plan_folds(const ExperimentConfig& cfg, const FeatureCache& cache) {
  FoldPlan plan;
  const int k = static_cast<int>(cache.class_names.size());
  const bool qualified = cfg.protocol == "predefined";
  if (qualified) {
    Fold f;
    plan.cache = partitioned(cfg, cache, plan.notes, f);
    plan.folds.push_back(std::move(f));
  } else {
    // A speaker-independent fold cannot hold utterances whose speaker nobody knows.
    std::vector<std::size_t> keep;
    for (std::size_t u = 0; u < cache.n_utterances(); ++u)
      if (cache.speakers[u] != kUnknownSpeaker) keep.push_back(u);
    if (keep.size() < cache.n_utterances()) {
      plan.notes.push_back(std::to_string(cache.n_utterances() - keep.size()) +
                           " utterances without a speaker id left out: a speaker-independent fold cannot place them");
      plan.cache = subset_cache(cache, keep);
    } else {
      plan.cache = cache;
    }
    const SpeakerTable table = speaker_table(plan.cache.speakers, plan.cache.groups, labels_of(plan.cache), k);
    if (cfg.protocol == "cross_corpus") {
      plan.folds = cross_corpus_folds(table, cfg.corpus, cfg.test_corpus, cfg.validation_speakers, cfg.both_directions);
    } else if (cfg.protocol == "loso") {
      plan.folds = leave_one_speaker_out(table, cfg.validation_speakers);
    } else if (cfg.protocol == "logo") {
      if (plan.cache.groups.empty())
        throw Error(cfg.path + ": protocol \"logo\" needs fold groups (iemocap sessions, or a csv manifest with a group "
                    "column); the " + cache.corpus + " cache has none");
      plan.folds = leave_one_group_out(table, cfg.validation_speakers);
    } else {
      plan.folds = speaker_k_fold(table, cfg.folds, cfg.validation_speakers, cfg.split_seed);
    }
  }
  check_folds(plan.folds, cfg.path);

  const SpeakerTable table = speaker_table(plan.cache.speakers, {}, labels_of(plan.cache), k);
  plan.details = nlohmann::json::array();
  for (const Fold& f : plan.folds) {
    const auto counts = fold_class_counts(table, f);
    const auto [shared, shared_utterances] = shared_speakers(plan.cache, f, qualified);
    nlohmann::json d{{"fold", f.index},
                     {"test_speakers", f.test.size()},
                     {"validation_speakers", f.validation.size()},
                     {"train_speakers", f.train.size()},
                     {"utterances", {{"test", counts[0]}, {"validation", counts[1]}, {"train", counts[2]}}},
                     {"shared_speakers", shared},
                     {"shared_test_utterances", shared_utterances}};
    // Speaker lists are recorded where they are short enough to read.
    if (f.test.size() <= 50) d["test"] = f.test;
    if (f.validation.size() <= 50) d["validation"] = f.validation;
    plan.details.push_back(std::move(d));
  }
  return plan;
}

}  // namespace ser::experiment
