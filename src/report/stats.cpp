// src/report/stats.cpp — mean/std, Wilcoxon signed-rank (exact and normal approximation), paired
// t-test with Student's t from the regularised incomplete beta function.
#include "report/stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "ser/error.hpp"

namespace ser::report {

MeanStd mean_std(const std::vector<double>& v) {
  MeanStd r;
  r.n = static_cast<int>(v.size());
  if (v.empty()) return r;
  long double sum = 0;
  for (double x : v) sum += x;
  const long double mean = sum / static_cast<long double>(v.size());
  long double ss = 0;  // two passes: no cancellation between sum of squares and squared sum
  for (double x : v) ss += (x - mean) * (x - mean);
  r.mean = static_cast<double>(mean);
  r.std = v.size() > 1 ? static_cast<double>(std::sqrt(ss / static_cast<long double>(v.size() - 1))) : 0.0;
  return r;
}

namespace {

void check_paired(const std::vector<double>& a, const std::vector<double>& b, const char* test) {
  if (a.size() != b.size())
    throw Error(std::string(test).append(": paired samples differ in length (")
                    .append(std::to_string(a.size())).append(" vs ").append(std::to_string(b.size())).append(")"));
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!std::isfinite(a[i]) || !std::isfinite(b[i]))
      throw Error(std::string(test).append(": pair ").append(std::to_string(i)).append(" is not a finite number"));
}

// Continued fraction of I_x(a, b) (modified Lentz), converging fast for x < (a + 1) / (a + b + 2).
double beta_continued_fraction(double a, double b, double x) {
  constexpr double tiny = 1e-300, eps = 1e-15;
  const double qab = a + b, qap = a + 1, qam = a - 1;
  double c = 1, d = 1 - qab * x / qap;
  if (std::fabs(d) < tiny) d = tiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 1000; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));  // even step
    d = 1 + aa * d;
    if (std::fabs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));  // odd step
    d = 1 + aa * d;
    if (std::fabs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1) < eps) break;
  }
  return h;
}

}  // namespace

double incomplete_beta(double a, double b, double x) {
  if (!(a > 0) || !(b > 0) || !(x >= 0) || !(x <= 1)) throw Error("incomplete_beta: arguments out of range");
  if (x == 0) return 0;
  if (x == 1) return 1;
  const double log_front = std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return std::exp(log_front) * beta_continued_fraction(a, b, x) / a;
  // Symmetry I_x(a, b) = 1 - I_{1-x}(b, a) keeps the fraction in its fast region.
  return 1 - std::exp(log_front) * beta_continued_fraction(b, a, 1 - x) / b;
}

double student_t_two_sided_p(double t, double df) {
  if (!(df > 0)) throw Error("student_t_two_sided_p: degrees of freedom must be positive");
  if (std::isinf(t)) return 0;
  return std::clamp(incomplete_beta(df / 2, 0.5, df / (df + t * t)), 0.0, 1.0);
}

double normal_sf(double z) { return 0.5 * std::erfc(z / std::sqrt(2.0)); }

TestResult wilcoxon_signed_rank(const std::vector<double>& a, const std::vector<double>& b) {
  check_paired(a, b, "Wilcoxon signed-rank");
  TestResult r;
  std::vector<double> d;  // non-zero differences
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double x = a[i] - b[i];
    if (std::fabs(x) <= kTieTolerance) ++r.zeros_dropped;
    else d.push_back(x);
  }
  const int n = static_cast<int>(d.size());
  r.n = n;
  if (n == 0) {
    r.method = "none";
    r.reason = a.empty() ? "no pairs" : "all differences are zero";
    return r;
  }
  // Average ranks of |d|; values within kTieTolerance of the first of their group are tied.
  std::vector<int> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int i, int j) { return std::fabs(d[static_cast<std::size_t>(i)]) < std::fabs(d[static_cast<std::size_t>(j)]); });
  std::vector<double> rank(static_cast<std::size_t>(n));
  double tie_term = 0;  // sum over tie groups of t^3 - t
  for (int s = 0; s < n;) {
    const double first = std::fabs(d[static_cast<std::size_t>(order[static_cast<std::size_t>(s)])]);
    int e = s + 1;
    while (e < n && std::fabs(d[static_cast<std::size_t>(order[static_cast<std::size_t>(e)])]) - first <= kTieTolerance) ++e;
    const double avg = 0.5 * (s + 1 + e);  // mean of ranks s+1 .. e
    for (int q = s; q < e; ++q) rank[static_cast<std::size_t>(order[static_cast<std::size_t>(q)])] = avg;
    const double t = e - s;
    tie_term += t * t * t - t;
    s = e;
  }
  double w_plus = 0, w_minus = 0;
  for (int i = 0; i < n; ++i) (d[static_cast<std::size_t>(i)] > 0 ? w_plus : w_minus) += rank[static_cast<std::size_t>(i)];
  const double T = std::min(w_plus, w_minus);
  r.statistic = T;

  if (n <= kWilcoxonExactMaxN && tie_term == 0) {
    // Exact null distribution of W+: number of subsets of ranks {1..n} with each sum.
    const int max_sum = n * (n + 1) / 2;
    std::vector<double> count(static_cast<std::size_t>(max_sum) + 1, 0.0);  // exact: at most 2^25
    count[0] = 1;
    for (int k = 1; k <= n; ++k)
      for (int s = max_sum; s >= k; --s) count[static_cast<std::size_t>(s)] += count[static_cast<std::size_t>(s - k)];
    double below = 0;
    for (int s = 0; s <= static_cast<int>(std::lround(T)); ++s) below += count[static_cast<std::size_t>(s)];
    r.p_value = std::min(1.0, 2 * below / std::ldexp(1.0, n));
    r.method = "exact";
    r.valid = true;
    return r;
  }
  const double mean = n * (n + 1.0) / 4;
  const double var = (n * (n + 1.0) * (2.0 * n + 1) - 0.5 * tie_term) / 24;
  r.method = "normal approximation";
  if (!(var > 0)) {
    r.reason = "zero variance of the rank sum";
    return r;
  }
  const double diff = T - mean;
  const double correction = diff > 0 ? 0.5 : (diff < 0 ? -0.5 : 0.0);  // continuity correction
  const double z = (diff - correction) / std::sqrt(var);
  r.p_value = std::min(1.0, 2 * normal_sf(std::fabs(z)));
  r.valid = true;
  return r;
}

TestResult paired_t_test(const std::vector<double>& a, const std::vector<double>& b) {
  check_paired(a, b, "paired t-test");
  TestResult r;
  r.method = "paired t";
  r.n = static_cast<int>(a.size());
  if (a.size() < 2) {
    r.reason = "fewer than 2 pairs";
    return r;
  }
  std::vector<double> d(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
  const MeanStd ms = mean_std(d);
  r.df = r.n - 1;
  if (ms.std <= 1e-12) {
    r.reason = "the differences have zero variance";
    return r;
  }
  r.statistic = ms.mean / (ms.std / std::sqrt(static_cast<double>(r.n)));
  r.p_value = student_t_two_sided_p(r.statistic, r.df);
  r.valid = true;
  return r;
}

}  // namespace ser::report
