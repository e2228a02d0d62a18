// The masked layer norm over token features on the CPU (ser/nn/layernorm.hpp): the float and double
// twins against an independent long-double evaluation on random non-zero tokens with per-utterance
// lengths (0, inside, past T), PyTorch's defining properties (zero mean and unit biased variance
// per row before the affine), the backward against central finite differences for x, gamma and
// beta, the gradient contract (dx overwritten, dgamma/dbeta accumulated, masked rows untouched by
// either) and the argument errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "nn_test_util.hpp"
#include "ser/error.hpp"
#include "ser/nn/exec.hpp"
#include "ser/nn/layernorm.hpp"

namespace ser::nn {
namespace {

struct Shape {
  int n = 3, t = 5, d = 7;
  std::vector<int> lengths{5, 2, 0};
  std::size_t rows() const { return static_cast<std::size_t>(n) * t; }
  std::size_t count() const { return rows() * d; }
  bool valid(std::size_t row) const { return static_cast<int>(row % t) < std::clamp(lengths[row / t], 0, t); }
};

// y (N, T, D) of the definition, in long double: two-pass mean and biased variance per valid row.
std::vector<long double> reference_forward(const Shape& s, const std::vector<double>& x, const std::vector<double>& g,
                                           const std::vector<double>& b) {
  std::vector<long double> y(s.count(), 0.0L);
  for (std::size_t r = 0; r < s.rows(); ++r) {
    if (!s.valid(r)) continue;
    long double mu = 0, var = 0;
    for (int i = 0; i < s.d; ++i) mu += x[r * s.d + i];
    mu /= s.d;
    for (int i = 0; i < s.d; ++i) var += (x[r * s.d + i] - mu) * (x[r * s.d + i] - mu);
    var /= s.d;
    for (int i = 0; i < s.d; ++i)
      y[r * s.d + i] = (x[r * s.d + i] - mu) / std::sqrt(var + static_cast<long double>(kLayerNormEps)) * g[i] + b[i];
  }
  return y;
}

TEST(NnLayerNorm, TwinsMatchLongDoubleReferenceAndMaskPaddedRows) {
  Shape s;
  s.n = 4, s.t = 9, s.d = 37, s.lengths = {9, 4, 0, 30};
  const auto x = test::random_nonzero<double>(s.count(), 1, -3.0, 5.0);  // rows with a non-zero mean
  const auto g = test::random_nonzero<double>(static_cast<std::size_t>(s.d), 2, 0.5, 1.5);
  const auto b = test::random_nonzero<double>(static_cast<std::size_t>(s.d), 3);
  const auto want = reference_forward(s, x, g, b);
  std::vector<double> y(s.count(), NAN), mean(s.rows(), NAN), rstd(s.rows(), NAN);
  layer_norm_forward_cpu<double>(s.n, s.t, s.d, kLayerNormEps, x.data(), g.data(), b.data(), s.lengths.data(), y.data(),
                                 mean.data(), rstd.data());
  const auto xf = test::cast_vector<float>(x), gf = test::cast_vector<float>(g), bf = test::cast_vector<float>(b);
  std::vector<float> yf(s.count(), NAN), mf(s.rows(), NAN), rf(s.rows(), NAN);
  layer_norm_forward(ExecContext{}, s.n, s.t, s.d, kLayerNormEps, xf.data(), gf.data(), bf.data(), s.lengths.data(),
                     yf.data(), mf.data(), rf.data());
  for (std::size_t i = 0; i < s.count(); ++i) {
    EXPECT_NEAR(y[i], static_cast<double>(want[i]), 1e-13) << i;
    // The float twin reads float inputs: compare with the reference of those inputs' values.
    EXPECT_NEAR(yf[i], static_cast<double>(want[i]), 2e-6 * (1 + std::fabs(static_cast<double>(want[i])))) << i;
    if (!s.valid(i / s.d)) {
      EXPECT_EQ(y[i], 0.0) << i;
      EXPECT_EQ(yf[i], 0.0f) << i;
    }
  }
  for (std::size_t r = 0; r < s.rows(); ++r)
    if (!s.valid(r)) {
      EXPECT_EQ(mean[r], 0.0);
      EXPECT_EQ(rstd[r], 0.0);
    } else {
      EXPECT_GT(rstd[r], 0.0);
    }
}

TEST(NnLayerNorm, UnitGainZeroBiasGivesZeroMeanUnitVarianceRows) {
  Shape s;
  s.n = 2, s.t = 3, s.d = 64, s.lengths = {3, 3};
  const auto x = test::random_nonzero<double>(s.count(), 4, -10.0, 30.0);
  const std::vector<double> g(64, 1.0), b(64, 0.0);
  std::vector<double> y(s.count()), mean(s.rows()), rstd(s.rows());
  layer_norm_forward_cpu<double>(s.n, s.t, s.d, kLayerNormEps, x.data(), g.data(), b.data(), nullptr, y.data(),
                                 mean.data(), rstd.data());
  for (std::size_t r = 0; r < s.rows(); ++r) {
    double mu = 0, sq = 0;
    for (int i = 0; i < s.d; ++i) mu += y[r * s.d + i];
    mu /= s.d;
    for (int i = 0; i < s.d; ++i) sq += (y[r * s.d + i] - mu) * (y[r * s.d + i] - mu);
    EXPECT_NEAR(mu, 0.0, 1e-12) << r;
    // var(y) = var / (var + eps): 1 up to eps / var.
    const double var_x = 1 / (rstd[r] * rstd[r]) - kLayerNormEps;
    EXPECT_NEAR(sq / s.d, var_x / (var_x + kLayerNormEps), 1e-12) << r;
  }
}

TEST(NnLayerNorm, GradientsMatchFiniteDifferences) {
  Shape s;  // 3 x 5 x 7, lengths 5, 2, 0
  std::vector<double> x = test::random_nonzero<double>(s.count(), 5, -2.0, 3.0);
  std::vector<double> g = test::random_nonzero<double>(static_cast<std::size_t>(s.d), 6, 0.5, 1.5);
  std::vector<double> b = test::random_nonzero<double>(static_cast<std::size_t>(s.d), 7);
  const auto r = test::random_nonzero<double>(s.count(), 8);  // objective Σ r ⊙ y
  std::vector<double> y(s.count()), mean(s.rows()), rstd(s.rows());
  auto objective = [&] {
    layer_norm_forward_cpu<double>(s.n, s.t, s.d, kLayerNormEps, x.data(), g.data(), b.data(), s.lengths.data(),
                                   y.data(), mean.data(), rstd.data());
    return test::dot(r, y);
  };
  objective();
  const auto dg_start = test::random_nonzero<double>(static_cast<std::size_t>(s.d), 9);  // accumulated into
  std::vector<double> dx(s.count(), NAN), dg = dg_start, db = dg_start;
  layer_norm_backward_cpu<double>(s.n, s.t, s.d, x.data(), g.data(), mean.data(), rstd.data(), r.data(),
                                  s.lengths.data(), dx.data(), dg.data(), db.data());
  for (std::size_t i = 0; i < static_cast<std::size_t>(s.d); ++i) {
    dg[i] -= dg_start[i];
    db[i] -= dg_start[i];
  }
  test::expect_gradient_matches("layer_norm dx", x, dx, objective, 1e-6, 1e-6, 1e-8);
  test::expect_gradient_matches("layer_norm dgamma", g, dg, objective, 1e-6, 1e-6, 1e-8);
  test::expect_gradient_matches("layer_norm dbeta", b, db, objective, 1e-6, 1e-6, 1e-8);
  for (std::size_t i = 0; i < s.count(); ++i) {
    if (!s.valid(i / s.d)) {
      EXPECT_EQ(dx[i], 0.0) << i;
    }
  }
}

TEST(NnLayerNorm, MaskedRowsAddNothingToTheParameterGradients) {
  // Garbage in the padded rows of x and dy must change neither dgamma, dbeta nor the valid dx.
  Shape s;
  s.lengths = {3, 1, 0};
  const auto x = test::random_nonzero<double>(s.count(), 10);
  const auto dy = test::random_nonzero<double>(s.count(), 11);
  const auto g = test::random_nonzero<double>(static_cast<std::size_t>(s.d), 12);
  const std::vector<double> b(static_cast<std::size_t>(s.d), 0.25);
  auto run = [&](const std::vector<double>& xs, const std::vector<double>& dys, std::vector<double>& dx,
                 std::vector<double>& dg, std::vector<double>& db) {
    std::vector<double> y(s.count()), mean(s.rows()), rstd(s.rows());
    layer_norm_forward_cpu<double>(s.n, s.t, s.d, kLayerNormEps, xs.data(), g.data(), b.data(), s.lengths.data(),
                                   y.data(), mean.data(), rstd.data());
    dx.assign(s.count(), NAN);
    dg.assign(static_cast<std::size_t>(s.d), 0.0);
    db.assign(static_cast<std::size_t>(s.d), 0.0);
    layer_norm_backward_cpu<double>(s.n, s.t, s.d, xs.data(), g.data(), mean.data(), rstd.data(), dys.data(),
                                    s.lengths.data(), dx.data(), dg.data(), db.data());
  };
  std::vector<double> dx1, dg1, db1, dx2, dg2, db2;
  run(x, dy, dx1, dg1, db1);
  auto x2 = x, dy2 = dy;
  for (std::size_t i = 0; i < s.count(); ++i)
    if (!s.valid(i / s.d)) x2[i] = dy2[i] = 1e3 * (1 + double(i));
  run(x2, dy2, dx2, dg2, db2);
  EXPECT_EQ(dx1, dx2);
  EXPECT_EQ(dg1, dg2);
  EXPECT_EQ(db1, db2);
  double dg_abs = 0;
  for (double v : dg1) dg_abs += std::fabs(v);
  EXPECT_GT(dg_abs, 0.0);
}

TEST(NnLayerNorm, RejectsBadShapesAndEps) {
  const std::vector<float> v(8, 1.0f);
  std::vector<float> out(8), m(2), r(2);
  EXPECT_THROW(layer_norm_forward(ExecContext{}, 1, 0, 4, kLayerNormEps, v.data(), v.data(), v.data(), nullptr,
                                  out.data(), m.data(), r.data()),
               Error);
  EXPECT_THROW(layer_norm_forward(ExecContext{}, 1, 2, 0, kLayerNormEps, v.data(), v.data(), v.data(), nullptr,
                                  out.data(), m.data(), r.data()),
               Error);
  EXPECT_THROW(layer_norm_forward(ExecContext{}, 1, 2, 4, 0.0f, v.data(), v.data(), v.data(), nullptr, out.data(),
                                  m.data(), r.data()),
               Error);
  EXPECT_THROW(layer_norm_backward(ExecContext{}, -1, 2, 4, v.data(), v.data(), m.data(), r.data(), v.data(), nullptr,
                                   out.data(), out.data(), out.data()),
               Error);
}

}  // namespace
}  // namespace ser::nn
