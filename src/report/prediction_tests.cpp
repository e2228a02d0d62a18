// src/report/prediction_tests.cpp — pooled UA, the approximate randomisation test and the paired
// bootstrap over per-utterance predictions (prediction_tests.hpp).
#include "report/prediction_tests.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "ser/error.hpp"
#include "util/rng.hpp"

namespace ser::report {

namespace {

// Observed differences closer than this count as equal (sums of the same weights in another order).
constexpr double kDifferenceTolerance = 1e-12;

// The project's splitmix64 stream (util/rng.hpp): seeded values that do not depend on the standard
// library.
struct SplitMix {
  std::uint64_t state;
  std::uint64_t next() { return util::splitmix64(state); }
  // Uniform in [0, n); the modulo bias is below n / 2^64, far under any resampling error.
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
};

void check_inputs(const std::vector<int>& truth, const std::vector<int>& predicted, int k, const char* what) {
  if (predicted.size() != truth.size())
    throw Error(std::string(what) + ": " + std::to_string(predicted.size()) + " predictions for " +
                std::to_string(truth.size()) + " utterances");
  for (std::size_t i = 0; i < truth.size(); ++i)
    if (truth[i] < 0 || truth[i] >= k || predicted[i] < 0 || predicted[i] >= k)
      throw Error(std::string(what) + ": utterance " + std::to_string(i) + " has a label outside [0, " +
                  std::to_string(k) + ")");
}

// UA(a) - UA(b) over the utterances idx[0..n) (repeats allowed), from per-class counts.
double ua_difference(const std::vector<int>& truth, const std::vector<int>& a, const std::vector<int>& b,
                     const std::vector<std::size_t>& idx, int k, std::vector<double>& count,
                     std::vector<double>& right_a, std::vector<double>& right_b) {
  std::fill(count.begin(), count.end(), 0.0);
  std::fill(right_a.begin(), right_a.end(), 0.0);
  std::fill(right_b.begin(), right_b.end(), 0.0);
  for (std::size_t i : idx) {
    const int c = truth[i];
    count[c] += 1;
    right_a[c] += a[i] == c ? 1 : 0;
    right_b[c] += b[i] == c ? 1 : 0;
  }
  double ua_a = 0, ua_b = 0;
  int present = 0;
  for (int c = 0; c < k; ++c)
    if (count[c] > 0) {
      ua_a += right_a[c] / count[c];
      ua_b += right_b[c] / count[c];
      ++present;
    }
  return present ? (ua_a - ua_b) / present : 0.0;
}

}  // namespace

double pooled_ua(const std::vector<int>& truth, const std::vector<int>& predicted, int n_classes) {
  check_inputs(truth, predicted, n_classes, "pooled UA");
  std::vector<double> count(n_classes, 0.0), right(n_classes, 0.0);
  for (std::size_t i = 0; i < truth.size(); ++i) {
    count[truth[i]] += 1;
    right[truth[i]] += predicted[i] == truth[i] ? 1 : 0;
  }
  double ua = 0;
  int present = 0;
  for (int c = 0; c < n_classes; ++c)
    if (count[c] > 0) {
      ua += right[c] / count[c];
      ++present;
    }
  return present ? ua / present : 0.0;
}

PairedPredictionTest paired_prediction_test(const std::vector<int>& truth, const std::vector<int>& a,
                                            const std::vector<int>& b, int k, std::uint64_t seed, int permutations,
                                            int bootstrap_resamples, int exact_max_discordant) {
  check_inputs(truth, a, k, "paired prediction test (a)");
  check_inputs(truth, b, k, "paired prediction test (b)");
  PairedPredictionTest t;
  t.n = static_cast<int>(truth.size());
  if (truth.empty()) {
    t.reason = "no utterances";
    return t;
  }
  std::vector<double> count(k, 0.0);
  for (int c : truth) count[c] += 1;
  int present = 0;
  for (double c : count) present += c > 0 ? 1 : 0;

  // Terms w_i (c^a_i - c^b_i) of the discordant utterances.
  std::vector<double> term;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    const int d = (a[i] == truth[i] ? 1 : 0) - (b[i] == truth[i] ? 1 : 0);
    if (d != 0) term.push_back(d / (present * count[truth[i]]));
  }
  t.discordant = static_cast<int>(term.size());
  double observed = 0;
  for (double v : term) observed += v;
  t.difference = observed;
  t.valid = true;
  const double threshold = std::fabs(observed) - kDifferenceTolerance;

  if (t.discordant <= exact_max_discordant) {
    // Every sign pattern; the observed one is pattern 0 (no swap).
    const std::uint64_t patterns = std::uint64_t{1} << t.discordant;
    std::uint64_t hits = 0;
    for (std::uint64_t s = 0; s < patterns; ++s) {
      double v = 0;
      for (int i = 0; i < t.discordant; ++i) v += (s >> i & 1) ? -term[i] : term[i];
      hits += std::fabs(v) >= threshold ? 1 : 0;
    }
    t.method = "exact";
    t.permutations = static_cast<int>(patterns);
    t.p_value = static_cast<double>(hits) / static_cast<double>(patterns);
  } else {
    SplitMix rng{seed};
    std::int64_t hits = 0;
    for (int r = 0; r < permutations; ++r) {
      double v = 0;
      std::uint64_t bits = 0;
      for (int i = 0; i < t.discordant; ++i) {
        if (i % 64 == 0) bits = rng.next();
        v += (bits >> (i % 64) & 1) ? -term[i] : term[i];
      }
      hits += std::fabs(v) >= threshold ? 1 : 0;
    }
    t.method = "monte carlo";
    t.permutations = permutations;
    t.p_value = static_cast<double>(1 + hits) / static_cast<double>(1 + permutations);
  }

  // Paired bootstrap of the difference: utterances drawn with replacement.
  if (bootstrap_resamples > 0) {
    SplitMix rng{seed ^ 0x5bd1e995ULL};
    std::vector<std::size_t> idx(truth.size());
    std::vector<double> diffs(static_cast<std::size_t>(bootstrap_resamples));
    std::vector<double> cnt(k), ra(k), rb(k);
    for (double& d : diffs) {
      for (std::size_t& i : idx) i = rng.below(truth.size());
      d = ua_difference(truth, a, b, idx, k, cnt, ra, rb);
    }
    std::sort(diffs.begin(), diffs.end());
    const auto at = [&](double q) {  // nearest rank
      const auto r = static_cast<std::size_t>(std::ceil(q * static_cast<double>(diffs.size())));
      return diffs[std::clamp<std::size_t>(r, 1, diffs.size()) - 1];
    };
    t.bootstrap_resamples = bootstrap_resamples;
    t.ci_low = at(0.025);
    t.ci_high = at(0.975);
  }
  return t;
}

}  // namespace ser::report
