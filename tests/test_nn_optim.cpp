// CPU twins of ser/nn/optim_ops.hpp: Adam / AdamW against closed forms of the first step and an
// independent double-precision reference of PyTorch's update over several steps (with and without a
// decay mask, L2 vs decoupled), sum of squares against a double sum, scale and zero.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "nn_test_util.hpp"
#include "ser/error.hpp"
#include "ser/nn/optim_ops.hpp"

namespace ser::nn {
namespace {

using test::random_nonzero;

const ExecContext kCpu{};

// PyTorch's torch.optim.Adam(W) for one tensor, written out in double as the textbook form:
// bias-corrected moments m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t), p -= lr m_hat / (sqrt(v_hat) + eps)
// (the same as PyTorch's lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)).
struct RefAdam {
  std::vector<double> p, m, v;
  void step(const AdamStep& h, const std::vector<double>& grad, const std::vector<std::uint8_t>* mask) {
    const double b1 = h.beta1, b2 = h.beta2, lr = h.lr, wd = h.weight_decay, eps = h.eps;
    const double t = static_cast<double>(h.step);
    for (std::size_t i = 0; i < p.size(); ++i) {
      double g = grad[i];
      const bool decay = wd != 0 && (!mask || (*mask)[i] == 1);
      if (decay && h.decoupled) p[i] -= lr * wd * p[i];
      if (decay && !h.decoupled) g += wd * p[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      const double m_hat = m[i] / (1 - std::pow(b1, t)), v_hat = v[i] / (1 - std::pow(b2, t));
      p[i] -= lr * m_hat / (std::sqrt(v_hat) + eps);
    }
  }
};

// First step, no decay: m = (1-b1) g, v = (1-b2) g^2, so m_hat = g, v_hat = g^2 and
// p1 = p0 - lr g / (|g| + eps): every parameter moves by lr against the sign of its gradient.
TEST(NnOptim, AdamFirstStepClosedForm) {
  const std::int64_t n = 101;
  AdamStep h;
  h.lr = 0.01f;
  const std::vector<double> p0 = random_nonzero<double>(n, 1), g = random_nonzero<double>(n, 2);
  std::vector<double> p = p0, m(n, 0.0), v(n, 0.0);
  adam_update_cpu<double>(n, h, p.data(), g.data(), m.data(), v.data(), nullptr);
  std::vector<float> pf = test::cast_vector<float>(p0), gf = test::cast_vector<float>(g), mf(n, 0.0f), vf(n, 0.0f);
  adam_update(kCpu, n, h, pf.data(), gf.data(), mf.data(), vf.data(), nullptr);
  const double lr = h.lr, eps = h.eps, b1 = h.beta1, b2 = h.beta2;
  for (std::int64_t i = 0; i < n; ++i) {
    const double expect = p0[i] - lr * g[i] / (std::abs(g[i]) + eps);
    EXPECT_NEAR(p[i], expect, 1e-15) << i;
    EXPECT_NEAR(m[i], (1 - b1) * g[i], 1e-16) << i;
    EXPECT_NEAR(v[i], (1 - b2) * g[i] * g[i], 1e-18) << i;
    EXPECT_NEAR(pf[i], expect, 2e-7) << i;
    EXPECT_NEAR(std::abs(p[i] - p0[i]), lr, 1e-7 * lr + 1e-6 * lr) << i;  // |Δp| = lr |g| / (|g| + eps)
  }
}

TEST(NnOptim, AdamWFirstStepClosedFormWithMask) {
  const std::int64_t n = 64;
  AdamStep h;
  h.lr = 0.05f;
  h.weight_decay = 0.1f;
  h.decoupled = true;
  const std::vector<double> p0 = random_nonzero<double>(n, 3), g = random_nonzero<double>(n, 4);
  std::vector<std::uint8_t> mask(n);
  for (std::int64_t i = 0; i < n; ++i) mask[i] = i % 3 != 0;
  std::vector<double> p = p0, m(n, 0.0), v(n, 0.0);
  adam_update_cpu<double>(n, h, p.data(), g.data(), m.data(), v.data(), mask.data());
  const double lr = h.lr, wd = h.weight_decay, eps = h.eps;
  for (std::int64_t i = 0; i < n; ++i) {
    const double shrink = mask[i] ? 1 - lr * wd : 1.0;
    EXPECT_NEAR(p[i], p0[i] * shrink - lr * g[i] / (std::abs(g[i]) + eps), 1e-15) << i;
  }
}

TEST(NnOptim, AdamL2FirstStepClosedFormWithMask) {
  const std::int64_t n = 64;
  AdamStep h;
  h.lr = 0.05f;
  h.weight_decay = 0.5f;
  h.decoupled = false;
  const std::vector<double> p0 = random_nonzero<double>(n, 5), g = random_nonzero<double>(n, 6);
  std::vector<std::uint8_t> mask(n);
  for (std::int64_t i = 0; i < n; ++i) mask[i] = i % 2;
  std::vector<double> p = p0, m(n, 0.0), v(n, 0.0);
  adam_update_cpu<double>(n, h, p.data(), g.data(), m.data(), v.data(), mask.data());
  const double lr = h.lr, wd = h.weight_decay, eps = h.eps, b1 = h.beta1;
  for (std::int64_t i = 0; i < n; ++i) {
    const double ge = mask[i] ? g[i] + wd * p0[i] : g[i];  // L2 enters the gradient, hence the moments
    EXPECT_NEAR(p[i], p0[i] - lr * ge / (std::abs(ge) + eps), 1e-15) << i;
    EXPECT_NEAR(m[i], (1 - b1) * ge, 1e-16) << i;
  }
}

struct AdamCase {
  float wd;
  bool decoupled;
  bool masked;
};

class NnOptimAdam : public ::testing::TestWithParam<AdamCase> {};

// Six steps with fresh gradients each step, float and double twins against the reference.
TEST_P(NnOptimAdam, MatchesReferenceOverSeveralSteps) {
  const AdamCase c = GetParam();
  const std::int64_t n = 257;
  std::vector<std::uint8_t> mask(n);
  for (std::int64_t i = 0; i < n; ++i) mask[i] = (i * 7) % 5 != 0;
  const std::vector<std::uint8_t>* maskp = c.masked ? &mask : nullptr;
  RefAdam ref{random_nonzero<double>(n, 7), std::vector<double>(n, 0.0), std::vector<double>(n, 0.0)};
  std::vector<double> pd = ref.p, md(n, 0.0), vd(n, 0.0);
  std::vector<float> pf = test::cast_vector<float>(ref.p), mf(n, 0.0f), vf(n, 0.0f);
  ref.p = test::cast_vector<double>(pf);  // the float twin starts from the rounded values
  pd = ref.p;
  AdamStep h;
  h.lr = 3e-3f;
  h.beta1 = 0.85f;
  h.beta2 = 0.99f;
  h.eps = 1e-6f;
  h.weight_decay = c.wd;
  h.decoupled = c.decoupled;
  for (int step = 1; step <= 6; ++step) {
    h.step = step;
    const std::vector<float> gf = random_nonzero<float>(n, 100 + step, -2.0, 2.0);
    const std::vector<double> gd = test::cast_vector<double>(gf);
    ref.step(h, gd, maskp);
    adam_update_cpu<double>(n, h, pd.data(), gd.data(), md.data(), vd.data(), c.masked ? mask.data() : nullptr);
    adam_update(kCpu, n, h, pf.data(), gf.data(), mf.data(), vf.data(), c.masked ? mask.data() : nullptr);
  }
  for (std::int64_t i = 0; i < n; ++i) {
    EXPECT_NEAR(pd[i], ref.p[i], 1e-13) << i;
    EXPECT_NEAR(md[i], ref.m[i], 1e-14) << i;
    EXPECT_NEAR(vd[i], ref.v[i], 1e-14) << i;
    EXPECT_NEAR(pf[i], ref.p[i], 2e-6 * (1 + std::abs(ref.p[i]))) << i;
    EXPECT_NEAR(mf[i], ref.m[i], 1e-6 * (1 + std::abs(ref.m[i]))) << i;
    EXPECT_NEAR(vf[i], ref.v[i], 1e-6 * (1 + std::abs(ref.v[i]))) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, NnOptimAdam,
                         ::testing::Values(AdamCase{0.0f, true, false}, AdamCase{0.0f, false, true},
                                           AdamCase{0.05f, true, false}, AdamCase{0.05f, true, true},
                                           AdamCase{0.05f, false, false}, AdamCase{0.05f, false, true}));

TEST(NnOptim, L2AndDecoupledDecayDiffer) {
  const std::int64_t n = 50;
  const std::vector<float> p0 = random_nonzero<float>(n, 8), g = random_nonzero<float>(n, 9);
  AdamStep h;
  h.weight_decay = 0.2f;
  std::vector<float> pw = p0, pl = p0, mw(n, 0), vw(n, 0), ml(n, 0), vl(n, 0);
  h.decoupled = true;
  adam_update(kCpu, n, h, pw.data(), g.data(), mw.data(), vw.data(), nullptr);
  h.decoupled = false;
  adam_update(kCpu, n, h, pl.data(), g.data(), ml.data(), vl.data(), nullptr);
  int differ = 0;
  for (std::int64_t i = 0; i < n; ++i) differ += std::abs(pw[i] - pl[i]) > 1e-6f;
  EXPECT_GT(differ, n / 2);
  EXPECT_NE(ml, mw);  // L2 changes the moments, decoupled decay does not
}

TEST(NnOptim, ZeroDecayIgnoresMask) {
  const std::int64_t n = 33;
  const std::vector<float> p0 = random_nonzero<float>(n, 10), g = random_nonzero<float>(n, 11);
  const std::vector<std::uint8_t> mask(n, 0);
  AdamStep h;
  h.step = 3;
  std::vector<float> a = p0, b = p0, ma(n, 0.1f), va(n, 0.2f), mb = ma, vb = va;
  adam_update(kCpu, n, h, a.data(), g.data(), ma.data(), va.data(), nullptr);
  adam_update(kCpu, n, h, b.data(), g.data(), mb.data(), vb.data(), mask.data());
  EXPECT_EQ(a, b);
  EXPECT_EQ(ma, mb);
  EXPECT_EQ(va, vb);
  EXPECT_NE(a, p0);
}

TEST(NnOptim, AdamRejectsBadHyperparameters) {
  std::vector<float> p(4, 1.0f), g(4, 1.0f), m(4, 0.0f), v(4, 0.0f);
  auto run = [&](AdamStep h) { adam_update(kCpu, 4, h, p.data(), g.data(), m.data(), v.data(), nullptr); };
  AdamStep h;
  h.step = 0;
  EXPECT_THROW(run(h), Error);
  h = AdamStep{};
  h.beta1 = 1.0f;
  EXPECT_THROW(run(h), Error);
  h = AdamStep{};
  h.beta2 = -0.1f;
  EXPECT_THROW(run(h), Error);
  h = AdamStep{};
  h.lr = -1e-3f;
  EXPECT_THROW(run(h), Error);
  h = AdamStep{};
  h.weight_decay = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(run(h), Error);
  EXPECT_EQ(p, std::vector<float>(4, 1.0f));  // nothing was touched
}

TEST(NnOptim, SumSquaresMatchesDoubleSum) {
  EXPECT_EQ(sum_squares_workspace_bytes(kCpu, 1000), 0u);
  for (std::int64_t n : {0, 1, 3, 4, 1001, 100003}) {
    const std::vector<float> g = random_nonzero<float>(static_cast<std::size_t>(n), 12 + n, -3.0, 3.0);
    double ref = 0.0;
    for (float x : g) ref += static_cast<double>(x) * x;
    const double got = sum_squares(kCpu, n, g.data(), nullptr);
    EXPECT_NEAR(got, ref, 1e-13 * ref) << n;
    if (n > 0) {
      EXPECT_GT(got, 0.0);
    }
    std::vector<double> gd = test::cast_vector<double>(g);
    EXPECT_NEAR(sum_squares_cpu<double>(n, gd.data()), ref, 1e-13 * ref) << n;
  }
}

TEST(NnOptim, ScaleAndZero) {
  const std::int64_t n = 1003;
  const std::vector<float> g = random_nonzero<float>(n, 13);
  std::vector<float> s = g;
  scale(kCpu, n, 0.37f, s.data());
  for (std::int64_t i = 0; i < n; ++i) ASSERT_EQ(s[i], g[i] * 0.37f) << i;
  zero(kCpu, n, s.data());
  for (float x : s) ASSERT_EQ(x, 0.0f);
  EXPECT_THROW(zero(kCpu, -1, s.data()), Error);
}

}  // namespace
}  // namespace ser::nn
