// Masked batch normalisation, CPU twin (kernels/batchnorm/cpu.cpp): training forward against a
// naive double reference, the running-statistics update against hand computation, masking (padded
// values never reach the statistics, padded outputs are exactly 0, a length-0 utterance, all lengths
// 0), inference forward, backward against central finite differences in double for x, gamma and
// beta, the accumulate/overwrite contract, and the shape checks.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "nn_test_util.hpp"
#include "ser/error.hpp"
#include "ser/nn/batchnorm.hpp"

namespace ser::nn {
namespace {

using test::cast_vector;
using test::dot;
using test::expect_gradient_matches;
using test::random_nonzero;

const ExecContext kCpu{};

BatchNormShape make(int n, int c, int h, int w) {
  BatchNormShape s;
  s.n = n; s.c = c; s.h = h; s.w = w;
  return s;
}

std::size_t count_of(const BatchNormShape& s) { return std::size_t(s.n) * s.c * s.h * s.w; }
std::size_t at(const BatchNormShape& s, int n, int c, int h, int w) {
  return ((std::size_t(n) * s.c + c) * s.h + h) * s.w + w;
}
int valid_len(const BatchNormShape& s, const std::vector<int>& len, int n) {
  return len.empty() ? s.h : std::min(std::max(len[n], 0), s.h);
}
const int* ptr(const std::vector<int>& len) { return len.empty() ? nullptr : len.data(); }

// Per channel mean and biased variance over valid elements, the obvious way; y normalised with them.
struct Ref {
  std::vector<double> mean, var, y;
};
Ref reference(const BatchNormShape& s, const std::vector<double>& x, const std::vector<int>& len,
              const std::vector<double>& gamma, const std::vector<double>& beta) {
  Ref r{std::vector<double>(s.c), std::vector<double>(s.c), std::vector<double>(count_of(s), 0.0)};
  for (int c = 0; c < s.c; ++c) {
    std::vector<double> vals;
    for (int n = 0; n < s.n; ++n)
      for (int h = 0; h < valid_len(s, len, n); ++h)
        for (int w = 0; w < s.w; ++w) vals.push_back(x[at(s, n, c, h, w)]);
    double m = 0, v = 0;
    for (double a : vals) m += a;
    m /= vals.size();
    for (double a : vals) v += (a - m) * (a - m);
    v /= vals.size();
    r.mean[c] = m;
    r.var[c] = v;
    for (int n = 0; n < s.n; ++n)
      for (int h = 0; h < valid_len(s, len, n); ++h)
        for (int w = 0; w < s.w; ++w) {
          const std::size_t i = at(s, n, c, h, w);
          r.y[i] = gamma[c] * (x[i] - m) / std::sqrt(v + double(s.eps)) + beta[c];
        }
  }
  return r;
}

// Padded positions of x hold large garbage: if they leaked into the statistics, results would move.
template <typename T>
void poison_padding(const BatchNormShape& s, const std::vector<int>& len, std::vector<T>& x) {
  for (int n = 0; n < s.n; ++n)
    for (int c = 0; c < s.c; ++c)
      for (int h = valid_len(s, len, n); h < s.h; ++h)
        for (int w = 0; w < s.w; ++w) x[at(s, n, c, h, w)] = T(1000 + 7 * h + w);
}

struct Case {
  BatchNormShape s;
  std::vector<int> lengths;
};
std::vector<Case> cases() {
  return {
      {make(3, 4, 7, 5), {7, 3, 0}},   // different lengths and a length-0 utterance
      {make(2, 3, 6, 1), {}},          // W = 1, no lengths
      {make(4, 2, 5, 3), {1, 5, 2, 4}},
  };
}

TEST(BatchNormCpu, TrainForwardMatchesNaiveReference) {
  for (const Case& cs : cases()) {
    const BatchNormShape& s = cs.s;
    std::vector<double> x = random_nonzero<double>(count_of(s), 1, -2.0, 3.0);
    poison_padding(s, cs.lengths, x);
    const std::vector<double> g = random_nonzero<double>(s.c, 2, 0.5, 1.5), b = random_nonzero<double>(s.c, 3);
    const Ref ref = reference(s, x, cs.lengths, g, b);

    std::vector<double> y(count_of(s), 99.0), mean(s.c), invstd(s.c);
    batchnorm_forward_train_cpu<double>(s, x.data(), ptr(cs.lengths), g.data(), b.data(), y.data(), mean.data(),
                                        invstd.data(), nullptr, nullptr);
    for (std::size_t i = 0; i < y.size(); ++i) ASSERT_NEAR(y[i], ref.y[i], 1e-12) << i;
    for (int c = 0; c < s.c; ++c) {
      EXPECT_NEAR(mean[c], ref.mean[c], 1e-14) << c;
      EXPECT_NEAR(invstd[c], 1.0 / std::sqrt(ref.var[c] + double(s.eps)), 1e-12) << c;
    }

    // float through the dispatch
    const std::vector<float> xf = cast_vector<float>(x), gf = cast_vector<float>(g), bf = cast_vector<float>(b);
    std::vector<float> yf(count_of(s), 99.0f), mf(s.c), isf(s.c);
    batchnorm_forward_train(kCpu, s, xf.data(), ptr(cs.lengths), gf.data(), bf.data(), yf.data(), mf.data(),
                            isf.data(), nullptr, nullptr);
    EXPECT_LT(test::nmse(yf, cast_vector<float>(ref.y)), 1e-12);
    for (std::size_t i = 0; i < yf.size(); ++i) ASSERT_NEAR(yf[i], ref.y[i], 2e-5) << i;
  }
}

TEST(BatchNormCpu, PaddedOutputsAreExactlyZero) {
  const Case cs = cases()[0];
  const BatchNormShape& s = cs.s;
  std::vector<float> x = random_nonzero<float>(count_of(s), 4);
  poison_padding(s, cs.lengths, x);
  const std::vector<float> g = random_nonzero<float>(s.c, 5), b = random_nonzero<float>(s.c, 6);  // beta != 0
  std::vector<float> y(count_of(s), std::numeric_limits<float>::quiet_NaN()), m(s.c), is(s.c);
  batchnorm_forward_train_cpu<float>(s, x.data(), cs.lengths.data(), g.data(), b.data(), y.data(), m.data(), is.data(),
                                     nullptr, nullptr);
  std::vector<float> yi(count_of(s), std::numeric_limits<float>::quiet_NaN());
  const std::vector<float> rm = random_nonzero<float>(s.c, 7), rv = random_nonzero<float>(s.c, 8, 0.5, 2.0);
  batchnorm_forward_infer_cpu<float>(s, x.data(), cs.lengths.data(), g.data(), b.data(), rm.data(), rv.data(), yi.data());
  for (int n = 0; n < s.n; ++n)
    for (int c = 0; c < s.c; ++c)
      for (int h = 0; h < s.h; ++h)
        for (int w = 0; w < s.w; ++w) {
          const std::size_t i = at(s, n, c, h, w);
          if (h < valid_len(s, cs.lengths, n)) {
            EXPECT_TRUE(std::isfinite(y[i]) && y[i] != 0.0f) << i;
            EXPECT_TRUE(std::isfinite(yi[i]) && yi[i] != 0.0f) << i;
          } else {
            EXPECT_EQ(y[i], 0.0f) << i;
            EXPECT_EQ(yi[i], 0.0f) << i;
          }
        }
}

TEST(BatchNormCpu, RunningStatisticsFollowPyTorchByHand) {
  // C = 2, N = 2, H = 3, W = 1, lengths {3, 1}: four valid values per channel.
  BatchNormShape s = make(2, 2, 3, 1);
  const std::vector<int> len = {3, 1};
  std::vector<double> x(count_of(s), 500.0);  // padding: 500
  // channel 0: {1, 2, 4} and {3}: mean 2.5, biased var 1.25, unbiased 5/3
  x[at(s, 0, 0, 0, 0)] = 1; x[at(s, 0, 0, 1, 0)] = 2; x[at(s, 0, 0, 2, 0)] = 4; x[at(s, 1, 0, 0, 0)] = 3;
  // channel 1: {-2, 0, 2} and {4}: mean 1, biased var 5, unbiased 20/3
  x[at(s, 0, 1, 0, 0)] = -2; x[at(s, 0, 1, 1, 0)] = 0; x[at(s, 0, 1, 2, 0)] = 2; x[at(s, 1, 1, 0, 0)] = 4;
  const std::vector<double> g = {1, 1}, b = {0, 0};
  for (double momentum : {0.1, 0.25}) {
    s.momentum = static_cast<float>(momentum);
    const double mom = static_cast<float>(momentum);  // the float the shape holds
    std::vector<double> y(count_of(s)), mean(2), invstd(2), rm = {0.5, -1.0}, rv = {2.0, 0.25};
    batchnorm_forward_train_cpu<double>(s, x.data(), len.data(), g.data(), b.data(), y.data(), mean.data(),
                                        invstd.data(), rm.data(), rv.data());
    EXPECT_NEAR(mean[0], 2.5, 1e-15);
    EXPECT_NEAR(mean[1], 1.0, 1e-15);
    EXPECT_NEAR(invstd[0], 1.0 / std::sqrt(1.25 + double(s.eps)), 1e-14);
    EXPECT_NEAR(invstd[1], 1.0 / std::sqrt(5.0 + double(s.eps)), 1e-14);
    EXPECT_NEAR(rm[0], (1 - mom) * 0.5 + mom * 2.5, 1e-14);
    EXPECT_NEAR(rm[1], (1 - mom) * -1.0 + mom * 1.0, 1e-14);
    EXPECT_NEAR(rv[0], (1 - mom) * 2.0 + mom * 5.0 / 3.0, 1e-14);
    EXPECT_NEAR(rv[1], (1 - mom) * 0.25 + mom * 20.0 / 3.0, 1e-14);
  }
  // A single valid element: the unbiased variance is undefined, running_var stays; running_mean moves.
  const BatchNormShape one = make(2, 1, 2, 1);
  const std::vector<int> len1 = {0, 1};
  const std::vector<double> x1 = {9, 9, 3, 9};
  std::vector<double> y1(4), m1(1), is1(1), rm1 = {1.0}, rv1 = {4.0};
  batchnorm_forward_train_cpu<double>(one, x1.data(), len1.data(), g.data(), b.data(), y1.data(), m1.data(), is1.data(),
                                      rm1.data(), rv1.data());
  EXPECT_EQ(m1[0], 3.0);
  EXPECT_NEAR(rm1[0], 0.9 * 1.0 + double(0.1f) * 3.0, 1e-7);
  EXPECT_EQ(rv1[0], 4.0);
  EXPECT_EQ(y1, (std::vector<double>{0, 0, 0, 0}));  // x - mean = 0 at the valid step, 0 at padding
}

TEST(BatchNormCpu, AllLengthsZeroLeavesStatisticsAlone) {
  const BatchNormShape s = make(2, 3, 4, 2);
  const std::vector<int> len = {0, 0};
  const std::vector<float> x = random_nonzero<float>(count_of(s), 9), dy = random_nonzero<float>(count_of(s), 10);
  const std::vector<float> g = random_nonzero<float>(3, 11), b = random_nonzero<float>(3, 12);
  std::vector<float> y(count_of(s), 5.0f), mean(3, 5.0f), invstd(3, 5.0f);
  std::vector<float> rm = {0.1f, 0.2f, 0.3f}, rv = {1.1f, 1.2f, 1.3f};
  const std::vector<float> rm0 = rm, rv0 = rv;
  batchnorm_forward_train(kCpu, s, x.data(), len.data(), g.data(), b.data(), y.data(), mean.data(), invstd.data(),
                          rm.data(), rv.data());
  EXPECT_EQ(rm, rm0);
  EXPECT_EQ(rv, rv0);
  EXPECT_EQ(mean, std::vector<float>(3, 0.0f));
  EXPECT_EQ(invstd, std::vector<float>(3, 0.0f));
  EXPECT_EQ(y, std::vector<float>(count_of(s), 0.0f));
  std::vector<float> dx(count_of(s), 5.0f), dg = {1, 2, 3}, db = {4, 5, 6};
  batchnorm_backward(kCpu, s, x.data(), dy.data(), len.data(), g.data(), mean.data(), invstd.data(), dx.data(),
                     dg.data(), db.data());
  EXPECT_EQ(dx, std::vector<float>(count_of(s), 0.0f));
  EXPECT_EQ(dg, (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(db, (std::vector<float>{4, 5, 6}));
}

TEST(BatchNormCpu, InferenceMatchesFormula) {
  for (const Case& cs : cases()) {
    const BatchNormShape& s = cs.s;
    std::vector<double> x = random_nonzero<double>(count_of(s), 13, -2.0, 2.0);
    poison_padding(s, cs.lengths, x);
    const std::vector<double> g = random_nonzero<double>(s.c, 14), b = random_nonzero<double>(s.c, 15);
    const std::vector<double> rm = random_nonzero<double>(s.c, 16), rv = random_nonzero<double>(s.c, 17, 0.1, 3.0);
    std::vector<double> y(count_of(s), 99.0);
    batchnorm_forward_infer_cpu<double>(s, x.data(), ptr(cs.lengths), g.data(), b.data(), rm.data(), rv.data(), y.data());
    for (int n = 0; n < s.n; ++n)
      for (int c = 0; c < s.c; ++c)
        for (int h = 0; h < s.h; ++h)
          for (int w = 0; w < s.w; ++w) {
            const std::size_t i = at(s, n, c, h, w);
            const double want = h < valid_len(s, cs.lengths, n)
                                    ? g[c] * (x[i] - rm[c]) / std::sqrt(rv[c] + double(s.eps)) + b[c]
                                    : 0.0;
            ASSERT_NEAR(y[i], want, 1e-12) << i;
          }
  }
}

TEST(BatchNormCpu, BackwardMatchesFiniteDifferences) {
  for (const Case& cs : cases()) {
    const BatchNormShape& s = cs.s;
    const int* len = ptr(cs.lengths);
    std::vector<double> x = random_nonzero<double>(count_of(s), 20, -2.0, 2.0);
    std::vector<double> g = random_nonzero<double>(s.c, 21, 0.5, 1.5), b = random_nonzero<double>(s.c, 22);
    const std::vector<double> r = random_nonzero<double>(count_of(s), 23);
    const auto f = [&] {
      std::vector<double> y(count_of(s)), m(s.c), is(s.c);
      batchnorm_forward_train_cpu<double>(s, x.data(), len, g.data(), b.data(), y.data(), m.data(), is.data(), nullptr,
                                          nullptr);
      return dot(r, y);
    };
    std::vector<double> y(count_of(s)), m(s.c), is(s.c);
    batchnorm_forward_train_cpu<double>(s, x.data(), len, g.data(), b.data(), y.data(), m.data(), is.data(), nullptr,
                                        nullptr);
    std::vector<double> dx(count_of(s)), dg(s.c, 0.0), db(s.c, 0.0);
    batchnorm_backward_cpu<double>(s, x.data(), r.data(), len, g.data(), m.data(), is.data(), dx.data(), dg.data(),
                                   db.data());
    expect_gradient_matches("batchnorm dx", x, dx, f);
    expect_gradient_matches("batchnorm dgamma", g, dg, f);
    expect_gradient_matches("batchnorm dbeta", b, db, f);
    // Padded steps: zero gradient.
    for (int n = 0; n < s.n; ++n)
      for (int c = 0; c < s.c; ++c)
        for (int h = valid_len(s, cs.lengths, n); h < s.h; ++h)
          for (int w = 0; w < s.w; ++w) EXPECT_EQ(dx[at(s, n, c, h, w)], 0.0);
  }
}

TEST(BatchNormCpu, ParameterGradientsAccumulateInputGradientOverwrites) {
  const Case cs = cases()[2];
  const BatchNormShape& s = cs.s;
  const std::vector<float> x = random_nonzero<float>(count_of(s), 30), dy = random_nonzero<float>(count_of(s), 31);
  const std::vector<float> g = random_nonzero<float>(s.c, 32), b = random_nonzero<float>(s.c, 33);
  std::vector<float> y(count_of(s)), m(s.c), is(s.c);
  batchnorm_forward_train(kCpu, s, x.data(), cs.lengths.data(), g.data(), b.data(), y.data(), m.data(), is.data(),
                          nullptr, nullptr);
  std::vector<float> dx0(count_of(s), 0.0f), dg0(s.c, 0.0f), db0(s.c, 0.0f);
  batchnorm_backward(kCpu, s, x.data(), dy.data(), cs.lengths.data(), g.data(), m.data(), is.data(), dx0.data(),
                     dg0.data(), db0.data());
  const std::vector<float> pre_g = random_nonzero<float>(s.c, 34), pre_b = random_nonzero<float>(s.c, 35);
  std::vector<float> dx(count_of(s), std::numeric_limits<float>::quiet_NaN()), dg = pre_g, db = pre_b;
  batchnorm_backward(kCpu, s, x.data(), dy.data(), cs.lengths.data(), g.data(), m.data(), is.data(), dx.data(),
                     dg.data(), db.data());
  EXPECT_EQ(dx, dx0);
  for (int c = 0; c < s.c; ++c) {
    EXPECT_NE(dg0[c], 0.0f);
    EXPECT_EQ(dg[c], pre_g[c] + dg0[c]) << c;
    EXPECT_EQ(db[c], pre_b[c] + db0[c]) << c;
  }
  // dx = nullptr: parameter gradients only, the same values.
  std::vector<float> dg2(s.c, 0.0f), db2(s.c, 0.0f);
  batchnorm_backward(kCpu, s, x.data(), dy.data(), cs.lengths.data(), g.data(), m.data(), is.data(), nullptr,
                     dg2.data(), db2.data());
  EXPECT_EQ(dg2, dg0);
  EXPECT_EQ(db2, db0);
}

TEST(BatchNormCpu, RejectsBadShapes) {
  std::vector<float> buf(256);
  BatchNormShape bad_eps = make(1, 2, 3, 4);
  bad_eps.eps = 0.0f;
  BatchNormShape bad_mom = make(1, 2, 3, 4);
  bad_mom.momentum = 1.5f;
  for (const BatchNormShape& s : {make(0, 2, 3, 4), make(1, 0, 3, 4), make(1, 2, 3, 0), bad_eps, bad_mom}) {
    float* p = buf.data();
    EXPECT_THROW(batchnorm_forward_train(kCpu, s, p, nullptr, p, p, p, p, p, nullptr, nullptr), Error);
    EXPECT_THROW(batchnorm_forward_infer(kCpu, s, p, nullptr, p, p, p, p, p), Error);
    EXPECT_THROW(batchnorm_backward(kCpu, s, p, p, nullptr, p, p, p, p, p, p), Error);
  }
}

}  // namespace
}  // namespace ser::nn
