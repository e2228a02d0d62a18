// src/report/stats.hpp — the statistics of an experiment's results: mean and sample standard
// deviation over runs, and the two paired tests that compare a model with the baseline over the same
// (seed, fold) pairs: Wilcoxon signed-rank and the paired t-test, both two-sided.
#pragma once
#include <string>
#include <vector>

namespace ser::report {

// std is the sample standard deviation (divides by n - 1), 0 when n = 1; mean and std are 0 when n = 0.
struct MeanStd {
  double mean = 0, std = 0;
  int n = 0;
};
MeanStd mean_std(const std::vector<double>& v);

// Outcome of a test. valid = false (p_value meaningless, reason says why) when the data cannot be
// tested: too few pairs, all differences zero, zero variance. df is set by the t-test only;
// n is the number of pairs that entered the test (Wilcoxon: non-zero differences only).
struct TestResult {
  double statistic = 0, p_value = 0;
  bool valid = false;
  std::string method, reason;
  int df = 0;
  int n = 0;
  int zeros_dropped = 0;  // Wilcoxon: pairs with a zero difference, left out of the ranking
};

// Differences below this magnitude count as zero, and absolute differences closer than this count as
// tied ranks: metric values are fractions in [0, 1] computed from counts, and two equal fractions
// reached by different arithmetic may differ in the last bit.
inline constexpr double kTieTolerance = 1e-9;

// Wilcoxon signed-rank test of a[i] - b[i], two-sided. Zero differences are dropped (Wilcoxon's
// convention). statistic = min(W+, W-). Exact p-value from the distribution of the rank sum when
// n <= 25 non-zero differences without tied ranks; otherwise the normal approximation with tie
// correction and continuity correction.
TestResult wilcoxon_signed_rank(const std::vector<double>& a, const std::vector<double>& b);
inline constexpr int kWilcoxonExactMaxN = 25;

// Paired t-test of a[i] - b[i], two-sided, df = n - 1. Invalid when n < 2 or the differences have
// zero variance.
TestResult paired_t_test(const std::vector<double>& a, const std::vector<double>& b);

// Regularised incomplete beta function I_x(a, b) (a, b > 0, 0 <= x <= 1).
double incomplete_beta(double a, double b, double x);
// Two-sided tail probability of Student's t distribution: P(|T| >= |t|) with df degrees of freedom.
double student_t_two_sided_p(double t, double df);
// Upper tail of the standard normal distribution, P(Z >= z).
double normal_sf(double z);

}  // namespace ser::report
