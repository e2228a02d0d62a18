// src/experiment/protocol.cpp — fold generation.
#include "experiment/protocol.hpp"

#include <algorithm>
#include <set>

#include "ser/error.hpp"
#include "ser/nn/counter_rng.hpp"

namespace ser::experiment {

namespace {

std::vector<std::string> sorted_unique(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

void fill_train(Fold& f, const std::vector<std::string>& all) {
  const std::set<std::string> held(f.test.begin(), f.test.end());
  for (const auto& s : all)
    if (!held.count(s) && std::find(f.validation.begin(), f.validation.end(), s) == f.validation.end())
      f.train.push_back(s);
}

}  // namespace

std::vector<Fold> leave_one_speaker_out(std::vector<std::string> speakers, int n_validation) {
  speakers = sorted_unique(std::move(speakers));
  const int n = static_cast<int>(speakers.size());
  if (n < 3) throw Error("leave-one-speaker-out needs at least 3 speakers (test, validation, training), found " +
                         std::to_string(n));
  std::vector<Fold> folds;
  for (int i = 0; i < n; ++i) {
    Fold f;
    f.index = i;
    f.test = {speakers[static_cast<std::size_t>(i)]};
    for (int j = 1; j <= n_validation && j < n; ++j) f.validation.push_back(speakers[static_cast<std::size_t>((i + j) % n)]);
    fill_train(f, speakers);
    folds.push_back(std::move(f));
  }
  return folds;
}

std::vector<Fold> speaker_k_fold(std::vector<std::string> speakers, int k, int n_validation, std::uint64_t split_seed) {
  speakers = sorted_unique(std::move(speakers));
  const int n = static_cast<int>(speakers.size());
  if (k < 2 || k > n) throw Error("k-fold over speakers needs 2 <= k <= speakers (" + std::to_string(n) + "), found k = " +
                                  std::to_string(k));
  // Fisher-Yates with the counter-based generator: the same deal on every machine.
  for (int i = n - 1; i > 0; --i) {
    const std::uint64_t r = nn::mix64(split_seed ^ nn::mix64(0x5eed0000ULL + static_cast<std::uint64_t>(i)));
    std::swap(speakers[static_cast<std::size_t>(i)], speakers[static_cast<std::size_t>(r % static_cast<std::uint64_t>(i + 1))]);
  }
  std::vector<std::vector<std::string>> groups(static_cast<std::size_t>(k));
  for (int i = 0; i < n; ++i) groups[static_cast<std::size_t>(i % k)].push_back(speakers[static_cast<std::size_t>(i)]);
  const auto all = sorted_unique(speakers);
  std::vector<Fold> folds;
  for (int i = 0; i < k; ++i) {
    Fold f;
    f.index = i;
    f.test = groups[static_cast<std::size_t>(i)];
    std::sort(f.test.begin(), f.test.end());
    for (int g = 1; g < k && static_cast<int>(f.validation.size()) < n_validation; ++g)
      for (const auto& s : groups[static_cast<std::size_t>((i + g) % k)])
        if (static_cast<int>(f.validation.size()) < n_validation) f.validation.push_back(s);
    fill_train(f, all);
    folds.push_back(std::move(f));
  }
  return folds;
}

void check_folds(const std::vector<Fold>& folds, const std::string& origin) {
  for (const auto& f : folds) {
    if (f.test.empty() || f.validation.empty() || f.train.empty())
      throw Error(origin + ": fold " + std::to_string(f.index) + " has " + std::to_string(f.test.size()) + " test, " +
                  std::to_string(f.validation.size()) + " validation and " + std::to_string(f.train.size()) +
                  " training speakers; every side needs at least one (fewer validation_speakers or folds)");
  }
}

}  // namespace ser::experiment
