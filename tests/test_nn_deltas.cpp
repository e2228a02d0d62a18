// The time deltas op on the CPU (ser/nn/deltas.hpp): hand-computed values of the regression formula
// with edge replication, the float and double twins against an independent long-double evaluation
// on random non-zero maps with per-utterance lengths, and the argument errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "nn_test_util.hpp"
#include "ser/error.hpp"
#include "ser/nn/deltas.hpp"
#include "test_util.hpp"

namespace ser::nn {
namespace {

// Δ of column j of a (T, F) plane over its first len rows, as the textbook sum
// Σ_{k=1..2} k (x[t+k] - x[t-k]) / (2 Σ k²) with the indices clamped to [0, len - 1].
std::vector<long double> reference_delta(const std::vector<long double>& x, int t, int f, int len) {
  std::vector<long double> d(static_cast<std::size_t>(t) * f, 0.0L);
  for (int r = 0; r < len; ++r)
    for (int j = 0; j < f; ++j) {
      long double s = 0;
      for (int k = 1; k <= 2; ++k) {
        const int up = std::min(r + k, len - 1), down = std::max(r - k, 0);
        s += k * (x[static_cast<std::size_t>(up) * f + j] - x[static_cast<std::size_t>(down) * f + j]);
      }
      d[static_cast<std::size_t>(r) * f + j] = s / 10.0L;
    }
  return d;
}

// x (N, 1, T, F) -> the expected (N, 1 + order, T, F), in long double.
std::vector<long double> reference_deltas(const std::vector<double>& x, int n, int t, int f, int order,
                                          const std::vector<int>& lengths) {
  const std::size_t plane = static_cast<std::size_t>(t) * f;
  std::vector<long double> y(static_cast<std::size_t>(n) * (1 + order) * plane, 0.0L);
  for (int i = 0; i < n; ++i) {
    const int len = std::clamp(lengths[static_cast<std::size_t>(i)], 0, t);
    std::vector<long double> ch(plane, 0.0L);
    for (std::size_t e = 0; e < static_cast<std::size_t>(len) * f; ++e) ch[e] = x[i * plane + e];
    for (int k = 0; k <= order; ++k) {
      std::copy(ch.begin(), ch.end(), y.begin() + static_cast<std::ptrdiff_t>((i * (1 + order) + k) * plane));
      ch = reference_delta(ch, t, f, len);
    }
  }
  return y;
}

TEST(NnDeltas, HandComputedValuesWithEdgeReplication) {
  // x = 1, 2, 4, 8, 16 (one mel bin): Δ[0] = ((2-1) + 2 (4-1)) / 10 = 0.7, Δ[1] = ((4-1) + 2 (8-1)) / 10
  // = 1.7, Δ[2] = ((8-2) + 2 (16-1)) / 10 = 3.6, Δ[3] = ((16-4) + 2 (16-2)) / 10 = 4.0, Δ[4] =
  // ((16-8) + 2 (16-4)) / 10 = 3.2. Then the same with the utterance cut to 3 of 5 frames.
  const std::vector<double> x{1, 2, 4, 8, 16};
  std::vector<double> y(10);
  time_deltas_cpu<double>(1, 5, 1, 1, nullptr, x.data(), y.data());
  const std::vector<double> want{1, 2, 4, 8, 16, 0.7, 1.7, 3.6, 4.0, 3.2};
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(y[i], want[i], 1e-15) << i;
  const int three = 3;
  time_deltas_cpu<double>(1, 5, 1, 1, &three, x.data(), y.data());
  // Δ[0] = ((2-1) + 2 (4-1)) / 10 = 0.7, Δ[1] = ((4-1) + 2 (4-1)) / 10 = 0.9, Δ[2] = ((4-2) + 2 (4-1)) / 10 = 0.8.
  const std::vector<double> cut{1, 2, 4, 0, 0, 0.7, 0.9, 0.8, 0, 0};
  for (std::size_t i = 0; i < cut.size(); ++i) EXPECT_NEAR(y[i], cut[i], 1e-15) << i;
  // A ramp a t + b has Δ = a away from the edges and ΔΔ = 0 there.
  std::vector<double> ramp(9), r3(27);
  for (int i = 0; i < 9; ++i) ramp[static_cast<std::size_t>(i)] = 0.5 * i - 3;
  time_deltas_cpu<double>(1, 9, 1, 2, nullptr, ramp.data(), r3.data());
  for (int i = 2; i < 7; ++i) EXPECT_NEAR(r3[static_cast<std::size_t>(9 + i)], 0.5, 1e-15) << i;
  EXPECT_NEAR(r3[18 + 4], 0.0, 1e-15);
}

TEST(NnDeltas, TwinsMatchALongDoubleReferenceOnRandomMaps) {
  struct Case {
    int n, t, f, order;
    std::vector<int> lengths;
  };
  const Case cases[] = {{3, 13, 8, 2, {13, 9, 1}}, {2, 40, 5, 1, {40, 2}}, {4, 7, 3, 2, {3, 7, 4, 0}},
                        {1, 300, 64, 2, {300}}, {2, 5, 2, 2, {5, 12}}};
  for (const Case& c : cases) {
    const std::string what = "shape " + std::to_string(c.n) + "x" + std::to_string(c.t) + "x" + std::to_string(c.f) +
                             " order " + std::to_string(c.order);
    const std::size_t count = static_cast<std::size_t>(c.n) * c.t * c.f;
    std::vector<double> x = test::random_nonzero<double>(count, 5 + count, -3.0, 3.0);
    const auto want = reference_deltas(x, c.n, c.t, c.f, c.order, c.lengths);
    std::vector<double> yd(want.size(), -7.0);
    time_deltas_cpu<double>(c.n, c.t, c.f, c.order, c.lengths.data(), x.data(), yd.data());
    const std::vector<float> xf(x.begin(), x.end());
    const auto wantf = reference_deltas(std::vector<double>(xf.begin(), xf.end()), c.n, c.t, c.f, c.order, c.lengths);
    std::vector<float> yf(want.size(), -7.0f);
    time_deltas_cpu<float>(c.n, c.t, c.f, c.order, c.lengths.data(), xf.data(), yf.data());
    int bad = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
      // Channel values are at most ~3 in size; float rounds each of the few operations once.
      if (!(std::fabs(static_cast<long double>(yd[i]) - want[i]) <= 1e-14L) && ++bad <= 5)
        ADD_FAILURE() << what << " double [" << i << "]: " << yd[i] << " vs " << static_cast<double>(want[i]);
      if (!(std::fabs(static_cast<long double>(yf[i]) - wantf[i]) <= 4e-6L) && ++bad <= 5)
        ADD_FAILURE() << what << " float [" << i << "]: " << yf[i] << " vs " << static_cast<double>(wantf[i]);
      if (want[i] == 0.0L) {
        EXPECT_EQ(yf[i], 0.0f) << what << " [" << i << "]: padding must be exactly 0";
      }
    }
    EXPECT_EQ(bad, 0) << what;
  }
}

TEST(NnDeltas, ArgumentErrorsNameTheOp) {
  const ExecContext cpu{};
  std::vector<float> x(12, 1.0f), y(48);
  test::expect_error([&] { time_deltas(cpu, 1, 4, 3, 3, nullptr, x.data(), y.data()); }, {"time_deltas", "order"});
  test::expect_error([&] { time_deltas(cpu, 1, -4, 3, 1, nullptr, x.data(), y.data()); }, {"time_deltas", "negative"});
}

}  // namespace
}  // namespace ser::nn
