// Softmax cross-entropy, CPU twin (kernels/softmax_xent/cpu.cpp): loss, probabilities and gradient
// against a naive reference (with and without class weights, float and double), the gradient against
// central finite differences of the loss in double, stability at large logits, labels out of range,
// nullptr outputs, the overwrite contract of dlogits, N = 0, and label smoothing against PyTorch's
// definition (loss from its formula, gradient by finite differences).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "nn_test_util.hpp"
#include "ser/error.hpp"
#include "ser/nn/loss.hpp"
#include "test_util.hpp"

namespace ser::nn {
namespace {

using test::cast_vector;
using test::expect_gradient_matches;
using test::random_nonzero;

const ExecContext kCpu{};
const float kNaN = std::numeric_limits<float>::quiet_NaN();

std::vector<std::int32_t> labels_for(int n, int k, std::uint64_t seed) {
  std::vector<std::int32_t> y(n);
  for (int i = 0; i < n; ++i) y[i] = static_cast<std::int32_t>((seed * 7919 + std::uint64_t(i) * 104729) % k);
  return y;
}

// The textbook formulas: p = exp(z) / Σ exp(z) (no max shift; inputs are small),
// loss = Σ w_y (-log p_y) / Σ w_y, dlogits = w_y (p - onehot) / Σ w_y.
struct Ref {
  double loss;
  std::vector<double> probs, dlogits;
};
Ref reference(int n, int k, const std::vector<double>& z, const std::vector<std::int32_t>& y,
              const std::vector<double>* w) {
  Ref r{0.0, std::vector<double>(std::size_t(n) * k), std::vector<double>(std::size_t(n) * k)};
  double wsum = 0;
  for (int i = 0; i < n; ++i) wsum += w ? (*w)[y[i]] : 1.0;
  for (int i = 0; i < n; ++i) {
    double se = 0;
    for (int j = 0; j < k; ++j) se += std::exp(z[std::size_t(i) * k + j]);
    const double wi = w ? (*w)[y[i]] : 1.0;
    for (int j = 0; j < k; ++j) {
      const double p = std::exp(z[std::size_t(i) * k + j]) / se;
      r.probs[std::size_t(i) * k + j] = p;
      r.dlogits[std::size_t(i) * k + j] = wi * (p - (j == y[i] ? 1.0 : 0.0)) / wsum;
    }
    r.loss += wi * -std::log(r.probs[std::size_t(i) * k + y[i]]);
  }
  r.loss /= wsum;
  return r;
}

TEST(SoftmaxXentCpu, MatchesNaiveReference) {
  struct Dims {
    int n, k;
  };
  std::uint64_t seed = 1;
  for (const Dims d : {Dims{1, 1}, Dims{5, 4}, Dims{17, 7}, Dims{3, 40}})
    for (bool weighted : {false, true}) {
      const auto z = random_nonzero<double>(std::size_t(d.n) * d.k, seed++, -3.0, 3.0);
      const auto y = labels_for(d.n, d.k, seed++);
      const auto w = random_nonzero<double>(d.k, seed++, 0.2, 3.0);
      const Ref ref = reference(d.n, d.k, z, y, weighted ? &w : nullptr);
      const std::string what = std::to_string(d.n) + "x" + std::to_string(d.k) + (weighted ? " weighted" : "");

      std::vector<double> dl(z.size(), 9.0), pr(z.size(), 9.0);
      const double loss = softmax_xent_cpu<double>(d.n, d.k, z.data(), y.data(), weighted ? w.data() : nullptr,
                                                   dl.data(), pr.data());
      EXPECT_NEAR(loss, ref.loss, 1e-13 * (1 + ref.loss)) << what;
      for (std::size_t i = 0; i < z.size(); ++i) {
        ASSERT_NEAR(pr[i], ref.probs[i], 1e-15) << what << " probs " << i;
        ASSERT_NEAR(dl[i], ref.dlogits[i], 1e-15) << what << " dlogits " << i;
      }

      const auto zf = cast_vector<float>(z), wf = cast_vector<float>(w);
      std::vector<float> dlf(z.size(), kNaN), prf(z.size(), kNaN);
      const double lf = softmax_xent(kCpu, d.n, d.k, zf.data(), y.data(), weighted ? wf.data() : nullptr, dlf.data(),
                                     prf.data());
      EXPECT_NEAR(lf, ref.loss, 1e-6 * (1 + ref.loss)) << what;
      for (std::size_t i = 0; i < z.size(); ++i) {
        ASSERT_NEAR(prf[i], ref.probs[i], 1e-6) << what << " probs " << i;
        ASSERT_NEAR(dlf[i], ref.dlogits[i], 1e-6) << what << " dlogits " << i;
      }
    }
}

TEST(SoftmaxXentCpu, GradientMatchesFiniteDifferences) {
  const int n = 6, k = 5;
  const auto y = labels_for(n, k, 3);
  const auto w = random_nonzero<double>(k, 4, 0.2, 3.0);
  for (bool weighted : {false, true}) {
    std::vector<double> z = random_nonzero<double>(std::size_t(n) * k, 5, -2.0, 2.0);
    const double* wp = weighted ? w.data() : nullptr;
    std::vector<double> dl(z.size());
    softmax_xent_cpu<double>(n, k, z.data(), y.data(), wp, dl.data(), nullptr);
    const auto f = [&] { return softmax_xent_cpu<double>(n, k, z.data(), y.data(), wp, nullptr, nullptr); };
    expect_gradient_matches(weighted ? "xent dlogits (weighted)" : "xent dlogits", z, dl, f);
  }
}

TEST(SoftmaxXentCpu, StableAtLargeLogits) {
  const std::vector<float> z = {1000.0f, 999.0f, -1000.0f, 88.0f, 89.0f, 90.0f};
  const std::vector<std::int32_t> y = {1, 0};
  std::vector<float> dl(6), pr(6);
  const double loss = softmax_xent_cpu<float>(2, 3, z.data(), y.data(), nullptr, dl.data(), pr.data());
  const double l0 = std::log(1 + std::exp(-1.0)) + 1.0;                          // row 0, label 999
  const double l1 = std::log(std::exp(-2.0) + std::exp(-1.0) + 1.0) + 2.0;       // row 1, label 88
  EXPECT_NEAR(loss, (l0 + l1) / 2, 1e-12);
  for (float v : dl) EXPECT_TRUE(std::isfinite(v));
  EXPECT_EQ(pr[2], 0.0f);
}

TEST(SoftmaxXentCpu, LabelOutOfRangeThrowsNamingRowAndLabel) {
  const std::vector<float> z = random_nonzero<float>(12, 6);
  for (std::int32_t bad : {-1, 4, 100}) {
    const std::vector<std::int32_t> y = {0, 3, bad};
    std::vector<float> dl(12, kNaN);
    try {
      softmax_xent(kCpu, 3, 4, z.data(), y.data(), nullptr, dl.data(), nullptr);
      ADD_FAILURE() << "no throw for label " << bad;
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("row 2"), std::string::npos) << msg;
      EXPECT_NE(msg.find("label " + std::to_string(bad)), std::string::npos) << msg;
    }
  }
}

TEST(SoftmaxXentCpu, OutputsOptionalAndOverwritten) {
  const int n = 4, k = 3;
  const auto z = random_nonzero<float>(12, 7);
  const auto y = labels_for(n, k, 8);
  const std::vector<float> w = {0.5f, 2.0f, 1.5f};
  std::vector<float> dl(12, kNaN), pr(12, kNaN);
  const double l_full = softmax_xent(kCpu, n, k, z.data(), y.data(), w.data(), dl.data(), pr.data());
  for (float v : dl) EXPECT_TRUE(std::isfinite(v));
  for (float v : pr) EXPECT_TRUE(std::isfinite(v));
  std::vector<float> dl2(12, 5.0f);
  EXPECT_EQ(softmax_xent(kCpu, n, k, z.data(), y.data(), w.data(), dl2.data(), nullptr), l_full);
  EXPECT_EQ(dl2, dl);
  EXPECT_EQ(softmax_xent(kCpu, n, k, z.data(), y.data(), w.data(), nullptr, nullptr), l_full);
  // Each row's gradient sums to 0; the rows' probabilities to 1.
  for (int i = 0; i < n; ++i) {
    double sd = 0, sp = 0;
    for (int j = 0; j < k; ++j) {
      sd += dl[i * k + j];
      sp += pr[i * k + j];
    }
    EXPECT_NEAR(sd, 0.0, 1e-7);
    EXPECT_NEAR(sp, 1.0, 1e-6);
  }
}

// PyTorch's label-smoothed cross-entropy, written as its source computes it (LossNLL.cpp,
// cross_entropy_loss_label_smoothing): (1 - eps) * the weighted-mean NLL + (eps / K) *
// Σ_n Σ_j w_j (-log p_nj) / Σ_n w_yn, from log-softmax in double.
double pytorch_smoothed_loss(int n, int k, const std::vector<double>& z, const std::vector<std::int32_t>& y,
                             const std::vector<double>* w, double eps) {
  double nll = 0, smooth = 0, wsum = 0;
  for (int i = 0; i < n; ++i) {
    double se = 0;
    for (int j = 0; j < k; ++j) se += std::exp(z[std::size_t(i) * k + j]);
    const auto logp = [&](int j) { return z[std::size_t(i) * k + j] - std::log(se); };
    const double wy = w ? (*w)[y[i]] : 1.0;
    nll += wy * -logp(y[i]);
    wsum += wy;
    for (int j = 0; j < k; ++j) smooth += (w ? (*w)[j] : 1.0) * -logp(j);
  }
  return (1 - eps) * (nll / wsum) + (eps / k) * (smooth / wsum);
}

TEST(SoftmaxXentCpu, LabelSmoothingIsPyTorchsLossAndItsGradient) {
  const int n = 7, k = 5;
  std::uint64_t seed = 40;
  for (bool weighted : {false, true})
    for (double eps : {0.05, 0.1, 0.5, 0.9}) {
      const std::string what = std::string(weighted ? "weighted" : "unweighted") + " eps " + std::to_string(eps);
      std::vector<double> z = random_nonzero<double>(std::size_t(n) * k, seed++, -3.0, 3.0);
      const auto y = labels_for(n, k, seed++);
      const auto w = random_nonzero<double>(k, seed++, 0.2, 3.0);
      const double* wp = weighted ? w.data() : nullptr;
      std::vector<double> dl(z.size(), 9.0), pr(z.size(), 9.0);
      const XentTargets smooth{eps};
      const double loss = softmax_xent_cpu<double>(n, k, z.data(), y.data(), wp, dl.data(), pr.data(), smooth);
      EXPECT_NEAR(loss, pytorch_smoothed_loss(n, k, z, y, weighted ? &w : nullptr, eps), 1e-13) << what;
      const Ref plain = reference(n, k, z, y, weighted ? &w : nullptr);
      for (std::size_t i = 0; i < z.size(); ++i) ASSERT_NEAR(pr[i], plain.probs[i], 1e-15) << what << " probs " << i;
      const auto f = [&] { return softmax_xent_cpu<double>(n, k, z.data(), y.data(), wp, nullptr, nullptr, smooth); };
      expect_gradient_matches("smoothed xent dlogits, " + what, z, dl, f);
      // The float dispatch agrees with the double twin.
      const auto zf = cast_vector<float>(z), wf = cast_vector<float>(w);
      std::vector<float> dlf(z.size(), kNaN);
      const double lf = softmax_xent(kCpu, n, k, zf.data(), y.data(), weighted ? wf.data() : nullptr, dlf.data(),
                                     nullptr, smooth);
      EXPECT_NEAR(lf, loss, 1e-6 * (1 + loss)) << what;
      for (std::size_t i = 0; i < z.size(); ++i) ASSERT_NEAR(dlf[i], dl[i], 1e-6) << what << " dlogits " << i;
    }
}

TEST(SoftmaxXentCpu, NoSmoothingIsThePlainLossBitForBitAndOutOfRangeSmoothingThrows) {
  const int n = 6, k = 4;
  const auto z = random_nonzero<float>(n * k, 50);
  const auto y = labels_for(n, k, 51);
  const std::vector<float> w = {0.5f, 2.0f, 1.5f, 0.7f};
  std::vector<float> a(n * k), b(n * k);
  const double plain = softmax_xent(kCpu, n, k, z.data(), y.data(), w.data(), a.data(), nullptr);
  const double zero = softmax_xent(kCpu, n, k, z.data(), y.data(), w.data(), b.data(), nullptr, XentTargets{0.0});
  EXPECT_EQ(std::memcmp(&plain, &zero, sizeof plain), 0);
  EXPECT_EQ(a, b);
  for (double bad : {-0.1, 1.0, 1.5, double(kNaN)})
    EXPECT_THROW(softmax_xent(kCpu, n, k, z.data(), y.data(), w.data(), a.data(), nullptr, XentTargets{bad}), Error)
        << bad;
}

// Mixup: the loss is lambda L(a) + (1 - lambda) L(b), each normalised by its own label weights
// (the reference code's lam * criterion(pred, y_a) + (1 - lam) * criterion(pred, y_b)), with and
// without smoothing; the gradient is the same mixture and matches finite differences.
TEST(SoftmaxXentCpu, MixupIsTheMixtureOfTheTwoLossesAndItsGradient) {
  const int n = 8, k = 5;
  std::uint64_t seed = 60;
  for (bool weighted : {false, true})
    for (double eps : {0.0, 0.2})
      for (double lambda : {0.0, 0.3, 1.0}) {
        const std::string what = std::string(weighted ? "weighted" : "unweighted") + " eps " + std::to_string(eps) +
                                 " lambda " + std::to_string(lambda);
        std::vector<double> z = random_nonzero<double>(std::size_t(n) * k, seed++, -3.0, 3.0);
        const auto ya = labels_for(n, k, seed++), yb = labels_for(n, k, seed++ * 3 + 1);
        const auto w = random_nonzero<double>(k, seed++, 0.2, 3.0);
        const double* wp = weighted ? w.data() : nullptr;
        std::vector<double> da(z.size()), db(z.size()), dm(z.size(), 9.0);
        const double la = softmax_xent_cpu<double>(n, k, z.data(), ya.data(), wp, da.data(), nullptr, XentTargets{eps});
        const double lb = softmax_xent_cpu<double>(n, k, z.data(), yb.data(), wp, db.data(), nullptr, XentTargets{eps});
        const XentTargets mix{eps, yb.data(), lambda};
        const double lm = softmax_xent_cpu<double>(n, k, z.data(), ya.data(), wp, dm.data(), nullptr, mix);
        EXPECT_NEAR(lm, lambda * la + (1 - lambda) * lb, 1e-14) << what;
        for (std::size_t i = 0; i < z.size(); ++i)
          ASSERT_NEAR(dm[i], lambda * da[i] + (1 - lambda) * db[i], 1e-15) << what << " dlogits " << i;
        const auto f = [&] { return softmax_xent_cpu<double>(n, k, z.data(), ya.data(), wp, nullptr, nullptr, mix); };
        expect_gradient_matches("mixup xent dlogits, " + what, z, dm, f);
      }
  // A mixup label out of range, or a weight outside [0, 1], is an error naming it.
  const auto z = random_nonzero<float>(3 * 4, 70);
  const std::vector<std::int32_t> ya = {0, 1, 2}, yb = {3, 4, 0};
  const std::string msg = test::error_of([&] {
    softmax_xent(kCpu, 3, 4, z.data(), ya.data(), nullptr, nullptr, nullptr, XentTargets{0.0, yb.data(), 0.5});
  });
  EXPECT_NE(msg.find("mixup label 4 of row 1"), std::string::npos) << msg;
  for (double bad : {-0.01, 1.01, double(kNaN)})
    EXPECT_THROW(softmax_xent(kCpu, 3, 4, z.data(), ya.data(), nullptr, nullptr, nullptr, XentTargets{0.0, ya.data(), bad}),
                 Error)
        << bad;
}

TEST(SoftmaxXentCpu, EmptyBatchAndBadShapes) {
  EXPECT_EQ(softmax_xent(kCpu, 0, 4, nullptr, nullptr, nullptr, nullptr, nullptr), 0.0);
  const std::vector<float> z(4, 1.0f);
  const std::vector<std::int32_t> y = {0};
  EXPECT_THROW(softmax_xent(kCpu, 1, 0, z.data(), y.data(), nullptr, nullptr, nullptr), Error);
  EXPECT_THROW(softmax_xent(kCpu, -1, 4, z.data(), y.data(), nullptr, nullptr, nullptr), Error);
}

}  // namespace
}  // namespace ser::nn
