// src/report/prediction_tests.hpp — two classifiers compared on the same test utterances, one
// prediction each: pooled UA over all utterances, an approximate randomisation test of the UA
// difference (Noreen 1989; the standard test for a non-additive metric on one shared test set), and
// a paired bootstrap interval for it. Per-utterance tests see effects of a few points that a
// comparison of 10 fold means cannot: a fold's UA jumps by 1 / (classes x class size) when one
// utterance of a rare class flips.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ser::report {

// UA (mean recall over the classes present in truth) of predictions of the same utterances.
// Throws ser::Error on a size mismatch or a label outside [0, n_classes).
double pooled_ua(const std::vector<int>& truth, const std::vector<int>& predicted, int n_classes);

struct PairedPredictionTest {
  bool valid = false;
  std::string reason;      // why there is no test, when !valid
  std::string method;      // "exact" (every swap pattern) or "monte carlo"
  int n = 0;               // utterances
  int discordant = 0;      // utterances exactly one of the two classifies correctly
  double difference = 0;   // UA(a) - UA(b)
  double p_value = 1;      // two-sided
  int permutations = 0;    // swap patterns counted (2^discordant when exact)
  int bootstrap_resamples = 0;
  double ci_low = 0, ci_high = 0;  // 95 % paired bootstrap percentile interval of the difference
};

// H0: for every utterance the two predictions are exchangeable. Swapping a and b at utterance i
// flips the sign of its term w_i (c^a_i - c^b_i) in UA(a) - UA(b), c = 1 when correct and
// w_i = 1 / (classes present x size of i's class), so the test is a weighted sign-flip test over
// the discordant utterances. p = share of swap patterns with |difference| >= the observed one: all
// 2^m patterns when m <= exact_max_discordant, else `permutations` random ones with
// p = (1 + hits) / (1 + permutations) (never 0; Phipson & Smyth 2010). The bootstrap resamples
// utterances with replacement, pairs kept together. Deterministic for a seed.
PairedPredictionTest paired_prediction_test(const std::vector<int>& truth, const std::vector<int>& a,
                                            const std::vector<int>& b, int n_classes, std::uint64_t seed = 1,
                                            int permutations = 20000, int bootstrap_resamples = 10000,
                                            int exact_max_discordant = 20);

}  // namespace ser::report
