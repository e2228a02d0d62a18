// CPU twins of ser/nn/elementwise.hpp (ReLU, dropout, time mask, add/accumulate, map <-> tokens,
// concat) against naive references and central finite differences in double, and the kernel-path
// names / GPU-handle construction of ser/nn/exec.hpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "nn_test_util.hpp"
#include "ser/device.hpp"
#include "ser/error.hpp"
#include "ser/nn/counter_rng.hpp"
#include "ser/nn/elementwise.hpp"
#include "ser/nn/exec.hpp"

namespace ser::nn {
namespace {

using test::dot;
using test::expect_gradient_matches;
using test::random_nonzero;

const ExecContext kCpu{};

// ---- exec.hpp -----------------------------------------------------------------------------------

TEST(NnExec, KernelPathNamesRoundTrip) {
  EXPECT_EQ(parse_kernel_path("handwritten"), KernelPath::handwritten);
  EXPECT_EQ(parse_kernel_path("vendor"), KernelPath::vendor);
  EXPECT_EQ(to_string(KernelPath::handwritten), "handwritten");
  EXPECT_EQ(to_string(KernelPath::vendor), "vendor");
  for (KernelPath k : {KernelPath::handwritten, KernelPath::vendor}) EXPECT_EQ(parse_kernel_path(to_string(k)), k);
}

TEST(NnExec, KernelPathRejectsOtherNames) {
  for (const std::string bad : {"", "cudnn", "Vendor", "hand-written", "handwritten "}) {
    try {
      parse_kernel_path(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("'" + bad + "'"), std::string::npos) << e.what();
    }
  }
}

TEST(NnExec, DefaultContextIsCpuHandwritten) {
  const ExecContext c;
  EXPECT_EQ(c.device, Device::cpu);
  EXPECT_EQ(c.kernels, KernelPath::handwritten);
  EXPECT_EQ(c.stream, nullptr);
  EXPECT_FALSE(c.deterministic);
}

TEST(NnExec, GpuHandlesThrowWithoutUsableGpu) {
  if (probe_cuda().usable) GTEST_SKIP() << "a GPU is present (tests/test_nn_elementwise_cuda.cpp covers it)";
  EXPECT_THROW(GpuHandles handles(false), Error);
  EXPECT_THROW(GpuHandles handles(true), Error);
}

TEST(NnExec, CudaDispatchWithoutUsableGpuThrows) {
  if (probe_cuda().usable) GTEST_SKIP() << "a GPU is present";
  ExecContext gpu;
  gpu.device = Device::cuda;
  std::vector<float> x(8, 1.0f), y(8);
  EXPECT_THROW(relu_forward(gpu, 8, x.data(), y.data()), Error);
}

// ---- ReLU ---------------------------------------------------------------------------------------

TEST(NnElementwise, ReluForwardMatchesDefinitionAndRunsInPlace) {
  const std::int64_t n = 1001;
  std::vector<float> x = random_nonzero<float>(n, 1);
  std::vector<float> y(n, 7.0f);
  relu_forward(kCpu, n, x.data(), y.data());
  int positives = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    EXPECT_EQ(y[i], x[i] > 0 ? x[i] : 0.0f) << i;
    positives += x[i] > 0;
  }
  EXPECT_GT(positives, n / 4);
  EXPECT_LT(positives, 3 * n / 4);
  std::vector<float> z = x;
  relu_forward(kCpu, n, z.data(), z.data());
  EXPECT_EQ(z, y);
}

TEST(NnElementwise, ReluPropagatesNanAndMasksGradientBySelect) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> x = {nan, -1.0f, 2.0f}, y(3);
  relu_forward(kCpu, 3, x.data(), y.data());
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_EQ(y[1], 0.0f);
  EXPECT_EQ(y[2], 2.0f);
  // Where the unit is off, even a non-finite incoming gradient gives exactly 0.
  std::vector<float> yy = {-0.0f, 0.0f, 3.0f}, dy = {nan, std::numeric_limits<float>::infinity(), 5.0f}, dx(3);
  relu_backward(kCpu, 3, yy.data(), dy.data(), dx.data());
  EXPECT_EQ(dx[0], 0.0f);
  EXPECT_EQ(dx[1], 0.0f);
  EXPECT_EQ(dx[2], 5.0f);
}

TEST(NnElementwise, ReluGradientMatchesFiniteDifferences) {
  const std::int64_t n = 37;
  std::vector<double> x = random_nonzero<double>(n, 2);  // |x| >= 0.05: no kink within h
  const std::vector<double> r = random_nonzero<double>(n, 3);
  std::vector<double> y(n), dx(n, 123.0);  // dx pre-filled: must be overwritten
  relu_forward_cpu<double>(n, x.data(), y.data());
  relu_backward_cpu<double>(n, y.data(), r.data(), dx.data());
  // In place (dx == dy) gives the same.
  std::vector<double> inplace = r;
  relu_backward_cpu<double>(n, y.data(), inplace.data(), inplace.data());
  EXPECT_EQ(inplace, dx);
  expect_gradient_matches("relu dx", x, dx, [&] {
    std::vector<double> yy(n);
    relu_forward_cpu<double>(n, x.data(), yy.data());
    return dot(r, yy);
  });
}

// ---- dropout ------------------------------------------------------------------------------------

TEST(NnElementwise, DropoutKeepsAboutOneMinusPAndScales) {
  const std::int64_t n = 1 << 20;
  const float p = 0.3f;
  const std::vector<float> x = random_nonzero<float>(n, 4);
  std::vector<float> y(n);
  dropout_forward(kCpu, n, p, 42, x.data(), y.data());
  const float scale = 1.0f / (1.0f - p);
  EXPECT_NEAR(scale, 1.0 / 0.7, 1e-6);
  std::int64_t kept = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const bool keep = uniform01(42, static_cast<std::uint64_t>(i)) >= p;  // the documented mask
    ASSERT_EQ(y[i], keep ? x[i] * scale : 0.0f) << i;
    kept += keep;
  }
  // sd of the kept fraction is sqrt(p (1-p) / n) = 4.5e-4; 0.005 is > 10 sd.
  EXPECT_NEAR(static_cast<double>(kept) / n, 1.0 - p, 0.005);
}

TEST(NnElementwise, DropoutBackwardUsesTheForwardMask) {
  const std::int64_t n = 5001;
  const float p = 0.5f;
  const std::vector<float> x = random_nonzero<float>(n, 5), dy = random_nonzero<float>(n, 6);
  std::vector<float> y(n), dx(n, 99.0f);
  dropout_forward(kCpu, n, p, 7, x.data(), y.data());
  dropout_backward(kCpu, n, p, 7, dy.data(), dx.data());
  std::int64_t kept = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    ASSERT_EQ(y[i] != 0.0f, dx[i] != 0.0f) << i;  // inputs are non-zero, so zero means dropped
    if (y[i] != 0.0f) {
      ++kept;
      EXPECT_EQ(dx[i], dy[i] * 2.0f) << i;
    }
  }
  EXPECT_GT(kept, n / 3);
  EXPECT_LT(kept, 2 * n / 3);
}

TEST(NnElementwise, DropoutSeedsGiveDifferentMasksAndSameSeedTheSame) {
  const std::int64_t n = 100000;
  const float p = 0.2f;
  const std::vector<float> x = random_nonzero<float>(n, 8);
  std::vector<float> a(n), b(n), c(n);
  dropout_forward(kCpu, n, p, 1, x.data(), a.data());
  dropout_forward(kCpu, n, p, 2, x.data(), b.data());
  dropout_forward(kCpu, n, p, 1, x.data(), c.data());
  EXPECT_EQ(a, c);
  std::int64_t differ = 0;
  for (std::int64_t i = 0; i < n; ++i) differ += (a[i] == 0.0f) != (b[i] == 0.0f);
  // Independent masks disagree on a fraction 2 p (1 - p) = 0.32 of the elements.
  EXPECT_NEAR(static_cast<double>(differ) / n, 2 * 0.2 * 0.8, 0.01);
}

TEST(NnElementwise, DropoutEdgeProbabilitiesAndInPlace) {
  const std::int64_t n = 999;
  const std::vector<float> x = random_nonzero<float>(n, 9);
  std::vector<float> y(n, 5.0f);
  dropout_forward(kCpu, n, 0.0f, 3, x.data(), y.data());
  EXPECT_EQ(y, x);  // p = 0 copies
  dropout_forward(kCpu, n, 1.0f, 3, x.data(), y.data());
  for (float v : y) ASSERT_EQ(v, 0.0f);  // p = 1 drops everything (no 0 * inf)
  std::vector<float> out(n), inplace = x;
  dropout_forward(kCpu, n, 0.4f, 11, x.data(), out.data());
  dropout_forward(kCpu, n, 0.4f, 11, inplace.data(), inplace.data());
  EXPECT_EQ(inplace, out);
  for (float bad : {-0.1f, 1.5f, std::numeric_limits<float>::quiet_NaN()})
    EXPECT_THROW(dropout_forward(kCpu, n, bad, 3, x.data(), y.data()), Error) << bad;
}

TEST(NnElementwise, DropoutGradientMatchesFiniteDifferences) {
  const std::int64_t n = 41;
  const float p = 0.35f;
  std::vector<double> x = random_nonzero<double>(n, 10);
  const std::vector<double> r = random_nonzero<double>(n, 11);
  std::vector<double> dx(n, -4.0);
  dropout_backward_cpu<double>(n, p, 77, r.data(), dx.data());
  int zeros = 0;
  for (double g : dx) zeros += g == 0.0;
  EXPECT_GT(zeros, 0);  // some elements are dropped ...
  EXPECT_LT(zeros, n);  // ... and some kept
  expect_gradient_matches("dropout dx", x, dx, [&] {
    std::vector<double> y(n);
    dropout_forward_cpu<double>(n, p, 77, x.data(), y.data());
    return dot(r, y);
  });
}

// ---- time mask ----------------------------------------------------------------------------------

TEST(NnElementwise, TimeMaskZeroesStepsAtAndBeyondLength) {
  const int N = 4, C = 3, T = 7, F = 5;
  const std::vector<int> lengths = {7, 3, 0, 9};  // full, partial, empty, longer than T (clamped)
  const std::vector<float> x = random_nonzero<float>(static_cast<std::size_t>(N) * C * T * F, 12);
  std::vector<float> y = x;
  time_mask(kCpu, N, C, T, F, lengths.data(), y.data());
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c)
      for (int t = 0; t < T; ++t)
        for (int f = 0; f < F; ++f) {
          const std::size_t i = ((static_cast<std::size_t>(n) * C + c) * T + t) * F + f;
          ASSERT_EQ(y[i], t < std::min(lengths[n], T) ? x[i] : 0.0f) << n << " " << c << " " << t << " " << f;
        }
  std::vector<float> z = x;
  time_mask(kCpu, N, C, T, F, nullptr, z.data());
  EXPECT_EQ(z, x);  // nullptr lengths: all steps valid
}

TEST(NnElementwise, TimeMaskGradientMatchesFiniteDifferences) {
  const int N = 2, C = 2, T = 5, F = 3;
  const std::vector<int> lengths = {2, 5};
  const std::size_t count = static_cast<std::size_t>(N) * C * T * F;
  std::vector<double> x = random_nonzero<double>(count, 13);
  const std::vector<double> r = random_nonzero<double>(count, 14);
  std::vector<double> dx = r;  // the backward is the same masking of the gradient
  time_mask_cpu<double>(N, C, T, F, lengths.data(), dx.data());
  expect_gradient_matches("time_mask dx", x, dx, [&] {
    std::vector<double> y = x;
    time_mask_cpu<double>(N, C, T, F, lengths.data(), y.data());
    return dot(r, y);
  });
}

// ---- add / accumulate ---------------------------------------------------------------------------

TEST(NnElementwise, AddAndAccumulateWithAliasing) {
  const std::int64_t n = 1003;
  const std::vector<float> a = random_nonzero<float>(n, 15), b = random_nonzero<float>(n, 16);
  std::vector<float> y(n, 3.0f);
  add(kCpu, n, a.data(), b.data(), y.data());
  for (std::int64_t i = 0; i < n; ++i) ASSERT_EQ(y[i], a[i] + b[i]) << i;
  std::vector<float> ya = a, yb = b;
  add(kCpu, n, ya.data(), b.data(), ya.data());  // y == a
  add(kCpu, n, a.data(), yb.data(), yb.data());  // y == b
  EXPECT_EQ(ya, y);
  EXPECT_EQ(yb, y);
  std::vector<float> acc = b;
  accumulate(kCpu, n, a.data(), acc.data());
  EXPECT_EQ(acc, y);
  accumulate(kCpu, n, a.data(), acc.data());
  for (std::int64_t i = 0; i < n; ++i) ASSERT_EQ(acc[i], (b[i] + a[i]) + a[i]) << i;
}

TEST(NnElementwise, AddGradientIsTheIncomingGradientForBothInputs) {
  const std::int64_t n = 13;
  std::vector<double> a = random_nonzero<double>(n, 17), b = random_nonzero<double>(n, 18);
  const std::vector<double> r = random_nonzero<double>(n, 19);
  auto f = [&] {
    std::vector<double> y(n);
    add_cpu<double>(n, a.data(), b.data(), y.data());
    return dot(r, y);
  };
  expect_gradient_matches("add da", a, r, f);
  expect_gradient_matches("add db", b, r, f);
}

// ---- map <-> tokens -----------------------------------------------------------------------------

struct MapShape {
  int n, c, t, f;
};

class NnLayout : public ::testing::TestWithParam<MapShape> {};

TEST_P(NnLayout, MapToTokensIsTheDocumentedPermutation) {
  const auto [N, C, T, F] = GetParam();
  const std::size_t count = static_cast<std::size_t>(N) * C * T * F;
  std::vector<float> map(count);
  for (std::size_t i = 0; i < count; ++i) map[i] = static_cast<float>(i + 1);  // distinct, exact
  std::vector<float> tokens(count, -1.0f), back(count, -1.0f);
  map_to_tokens(kCpu, N, C, T, F, map.data(), tokens.data());
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c)
      for (int t = 0; t < T; ++t)
        for (int f = 0; f < F; ++f)
          ASSERT_EQ(tokens[(static_cast<std::size_t>(n) * T + t) * C * F + static_cast<std::size_t>(c) * F + f],
                    map[((static_cast<std::size_t>(n) * C + c) * T + t) * F + f])
              << n << " " << c << " " << t << " " << f;
  tokens_to_map(kCpu, N, C, T, F, tokens.data(), back.data());
  EXPECT_EQ(back, map);
}

TEST_P(NnLayout, EachIsTheOthersBackward) {
  const auto [N, C, T, F] = GetParam();
  const std::size_t count = static_cast<std::size_t>(N) * C * T * F;
  if (count > 2000) GTEST_SKIP() << "finite differences on the small shapes only";
  std::vector<double> x = random_nonzero<double>(count, 20);
  const std::vector<double> r = random_nonzero<double>(count, 21);
  std::vector<double> dx(count, 5.0);
  tokens_to_map_cpu<double>(N, C, T, F, r.data(), dx.data());
  expect_gradient_matches("map_to_tokens dmap", x, dx, [&] {
    std::vector<double> y(count);
    map_to_tokens_cpu<double>(N, C, T, F, x.data(), y.data());
    return dot(r, y);
  });
  map_to_tokens_cpu<double>(N, C, T, F, r.data(), dx.data());
  expect_gradient_matches("tokens_to_map dtokens", x, dx, [&] {
    std::vector<double> y(count);
    tokens_to_map_cpu<double>(N, C, T, F, x.data(), y.data());
    return dot(r, y);
  });
}

INSTANTIATE_TEST_SUITE_P(Shapes, NnLayout,
                         ::testing::Values(MapShape{2, 3, 5, 7}, MapShape{1, 1, 4, 3}, MapShape{3, 5, 2, 1},
                                           MapShape{2, 33, 9, 3}, MapShape{1, 3, 2, 70}));

// ---- concat -------------------------------------------------------------------------------------

TEST(NnElementwise, ConcatPlacesBothInputsAndBackwardSplits) {
  const int N = 5, Da = 3, Db = 7;
  const std::vector<float> a = random_nonzero<float>(N * Da, 22), b = random_nonzero<float>(N * Db, 23);
  std::vector<float> y(N * (Da + Db), -9.0f);
  concat(kCpu, N, Da, Db, a.data(), b.data(), y.data());
  for (int n = 0; n < N; ++n) {
    for (int j = 0; j < Da; ++j) ASSERT_EQ(y[n * (Da + Db) + j], a[n * Da + j]);
    for (int j = 0; j < Db; ++j) ASSERT_EQ(y[n * (Da + Db) + Da + j], b[n * Db + j]);
  }
  std::vector<float> da(N * Da, 1.0f), db(N * Db, 1.0f);
  concat_backward(kCpu, N, Da, Db, y.data(), da.data(), db.data());
  EXPECT_EQ(da, a);
  EXPECT_EQ(db, b);
  std::vector<float> only_b(N * Db, 0.0f), only_a(N * Da, 0.0f);
  concat_backward(kCpu, N, Da, Db, y.data(), nullptr, only_b.data());
  concat_backward(kCpu, N, Da, Db, y.data(), only_a.data(), nullptr);
  EXPECT_EQ(only_b, b);
  EXPECT_EQ(only_a, a);
}

TEST(NnElementwise, ConcatGradientMatchesFiniteDifferences) {
  const int N = 3, Da = 4, Db = 5;
  std::vector<double> a = random_nonzero<double>(N * Da, 24), b = random_nonzero<double>(N * Db, 25);
  const std::vector<double> r = random_nonzero<double>(N * (Da + Db), 26);
  std::vector<double> da(N * Da, 7.0), db(N * Db, 7.0);
  concat_backward_cpu<double>(N, Da, Db, r.data(), da.data(), db.data());
  auto f = [&] {
    std::vector<double> y(N * (Da + Db));
    concat_cpu<double>(N, Da, Db, a.data(), b.data(), y.data());
    return dot(r, y);
  };
  expect_gradient_matches("concat da", a, da, f);
  expect_gradient_matches("concat db", b, db, f);
}

}  // namespace
}  // namespace ser::nn
