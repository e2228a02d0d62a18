// Pooled UA and the paired tests over per-utterance predictions (report/prediction_tests.hpp),
// checked against independent computations: UA from ser::compute_metrics, the exact p-value by brute
// force over every swap of every utterance (UA recomputed from the swapped prediction vectors), a
// closed form, and the Monte Carlo estimate against the exact value within its sampling error.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/aggregate.hpp"
#include "report/prediction_tests.hpp"
#include "report/report_html.hpp"
#include "report/results_markdown.hpp"
#include "ser/error.hpp"
#include "ser/metrics.hpp"

namespace ser::report {
namespace {

struct Predictions {
  std::vector<int> truth, a, b;
};

// n utterances of k classes; a right with probability pa, b with pb, otherwise a random wrong class.
Predictions random_predictions(int n, int k, double pa, double pb, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> cls(0, k - 1), other(1, k - 1);
  std::bernoulli_distribution ra(pa), rb(pb);
  Predictions p;
  for (int i = 0; i < n; ++i) {
    const int t = cls(rng);
    p.truth.push_back(t);
    p.a.push_back(ra(rng) ? t : (t + other(rng)) % k);
    p.b.push_back(rb(rng) ? t : (t + other(rng)) % k);
  }
  return p;
}

TEST(PooledUa, MatchesComputeMetrics) {
  const Predictions p = random_predictions(300, 7, 0.6, 0.5, 3);
  EXPECT_NEAR(pooled_ua(p.truth, p.a, 7), compute_metrics(p.truth, p.a, 7).ua, 1e-15);
  EXPECT_NEAR(pooled_ua(p.truth, p.b, 7), compute_metrics(p.truth, p.b, 7).ua, 1e-15);
  EXPECT_THROW(pooled_ua(p.truth, std::vector<int>(5, 0), 7), Error);
  EXPECT_THROW(pooled_ua({0, 9}, {0, 1}, 7), Error);
}

TEST(PairedPredictionTest, ExactMatchesBruteForceOverEverySwap) {
  const int n = 18, k = 4;
  const Predictions p = random_predictions(n, k, 0.7, 0.45, 11);
  const double observed = compute_metrics(p.truth, p.a, k).ua - compute_metrics(p.truth, p.b, k).ua;
  // Brute force: swap a and b at every subset of utterances, recompute both UAs from scratch.
  std::uint64_t hits = 0;
  for (std::uint64_t s = 0; s < (std::uint64_t{1} << n); ++s) {
    std::vector<int> x = p.a, y = p.b;
    for (int i = 0; i < n; ++i)
      if (s >> i & 1) std::swap(x[i], y[i]);
    const double d = compute_metrics(p.truth, x, k).ua - compute_metrics(p.truth, y, k).ua;
    hits += std::fabs(d) >= std::fabs(observed) - 1e-12 ? 1 : 0;
  }
  const double brute_p = static_cast<double>(hits) / static_cast<double>(std::uint64_t{1} << n);

  const PairedPredictionTest t = paired_prediction_test(p.truth, p.a, p.b, k);
  ASSERT_TRUE(t.valid);
  EXPECT_EQ(t.method, "exact");
  EXPECT_EQ(t.n, n);
  EXPECT_GT(t.discordant, 3);
  EXPECT_NEAR(t.difference, observed, 1e-12);
  EXPECT_NEAR(t.p_value, brute_p, 1e-12);
  EXPECT_GT(t.p_value, 0.0);
  EXPECT_LT(t.p_value, 1.0);
}

TEST(PairedPredictionTest, MonteCarloAgreesWithExactWithinSamplingError) {
  const int k = 5;
  const Predictions p = random_predictions(40, k, 0.6, 0.5, 5);
  int discordant = 0;
  for (std::size_t i = 0; i < p.truth.size(); ++i) discordant += (p.a[i] == p.truth[i]) != (p.b[i] == p.truth[i]);
  ASSERT_LE(discordant, 24);  // 2^24 patterns at most: the exact count stays affordable
  ASSERT_GE(discordant, 12);  // enough for a Monte Carlo estimate to mean something
  const PairedPredictionTest exact = paired_prediction_test(p.truth, p.a, p.b, k, 1, 0, 0, 24);
  ASSERT_EQ(exact.method, "exact");
  ASSERT_GT(exact.p_value, 0.01);  // a p-value whose sampling error the bound below resolves
  ASSERT_LT(exact.p_value, 0.99);
  const int r = 20000;
  const PairedPredictionTest mc = paired_prediction_test(p.truth, p.a, p.b, k, 7, r, 0, 0);
  ASSERT_EQ(mc.method, "monte carlo");
  EXPECT_EQ(mc.permutations, r);
  EXPECT_NEAR(mc.difference, exact.difference, 1e-12);
  const double se = std::sqrt(exact.p_value * (1 - exact.p_value) / r);
  EXPECT_NEAR(mc.p_value, exact.p_value, 4 * se + 1.0 / r) << "exact " << exact.p_value;
}

TEST(PairedPredictionTest, ClosedFormWhenOneClassHoldsEveryDiscordantUtterance) {
  // Class 0: 5 utterances a gets right and b wrong; classes 1 and 2: both right. Only the two
  // patterns with all signs equal reach |difference| = 5/5 / 3: p = 2 / 2^5.
  const std::vector<int> truth = {0, 0, 0, 0, 0, 1, 1, 2, 2};
  const std::vector<int> a = {0, 0, 0, 0, 0, 1, 1, 2, 2};
  const std::vector<int> b = {1, 2, 1, 2, 1, 1, 1, 2, 2};
  const PairedPredictionTest t = paired_prediction_test(truth, a, b, 3);
  ASSERT_TRUE(t.valid);
  EXPECT_EQ(t.discordant, 5);
  EXPECT_NEAR(t.difference, 1.0 / 3.0, 1e-15);
  EXPECT_DOUBLE_EQ(t.p_value, 2.0 / 32.0);
  // A resample favours a by 1 / (classes drawn) when it draws class 0 (all but 0.07 % do), else 0.
  EXPECT_NEAR(t.ci_low, 1.0 / 3.0, 1e-12);
}

TEST(PairedPredictionTest, IdenticalPredictionsGivePOneAndAZeroInterval) {
  const Predictions p = random_predictions(100, 4, 0.6, 0.6, 9);
  const PairedPredictionTest t = paired_prediction_test(p.truth, p.a, p.a, 4);
  ASSERT_TRUE(t.valid);
  EXPECT_EQ(t.discordant, 0);
  EXPECT_EQ(t.difference, 0.0);
  EXPECT_EQ(t.p_value, 1.0);
  EXPECT_EQ(t.ci_low, 0.0);
  EXPECT_EQ(t.ci_high, 0.0);
}

TEST(PairedPredictionTest, BootstrapIntervalCoversTheDifferenceAndNarrowsWithMoreUtterances) {
  const int k = 7;
  const Predictions p = random_predictions(200, k, 0.7, 0.6, 21);
  Predictions p4;  // the same utterances four times: the standard error halves
  for (int r = 0; r < 4; ++r) {
    p4.truth.insert(p4.truth.end(), p.truth.begin(), p.truth.end());
    p4.a.insert(p4.a.end(), p.a.begin(), p.a.end());
    p4.b.insert(p4.b.end(), p.b.begin(), p.b.end());
  }
  const PairedPredictionTest t1 = paired_prediction_test(p.truth, p.a, p.b, k);
  const PairedPredictionTest t4 = paired_prediction_test(p4.truth, p4.a, p4.b, k);
  EXPECT_EQ(t1.method, "monte carlo");
  EXPECT_EQ(t1.bootstrap_resamples, 10000);
  EXPECT_NEAR(t4.difference, t1.difference, 1e-12);
  EXPECT_LT(t1.ci_low, t1.difference);
  EXPECT_GT(t1.ci_high, t1.difference);
  const double ratio = (t1.ci_high - t1.ci_low) / (t4.ci_high - t4.ci_low);
  EXPECT_GT(ratio, 1.7);
  EXPECT_LT(ratio, 2.3);
  EXPECT_LT(t4.p_value, t1.p_value);
}

TEST(PairedPredictionTest, RejectsMismatchedInputsAndReportsAnEmptySet) {
  EXPECT_THROW(paired_prediction_test({0, 1}, {0}, {0, 1}, 2), Error);
  EXPECT_THROW(paired_prediction_test({0, 1}, {0, 1}, {0, 3}, 2), Error);
  const PairedPredictionTest t = paired_prediction_test({}, {}, {}, 2);
  EXPECT_FALSE(t.valid);
  EXPECT_FALSE(t.reason.empty());
}

// A fold of a results.json model: metrics from the predictions, as fold_runner writes them.
nlohmann::json fold_json(int seed, int fold, const std::vector<std::string>& paths, const std::vector<int>& truth,
                         const std::vector<int>& predicted, int k) {
  const ClassMetrics m = compute_metrics(truth, predicted, k);
  return {{"seed", seed}, {"fold", fold}, {"accuracy", m.accuracy}, {"ua", m.ua},
          {"macro_precision", m.macro_precision}, {"macro_recall", m.macro_recall}, {"macro_f1", m.macro_f1},
          {"confusion", m.confusion},
          {"predictions", {{"paths", paths}, {"truth", truth}, {"predicted", predicted}}}};
}

TEST(PairedPredictionTest, AggregatesPoolRunsAndPairUtterancesByRunAndPath) {
  const int k = 4;
  const Predictions p = random_predictions(80, k, 0.7, 0.5, 17);
  std::vector<std::string> paths;
  for (int i = 0; i < 80; ++i) paths.push_back(std::to_string(i).append(".wav"));
  nlohmann::json r;
  r["model_order"] = {"base", "hybrid"};
  r["models"]["base"]["folds"] = nlohmann::json::array();
  r["models"]["hybrid"]["folds"] = nlohmann::json::array();
  // Two folds of 40 utterances; the hybrid lists its runs and utterances in another order.
  for (int fold = 0; fold < 2; ++fold) {
    std::vector<std::string> pa(paths.begin() + 40 * fold, paths.begin() + 40 * (fold + 1));
    std::vector<int> t(p.truth.begin() + 40 * fold, p.truth.begin() + 40 * (fold + 1));
    std::vector<int> a(p.a.begin() + 40 * fold, p.a.begin() + 40 * (fold + 1));
    std::vector<int> b(p.b.begin() + 40 * fold, p.b.begin() + 40 * (fold + 1));
    r["models"]["base"]["folds"].push_back(fold_json(1, fold, pa, t, b, k));
    std::reverse(pa.begin(), pa.end());
    std::reverse(t.begin(), t.end());
    std::reverse(a.begin(), a.end());
    r["models"]["hybrid"]["folds"].insert(r["models"]["hybrid"]["folds"].begin(), fold_json(1, fold, pa, t, a, k));
  }
  for (auto& [name, m] : r["models"].items()) aggregate_model(m, name);
  EXPECT_NEAR(r["models"]["hybrid"]["pooled_ua"].get<double>(), compute_metrics(p.truth, p.a, k).ua, 1e-12);
  EXPECT_NEAR(r["models"]["base"]["pooled_ua"].get<double>(), compute_metrics(p.truth, p.b, k).ua, 1e-12);
  EXPECT_EQ(r["models"]["base"]["pooled_utterances"].get<int>(), 80);

  add_significance(r, "base");
  const nlohmann::json& pu = r["significance"][0]["per_utterance"];
  const PairedPredictionTest direct = paired_prediction_test(p.truth, p.a, p.b, k);
  EXPECT_NEAR(pu["difference"].get<double>(), direct.difference, 1e-12);
  EXPECT_EQ(pu["discordant"].get<int>(), direct.discordant);
  EXPECT_EQ(pu["utterances"].get<int>(), 80);
  // Same utterances, another order: the Monte Carlo draws pair with other terms, so p agrees
  // within sampling error, and exactly when the test is exact.
  if (direct.method == "exact") {
    EXPECT_DOUBLE_EQ(pu["p_value"].get<double>(), direct.p_value);
  } else {
    EXPECT_NEAR(pu["p_value"].get<double>(), direct.p_value, 4 * std::sqrt(0.25 / 20000) + 1e-4);
  }

  // Runs written without predictions: no pooled UA and a reason instead of a test.
  for (auto& f : r["models"]["base"]["folds"]) f.erase("predictions");
  aggregate_model(r["models"]["base"], "base");
  EXPECT_TRUE(r["models"]["base"]["pooled_ua"].is_null());
  add_significance(r, "base");
  EXPECT_FALSE(r["significance"][0]["per_utterance"].contains("p_value"));
  EXPECT_NE(r["significance"][0]["per_utterance"]["reason"].get<std::string>().find("without per-utterance"), std::string::npos);
}

// Two seeds of one fold with posteriors: the seed ensemble averages them per utterance.
TEST(PairedPredictionTest, SeedEnsembleAveragesPosteriorsPerUtterance) {
  const std::vector<std::string> paths = {"a.wav", "b.wav", "c.wav"};
  const std::vector<int> truth = {0, 1, 1};
  // Seed 1 gets b wrong, seed 2 gets c wrong; averaged, both are right (0.55 > 0.45).
  const std::vector<std::vector<float>> p1 = {{0.9f, 0.1f}, {0.6f, 0.4f}, {0.2f, 0.8f}};
  const std::vector<std::vector<float>> p2 = {{0.8f, 0.2f}, {0.3f, 0.7f}, {0.7f, 0.3f}};
  nlohmann::json m;
  m["folds"] = nlohmann::json::array();
  for (int seed : {1, 2}) {
    const auto& post = seed == 1 ? p1 : p2;
    std::vector<int> pred;
    for (const auto& row : post) pred.push_back(row[1] > row[0] ? 1 : 0);
    nlohmann::json f = fold_json(seed, 0, paths, truth, pred, 2);
    f["predictions"]["posteriors"] = post;
    m["folds"].push_back(f);
  }
  aggregate_model(m, "engine");
  EXPECT_NEAR(m["pooled_ua"].get<double>(), (2.0 / 2 + 2.0 / 4) / 2, 1e-12);  // 2 of 2 class-0, 2 of 4 class-1 runs right
  ASSERT_TRUE(m["seed_ensemble_ua"].is_number());
  EXPECT_DOUBLE_EQ(m["seed_ensemble_ua"].get<double>(), 1.0);
  EXPECT_EQ(m["seed_ensemble_seeds"].get<int>(), 2);
  // Both writers show it beside the single-seed pooled UA.
  nlohmann::json results;
  results["models"]["engine"] = m;
  for (const std::string& text : {results_markdown(results), report_html(results)}) {
    EXPECT_NE(text.find("Seed ensembles"), std::string::npos);
    EXPECT_NE(text.find("100.0 % over 2 seeds (single seeds pooled: 75.0 %)"), std::string::npos);
  }
  // One seed only, or a run without posteriors: no ensemble.
  m["folds"].erase(1);
  aggregate_model(m, "engine");
  EXPECT_TRUE(m["seed_ensemble_ua"].is_null());
}

}  // namespace
}  // namespace ser::report
