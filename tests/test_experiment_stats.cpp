// Statistics of experiments: mean/std, Wilcoxon signed-rank and the paired t-test against values
// computed once with scipy 1.10.1 (scipy.stats.wilcoxon, scipy.stats.ttest_rel, scipy.special.betainc,
// scipy.stats.t.sf, scipy.stats.norm.sf); aggregate_model on a model made by hand; add_significance
// pairing by (seed, fold).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include <nlohmann/json.hpp>

#include "report/aggregate.hpp"
#include "report/stats.hpp"
#include "ser/error.hpp"

namespace ser::report {
namespace {

using nlohmann::json;

// Paired samples; every value is a multiple of 1/1024 so the differences are exact in binary and
// scipy saw exactly the ties (and zeros) intended.
struct Case {
  const char* name;
  std::vector<double> a, b;
  double w_statistic, w_p;  // scipy.stats.wilcoxon
  const char* w_method;
  double t_statistic, t_p;  // scipy.stats.ttest_rel (NAN: not applicable)
};

// Reference values from /usr/bin/python3 with scipy 1.10.1:
//   exact cases:  wilcoxon(a, b, zero_method="wilcox", method="exact") on the non-zero differences
//                 (scipy's exact mode refuses zeros; dropping them is Wilcoxon's convention)
//   approx cases: wilcoxon(a, b, zero_method="wilcox", correction=True, method="approx")
//   t:            ttest_rel(a, b)
const std::vector<Case>& cases() {
  static const std::vector<Case> c = {
      {"n6 exact",
       {0.7099609375, 0.6396484375, 0.7998046875, 0.580078125, 0.76953125, 0.689453125},
       {0.66015625, 0.6494140625, 0.7197265625, 0.5107421875, 0.740234375, 0.625},
       1.0, 0.0625, "exact", 3.50482923937752, 0.017195407284249713},
      {"n12 exact",
       {0.5400390625, 0.5380859375, 0.798828125, 0.6826171875, 0.71875, 0.72265625, 0.765625, 0.4990234375, 0.677734375,
        0.5458984375, 0.64453125, 0.8505859375},
       {0.52734375, 0.5712890625, 0.783203125, 0.6376953125, 0.7578125, 0.7041015625, 0.7666015625, 0.5556640625, 0.650390625,
        0.515625, 0.6513671875, 0.8466796875},
       35.0, 0.791015625, "exact", 0.15655377945853688, 0.878432864547649},
      {"ties and a zero",
       {0.5, 0.625, 0.75, 0.5, 0.875, 0.625, 0.75, 0.5, 0.625, 0.75},
       {0.375, 0.5, 0.75, 0.625, 0.625, 0.5, 0.5, 0.25, 0.5, 0.875},
       7.0, 0.06559969214707194, "normal approximation", 2.2283440581246223, 0.05283944651707043},
      {"one zero, no ties",
       {0.609375, 0.7197265625, 0.5498046875, 0.7998046875, 0.669921875, 0.7001953125, 0.58984375, 0.66015625},
       {0.609375, 0.689453125, 0.560546875, 0.7099609375, 0.599609375, 0.7509765625, 0.5107421875, 0.6513671875},
       6.0, 0.21875, "exact", 1.5514669707666389, 0.1647285023559253},
      {"n30 approx",
       {0.5625, 0.427734375, 0.4892578125, 0.6650390625, 0.830078125, 0.8759765625, 0.49609375, 0.6884765625, 0.40625,
        0.4755859375, 0.48828125, 0.6064453125, 0.55859375, 0.7451171875, 0.619140625, 0.5556640625, 0.8330078125,
        0.6953125, 0.73046875, 0.75390625, 0.5556640625, 0.8251953125, 0.3984375, 0.5400390625, 0.4677734375,
        0.392578125, 0.876953125, 0.43359375, 0.6142578125, 0.7900390625},
       {0.4521484375, 0.3115234375, 0.38671875, 0.59375, 0.7314453125, 0.845703125, 0.4853515625, 0.7890625, 0.3212890625,
        0.55859375, 0.4326171875, 0.54296875, 0.5048828125, 0.701171875, 0.6962890625, 0.560546875, 0.919921875,
        0.5908203125, 0.8427734375, 0.8115234375, 0.58984375, 0.916015625, 0.3955078125, 0.51953125, 0.505859375,
        0.3525390625, 0.9228515625, 0.3974609375, 0.626953125, 0.865234375},
       205.0, 0.5786585933876645, "normal approximation", 0.5770651767281099, 0.5683485556885262},
      {"n1", {0.7001953125}, {0.6005859375}, 0.0, 1.0, "exact", NAN, NAN},
  };
  return c;
}

TEST(ExperimentStats, MeanAndSampleStandardDeviation) {
  const MeanStd ms = mean_std({0.62, 0.71, 0.55, 0.80, 0.67});
  // mean 3.35 / 5 = 0.67; squared deviations 0.0025 + 0.0016 + 0.0144 + 0.0169 + 0 = 0.0354; / 4.
  EXPECT_NEAR(ms.mean, 0.67, 1e-15);
  EXPECT_NEAR(ms.std, std::sqrt(0.0354 / 4), 1e-15);
  EXPECT_EQ(ms.n, 5);
  const MeanStd one = mean_std({0.42});
  EXPECT_DOUBLE_EQ(one.mean, 0.42);
  EXPECT_DOUBLE_EQ(one.std, 0.0);
  const MeanStd none = mean_std({});
  EXPECT_EQ(none.n, 0);
  EXPECT_DOUBLE_EQ(none.mean, 0.0);
}

TEST(ExperimentStats, WilcoxonMatchesScipy) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    const TestResult w = wilcoxon_signed_rank(c.a, c.b);
    ASSERT_TRUE(w.valid) << w.reason;
    EXPECT_EQ(w.method, c.w_method);
    EXPECT_DOUBLE_EQ(w.statistic, c.w_statistic);
    EXPECT_NEAR(w.p_value, c.w_p, 1e-12 + 1e-9 * c.w_p);
  }
  // The zeros were dropped and counted.
  const Case& z = cases()[2];
  const TestResult w = wilcoxon_signed_rank(z.a, z.b);
  EXPECT_EQ(w.zeros_dropped, 1);
  EXPECT_EQ(w.n, 9);
}

TEST(ExperimentStats, PairedTMatchesScipy) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    const TestResult t = paired_t_test(c.a, c.b);
    if (std::isnan(c.t_statistic)) {
      EXPECT_FALSE(t.valid);
      EXPECT_FALSE(t.reason.empty());
      continue;
    }
    ASSERT_TRUE(t.valid) << t.reason;
    EXPECT_EQ(t.df, static_cast<int>(c.a.size()) - 1);
    EXPECT_NEAR(t.statistic, c.t_statistic, 1e-10 * std::fabs(c.t_statistic));
    EXPECT_NEAR(t.p_value, c.t_p, 1e-10 * c.t_p);
  }
}

TEST(ExperimentStats, ExactWilcoxonAgreesWithEnumeratingAllSigns) {
  // Independent reference: under H0 every sign pattern of the ranks is equally likely; count the
  // patterns whose min(W+, W-) is at most the observed one.
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(0.3, 0.9);
  for (int n : {3, 7, 11, 14}) {
    std::vector<double> a(static_cast<std::size_t>(n)), b(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      a[static_cast<std::size_t>(i)] = u(rng);
      b[static_cast<std::size_t>(i)] = a[static_cast<std::size_t>(i)] + (i % 3 == 0 ? 1 : -1) * 0.01 * (i + 1) * (1 + 0.1 * u(rng));
    }
    const TestResult w = wilcoxon_signed_rank(a, b);
    ASSERT_EQ(w.method, "exact");
    std::vector<int> order(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
    std::sort(order.begin(), order.end(), [&](int i, int j) {
      return std::fabs(a[static_cast<std::size_t>(i)] - b[static_cast<std::size_t>(i)]) < std::fabs(a[static_cast<std::size_t>(j)] - b[static_cast<std::size_t>(j)]);
    });
    long long at_most = 0;
    const long long total = 1LL << n;
    for (long long mask = 0; mask < total; ++mask) {
      int plus = 0;
      for (int r = 0; r < n; ++r)
        if (mask >> r & 1) plus += r + 1;
      const int minus = n * (n + 1) / 2 - plus;
      if (std::min(plus, minus) <= w.statistic + 1e-9) ++at_most;
    }
    // Two-sided p = P(min(W+, W-) <= T), which is 2 P(W+ <= T) (capped at 1) by symmetry.
    EXPECT_NEAR(w.p_value, std::min(1.0, static_cast<double>(at_most) / static_cast<double>(total)), 1e-12) << "n = " << n;
  }
}

TEST(ExperimentStats, DegenerateInputsAreInvalidWithAReason) {
  const std::vector<double> a{0.5, 0.6, 0.7}, same{0.5, 0.6, 0.7}, shifted{0.4, 0.5, 0.6};
  const TestResult w = wilcoxon_signed_rank(a, same);
  EXPECT_FALSE(w.valid);
  EXPECT_EQ(w.zeros_dropped, 3);
  EXPECT_NE(w.reason.find("zero"), std::string::npos);
  const TestResult t = paired_t_test(a, shifted);  // every difference 0.1: zero variance
  EXPECT_FALSE(t.valid);
  EXPECT_NE(t.reason.find("variance"), std::string::npos);
  EXPECT_FALSE(paired_t_test({0.5}, {0.4}).valid);
  EXPECT_THROW(wilcoxon_signed_rank({0.1, 0.2}, {0.1}), Error);
  EXPECT_THROW(paired_t_test({0.1, NAN}, {0.1, 0.2}), Error);
}

TEST(ExperimentStats, IncompleteBetaAndTailsMatchScipy) {
  // scipy.special.betainc(a, b, x)
  EXPECT_NEAR(incomplete_beta(2.5, 0.5, 0.3), 0.01892712407194565, 1e-14);
  EXPECT_NEAR(incomplete_beta(4.5, 0.5, 0.95), 0.5086464915963439, 1e-13);
  EXPECT_NEAR(incomplete_beta(10, 3, 0.6), 0.08344332288000002, 1e-13);
  EXPECT_NEAR(incomplete_beta(0.5, 0.5, 0.01), 0.06376856085851987, 1e-13);
  EXPECT_NEAR(incomplete_beta(30, 0.5, 0.999), 0.807237306159537, 1e-12);
  // 2 * scipy.stats.t.sf(|t|, df)
  EXPECT_NEAR(student_t_two_sided_p(2.3, 9), 0.04699938892186311, 1e-13);
  EXPECT_NEAR(student_t_two_sided_p(0.1, 1), 0.9365489651388929, 1e-13);
  EXPECT_NEAR(student_t_two_sided_p(-4.0, 3), 0.028008456010146156, 1e-13);
  EXPECT_NEAR(student_t_two_sided_p(12.0, 29), 9.060708333137178e-13, 1e-22);
  EXPECT_NEAR(student_t_two_sided_p(1.96, 1000), 0.05027318495574871, 1e-12);
  // scipy.stats.norm.sf(z)
  EXPECT_DOUBLE_EQ(normal_sf(0.0), 0.5);
  EXPECT_NEAR(normal_sf(1.0), 0.15865525393145707, 1e-15);
  EXPECT_NEAR(normal_sf(3.5), 0.00023262907903552502, 1e-18);
  EXPECT_NEAR(normal_sf(-2.0), 0.9772498680518208, 1e-15);
}

// ---- aggregate_model ------------------------------------------------------------------------------

json hand_model() {
  // Three runs, four classes; class 1 absent from the first run's test set, class 3 from all.
  return json::parse(R"({
    "approach": "cnn", "description": "hand-made", "folds": [
      {"fold": 0, "seed": 1, "accuracy": 0.5, "ua": 0.4, "macro_precision": 0.30, "macro_recall": 0.4, "macro_f1": 0.35,
       "per_class_recall": [0.5, null, 0.3, null], "train_seconds": 10, "inference_utterances_per_second": 100,
       "confusion": [[1,1,0,0],[0,0,0,0],[2,0,1,0],[0,0,0,0]]},
      {"fold": 1, "seed": 1, "accuracy": 0.7, "ua": 0.6, "macro_precision": 0.50, "macro_recall": 0.6, "macro_f1": 0.55,
       "per_class_recall": [0.7, 0.8, 0.5, null], "train_seconds": 20, "inference_utterances_per_second": 200,
       "confusion": [[3,0,1,0],[1,4,0,0],[0,1,2,0],[0,0,0,0]]},
      {"fold": 2, "seed": 1, "accuracy": 0.9, "ua": 0.5, "macro_precision": 0.40, "macro_recall": 0.5, "macro_f1": 0.45,
       "per_class_recall": [0.9, 0.4, null, null], "train_seconds": 30, "inference_utterances_per_second": 300,
       "confusion": [[2,0,0,0],[0,2,3,0],[0,0,0,0],[0,0,0,0]]}
    ]})");
}

TEST(ExperimentAggregate, ThreeRunsByHand) {
  json m = hand_model();
  aggregate_model(m, "hand");
  EXPECT_NEAR(m["accuracy_mean"].get<double>(), 0.7, 1e-15);
  EXPECT_NEAR(m["accuracy_std"].get<double>(), 0.2, 1e-15);  // deviations -0.2, 0, 0.2 over n - 1 = 2
  EXPECT_NEAR(m["ua_mean"].get<double>(), 0.5, 1e-15);
  EXPECT_NEAR(m["ua_std"].get<double>(), 0.1, 1e-15);
  EXPECT_NEAR(m["macro_precision_mean"].get<double>(), 0.4, 1e-15);
  EXPECT_NEAR(m["macro_f1_mean"].get<double>(), 0.45, 1e-15);
  EXPECT_NEAR(m["macro_f1_std"].get<double>(), 0.1, 1e-15);
  // Per-class recall over the runs where the class is present.
  const json& rm = m["per_class_recall_mean"];
  const json& rs = m["per_class_recall_std"];
  ASSERT_EQ(rm.size(), 4u);
  EXPECT_NEAR(rm[0].get<double>(), 0.7, 1e-15);
  EXPECT_NEAR(rs[0].get<double>(), 0.2, 1e-15);
  EXPECT_NEAR(rm[1].get<double>(), 0.6, 1e-15);              // 0.8, 0.4
  EXPECT_NEAR(rs[1].get<double>(), std::sqrt(0.08), 1e-15);  // (0.2^2 + 0.2^2) / 1
  EXPECT_NEAR(rm[2].get<double>(), 0.4, 1e-15);              // 0.3, 0.5
  EXPECT_NEAR(rs[2].get<double>(), std::sqrt(0.02), 1e-15);
  EXPECT_TRUE(rm[3].is_null());
  EXPECT_TRUE(rs[3].is_null());
  // Confusion summed; rows normalised, the empty row left at 0.
  EXPECT_EQ(m["confusion"], json::parse("[[6,1,1,0],[1,6,3,0],[2,1,3,0],[0,0,0,0]]"));
  EXPECT_DOUBLE_EQ(m["confusion_normalized"][0][0].get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(m["confusion_normalized"][1][2].get<double>(), 0.3);
  EXPECT_DOUBLE_EQ(m["confusion_normalized"][2][0].get<double>(), 2.0 / 6.0);
  for (const json& v : m["confusion_normalized"][3]) EXPECT_EQ(v.get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(m["train_seconds_mean"].get<double>(), 20.0);
  EXPECT_DOUBLE_EQ(m["train_seconds_total"].get<double>(), 60.0);
  EXPECT_DOUBLE_EQ(m["inference_utterances_per_second"].get<double>(), 200.0);
  EXPECT_EQ(m["runs"].get<int>(), 3);
  EXPECT_EQ(m["folds"].size(), 3u);  // the runs stay
}

TEST(ExperimentAggregate, OneRunHasZeroStd) {
  json m = hand_model();
  m["folds"].erase(1);
  m["folds"].erase(1);
  aggregate_model(m, "hand");
  EXPECT_DOUBLE_EQ(m["ua_mean"].get<double>(), 0.4);
  EXPECT_DOUBLE_EQ(m["ua_std"].get<double>(), 0.0);
  EXPECT_TRUE(m["per_class_recall_mean"][1].is_null());
}

TEST(ExperimentAggregate, BadRunsAreErrorsNamingTheRun) {
  json missing = hand_model();
  missing["folds"][1].erase("ua");
  try {
    aggregate_model(missing, "hand");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("hand"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("fold 1 seed 1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("\"ua\""), std::string::npos) << e.what();
  }
  json ragged = hand_model();
  ragged["folds"][2]["confusion"] = json::parse("[[1,0],[0,1]]");
  EXPECT_THROW(aggregate_model(ragged, "hand"), Error);
  json no_runs = hand_model();
  no_runs["folds"] = json::array();
  EXPECT_THROW(aggregate_model(no_runs, "hand"), Error);
}

// ---- add_significance -----------------------------------------------------------------------------

// Model runs over seeds {1, 2} x folds {0..4}: ua = base(seed, fold) + shift(seed, fold).
json run(int seed, int fold, double ua) {
  return {{"seed", seed}, {"fold", fold}, {"ua", ua}, {"accuracy", ua}};
}
double base_ua(int seed, int fold) { return 0.5 + 0.03125 * fold + 0.0078125 * seed; }
double shift(int seed, int fold) { return (fold == 3 ? -1 : 1) * 0.001953125 * (1 + fold + 5 * (seed - 1)); }

TEST(ExperimentSignificance, PairsBySeedAndFold) {
  json r;
  r["models"]["cnn"]["folds"] = json::array();
  r["models"]["attn"]["folds"] = json::array();
  for (int seed : {1, 2})
    for (int fold = 0; fold < 5; ++fold) r["models"]["cnn"]["folds"].push_back(run(seed, fold, base_ua(seed, fold)));
  // The model's runs in another order: pairing by position would be wrong.
  for (int seed : {2, 1})
    for (int fold = 4; fold >= 0; --fold) r["models"]["attn"]["folds"].push_back(run(seed, fold, base_ua(seed, fold) + shift(seed, fold)));
  r["models"]["same"] = r["models"]["cnn"];
  add_significance(r, "cnn");
  ASSERT_EQ(r["significance"].size(), 2u);
  const json& e = r["significance"][0];  // "attn" (key order: no model_order given)
  EXPECT_EQ(e["model"], "attn");
  EXPECT_EQ(e["baseline"], "cnn");
  EXPECT_EQ(e["metric"], "ua");
  EXPECT_EQ(e["pairs"].get<int>(), 10);
  std::vector<double> a, b;
  double sum = 0;
  for (int seed : {1, 2})
    for (int fold = 0; fold < 5; ++fold) {
      a.push_back(base_ua(seed, fold) + shift(seed, fold));
      b.push_back(base_ua(seed, fold));
      sum += shift(seed, fold);
    }
  EXPECT_NEAR(e["mean_difference"].get<double>(), sum / 10, 1e-15);
  EXPECT_EQ(e["wins"].get<int>(), 8);
  EXPECT_EQ(e["losses"].get<int>(), 2);
  EXPECT_EQ(e["ties"].get<int>(), 0);
  const TestResult w = wilcoxon_signed_rank(a, b);
  const TestResult t = paired_t_test(a, b);
  EXPECT_DOUBLE_EQ(e["wilcoxon"]["statistic"].get<double>(), w.statistic);
  EXPECT_DOUBLE_EQ(e["wilcoxon"]["p_value"].get<double>(), w.p_value);
  EXPECT_EQ(e["wilcoxon"]["method"], "exact");
  EXPECT_DOUBLE_EQ(e["wilcoxon"]["statistic"].get<double>(), 4.0 + 9.0);  // W-: ranks of the two losses (fold 3 of each seed)
  EXPECT_DOUBLE_EQ(e["paired_t"]["p_value"].get<double>(), t.p_value);
  EXPECT_EQ(e["paired_t"]["df"].get<int>(), 9);
  // Identical runs: every difference zero, tests not computed, p null with a reason.
  const json& s = r["significance"][1];
  EXPECT_EQ(s["model"], "same");
  EXPECT_EQ(s["ties"].get<int>(), 10);
  EXPECT_TRUE(s["wilcoxon"]["p_value"].is_null());
  EXPECT_TRUE(s["wilcoxon"].contains("reason"));
  EXPECT_TRUE(s["paired_t"]["p_value"].is_null());
  EXPECT_TRUE(s["paired_t"].contains("reason"));
}

TEST(ExperimentSignificance, MissingPairIsAnErrorNamingBoth) {
  json r;
  for (int seed : {1, 2})
    for (int fold = 0; fold < 3; ++fold) {
      r["models"]["cnn"]["folds"].push_back(run(seed, fold, base_ua(seed, fold)));
      if (!(seed == 2 && fold == 1)) r["models"]["cnn_attn"]["folds"].push_back(run(seed, fold, base_ua(seed, fold) + 0.01));
    }
  try {
    add_significance(r, "cnn");
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("cnn_attn"), std::string::npos) << msg;
    EXPECT_NE(msg.find("\"cnn\""), std::string::npos) << msg;
    EXPECT_NE(msg.find("seed 2 fold 1"), std::string::npos) << msg;
  }
  // The other way round: the model has a run the baseline lacks.
  r["models"]["cnn_attn"]["folds"].push_back(run(2, 1, 0.6));
  r["models"]["cnn_attn"]["folds"].push_back(run(3, 0, 0.6));
  EXPECT_THROW(add_significance(r, "cnn"), Error);
  EXPECT_THROW(add_significance(r, "nobody"), Error);
}

TEST(ExperimentSignificance, FollowsModelOrder) {
  json r;
  for (const char* name : {"a", "b", "c"})
    for (int fold = 0; fold < 3; ++fold) r["models"][name]["folds"].push_back(run(1, fold, 0.5 + 0.01 * fold + (name[0] - 'a') * 0.02));
  r["model_order"] = {"c", "b", "a"};
  add_significance(r, "b");
  ASSERT_EQ(r["significance"].size(), 2u);
  EXPECT_EQ(r["significance"][0]["model"], "c");
  EXPECT_EQ(r["significance"][1]["model"], "a");
  EXPECT_EQ(models_in_order(r)[0].first, "c");
  r["models"]["a"]["ua_mean"] = 0.7;
  r["models"]["b"]["ua_mean"] = 0.6;
  r["models"]["c"]["ua_mean"] = 0.7;  // a tie goes to the first in display order
  EXPECT_EQ(best_model_by_ua(r), "c");
}

}  // namespace
}  // namespace ser::report
