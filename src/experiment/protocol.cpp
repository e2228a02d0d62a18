// src/experiment/protocol.cpp — fold generation.
#include "experiment/protocol.hpp"

#include <algorithm>
#include <map>
#include <numeric>
#include <set>

#include "ser/error.hpp"
#include "ser/nn/counter_rng.hpp"

namespace ser::experiment {

namespace {

std::size_t index_of(const SpeakerTable& t, const std::string& speaker) {
  const auto it = std::lower_bound(t.speakers.begin(), t.speakers.end(), speaker);
  if (it == t.speakers.end() || *it != speaker) throw Error("speaker '" + speaker + "' is not in the corpus");
  return static_cast<std::size_t>(it - t.speakers.begin());
}

std::vector<int> class_sum(const SpeakerTable& t, const std::vector<std::string>& speakers) {
  std::vector<int> sum(static_cast<std::size_t>(t.n_classes), 0);
  for (const auto& s : speakers) {
    const auto& c = t.counts[index_of(t, s)];
    for (std::size_t j = 0; j < sum.size(); ++j) sum[j] += c[j];
  }
  return sum;
}

// Sum over classes of min(2, validation utterances): the coverage choose_validation maximises.
int coverage(const std::vector<int>& val_counts) {
  int score = 0;
  for (int n : val_counts) score += std::min(n, 2);
  return score;
}

void fill_train(Fold& f, const std::vector<std::string>& all) {
  const std::set<std::string> held(f.test.begin(), f.test.end());
  for (const auto& s : all)
    if (!held.count(s) && std::find(f.validation.begin(), f.validation.end(), s) == f.validation.end())
      f.train.push_back(s);
}

// The non-test speakers in the order of `sides` after position `first`, cyclically.
std::vector<std::string> after(const std::vector<std::vector<std::string>>& sides, std::size_t first) {
  std::vector<std::string> out;
  for (std::size_t g = 1; g < sides.size(); ++g)
    for (const auto& s : sides[(first + g) % sides.size()]) out.push_back(s);
  return out;
}

// Folds from test groups: fold i tests groups[i], validates on the speakers of the groups after it.
std::vector<Fold> folds_from_groups(const SpeakerTable& t, std::vector<std::vector<std::string>> groups, int n_validation) {
  for (auto& g : groups) std::sort(g.begin(), g.end());
  std::vector<Fold> folds;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    Fold f;
    f.index = static_cast<int>(i);
    f.test = groups[i];
    f.validation = choose_validation(t, after(groups, i), n_validation);
    fill_train(f, t.speakers);
    folds.push_back(std::move(f));
  }
  return folds;
}

}  // namespace

SpeakerTable speaker_table(const std::vector<std::string>& speakers, const std::vector<std::string>& groups,
                           const std::vector<int>& labels, int n_classes) {
  if (labels.size() != speakers.size() || (!groups.empty() && groups.size() != speakers.size()))
    throw Error("speaker_table: speakers, groups and labels must have one entry per utterance");
  std::map<std::string, std::pair<std::string, std::vector<int>>> by_speaker;
  for (std::size_t u = 0; u < speakers.size(); ++u) {
    const int y = labels[u];
    if (y < 0 || y >= n_classes) throw Error("speaker_table: label " + std::to_string(y) + " out of range");
    auto& entry = by_speaker[speakers[u]];
    if (entry.second.empty()) entry.second.assign(static_cast<std::size_t>(n_classes), 0);
    const std::string group = groups.empty() || groups[u].empty() ? speakers[u] : groups[u];
    if (!entry.first.empty() && entry.first != group)
      throw Error("speaker '" + speakers[u] + "' belongs to two fold groups (" + entry.first + ", " + group + ")");
    entry.first = group;
    ++entry.second[static_cast<std::size_t>(y)];
  }
  SpeakerTable t;
  t.n_classes = n_classes;
  for (auto& [s, e] : by_speaker) {
    t.speakers.push_back(s);
    t.groups.push_back(e.first);
    t.counts.push_back(std::move(e.second));
  }
  return t;
}

std::vector<std::string> choose_validation(const SpeakerTable& t, const std::vector<std::string>& candidates,
                                           int n_validation) {
  const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(std::max(n_validation, 0)), candidates.size());
  const std::vector<std::string> first(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(n));
  const std::vector<int> available = class_sum(t, candidates);
  int ideal = 0;
  for (int a : available) ideal += std::min(a, 2);
  const int first_score = coverage(class_sum(t, first));
  if (first_score == ideal) return first;

  std::vector<std::string> greedy;
  std::vector<int> counts(static_cast<std::size_t>(t.n_classes), 0);
  std::vector<bool> taken(candidates.size(), false);
  for (std::size_t step = 0; step < n; ++step) {
    int best_score = -1;
    std::size_t best = 0;
    for (std::size_t c = 0; c < candidates.size(); ++c) {
      if (taken[c]) continue;
      std::vector<int> with = counts;
      const auto& add = t.counts[index_of(t, candidates[c])];
      for (std::size_t j = 0; j < with.size(); ++j) with[j] += add[j];
      const int score = coverage(with);
      if (score > best_score) { best_score = score; best = c; }
    }
    taken[best] = true;
    greedy.push_back(candidates[best]);
    const auto& add = t.counts[index_of(t, candidates[best])];
    for (std::size_t j = 0; j < counts.size(); ++j) counts[j] += add[j];
  }
  return coverage(counts) > first_score ? greedy : first;
}

std::vector<Fold> leave_one_speaker_out(const SpeakerTable& t, int n_validation) {
  const std::size_t n = t.speakers.size();
  if (n < 3) throw Error("leave-one-speaker-out needs at least 3 speakers (test, validation, training), found " +
                         std::to_string(n));
  std::vector<std::vector<std::string>> groups;
  for (const auto& s : t.speakers) groups.push_back({s});
  return folds_from_groups(t, groups, n_validation);
}

std::vector<Fold> leave_one_group_out(const SpeakerTable& t, int n_validation) {
  std::map<std::string, std::vector<std::string>> by_group;
  for (std::size_t i = 0; i < t.speakers.size(); ++i) by_group[t.groups[i]].push_back(t.speakers[i]);
  if (by_group.size() < 3) throw Error("leave-one-group-out needs at least 3 fold groups (test, validation, training), found " +
                                       std::to_string(by_group.size()));
  std::vector<std::vector<std::string>> groups;
  for (auto& [g, members] : by_group) groups.push_back(std::move(members));
  return folds_from_groups(t, groups, n_validation);
}

std::vector<Fold> speaker_k_fold(const SpeakerTable& t, int k, int n_validation, std::uint64_t split_seed) {
  const int n = static_cast<int>(t.speakers.size());
  if (k < 2 || k > n) throw Error("k-fold over speakers needs 2 <= k <= speakers (" + std::to_string(n) + "), found k = " +
                                  std::to_string(k));
  const std::size_t K = static_cast<std::size_t>(k), C = static_cast<std::size_t>(t.n_classes);
  // Fisher-Yates with the counter-based generator (the same deal on every machine), then a stable
  // sort by size: split_seed decides among speakers of equal size.
  std::vector<std::size_t> order(t.speakers.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  for (int i = n - 1; i > 0; --i) {
    const std::uint64_t r = nn::mix64(split_seed ^ nn::mix64(0x5eed0000ULL + static_cast<std::uint64_t>(i)));
    std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(r % static_cast<std::uint64_t>(i + 1))]);
  }
  std::vector<int> size(t.speakers.size(), 0);
  for (std::size_t s = 0; s < size.size(); ++s) size[s] = std::accumulate(t.counts[s].begin(), t.counts[s].end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return size[a] > size[b]; });

  std::vector<int> class_total(C, 0);
  for (const auto& c : t.counts)
    for (std::size_t j = 0; j < C; ++j) class_total[j] += c[j];
  const double total = std::accumulate(class_total.begin(), class_total.end(), 0.0);

  std::vector<std::vector<int>> fold_counts(K, std::vector<int>(C, 0));
  std::vector<int> fold_size(K, 0);
  std::vector<std::vector<std::string>> groups(K);
  const auto variance = [&](const std::vector<double>& v) {
    double m = 0, s = 0;
    for (double x : v) m += x;
    m /= static_cast<double>(v.size());
    for (double x : v) s += (x - m) * (x - m);
    return s / static_cast<double>(v.size());
  };
  std::size_t placed = 0;
  for (std::size_t s : order) {
    const std::size_t empty = static_cast<std::size_t>(std::count_if(groups.begin(), groups.end(), [](const auto& g) { return g.empty(); }));
    const bool must_fill = order.size() - placed <= empty;  // every fold needs a speaker
    double best_cost = 0;
    std::size_t best = K;
    for (std::size_t f = 0; f < K; ++f) {
      if (must_fill && !groups[f].empty()) continue;
      double cost = 0;
      std::vector<double> share(K);
      for (std::size_t j = 0; j < C; ++j) {
        if (class_total[j] == 0) continue;
        for (std::size_t g = 0; g < K; ++g)
          share[g] = (fold_counts[g][j] + (g == f ? t.counts[s][j] : 0)) / static_cast<double>(class_total[j]);
        cost += variance(share);
      }
      for (std::size_t g = 0; g < K; ++g) share[g] = (fold_size[g] + (g == f ? size[s] : 0)) / std::max(total, 1.0);
      cost += variance(share);
      const bool better = best == K || cost < best_cost - 1e-15 ||
                          (cost <= best_cost + 1e-15 && fold_size[f] < fold_size[best]);
      if (better) { best_cost = cost; best = f; }
    }
    groups[best].push_back(t.speakers[s]);
    for (std::size_t j = 0; j < C; ++j) fold_counts[best][j] += t.counts[s][j];
    fold_size[best] += size[s];
    ++placed;
  }
  return folds_from_groups(t, groups, n_validation);
}

void check_folds(const std::vector<Fold>& folds, const std::string& origin) {
  for (const auto& f : folds) {
    if (f.test.empty() || f.validation.empty() || f.train.empty())
      throw Error(origin + ": fold " + std::to_string(f.index) + " has " + std::to_string(f.test.size()) + " test, " +
                  std::to_string(f.validation.size()) + " validation and " + std::to_string(f.train.size()) +
                  " training speakers; every side needs at least one (fewer validation_speakers or folds)");
  }
}

std::vector<std::vector<int>> fold_class_counts(const SpeakerTable& t, const Fold& f) {
  return {class_sum(t, f.test), class_sum(t, f.validation), class_sum(t, f.train)};
}

}  // namespace ser::experiment
