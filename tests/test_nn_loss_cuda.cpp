// The fused softmax cross-entropy kernel (kernels/softmax_xent/cuda.cu) against the CPU twin, through the
// dispatch on a GpuHandles context: loss, probs and dlogits (poisoned with NaN first) with and without
// class weights, label smoothing and mixup, K below, at and above a warp, nullptr outputs, bitwise run-to-run determinism, a
// label out of range reported as ser::Error naming the row and label (and the context still usable
// after it), and N = 0. Skips without a usable GPU.
#ifdef SER_WITH_CUDA

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "nn_test_util.hpp"
#include "ser/error.hpp"
#include "ser/nn/exec.hpp"
#include "ser/nn/loss.hpp"
#include "test_util.hpp"

namespace ser::nn {
namespace {

using test::DeviceArray;
using test::nmse;
using test::random_nonzero;

std::vector<std::int32_t> labels_for(int n, int k, std::uint64_t seed) {
  std::vector<std::int32_t> y(n);
  for (int i = 0; i < n; ++i) y[i] = static_cast<std::int32_t>((seed * 7919 + std::uint64_t(i) * 104729) % k);
  return y;
}

void expect_close(const std::vector<float>& gpu, const std::vector<float>& cpu, double abs_tol, const std::string& what) {
  ASSERT_EQ(gpu.size(), cpu.size()) << what;
  std::size_t bad = 0;
  for (std::size_t i = 0; i < cpu.size(); ++i)
    if (!(std::abs(double(gpu[i]) - cpu[i]) <= abs_tol) && ++bad <= 5)
      ADD_FAILURE() << what << "[" << i << "]: gpu " << gpu[i] << ", cpu " << cpu[i];
  EXPECT_EQ(bad, 0u) << what;
  EXPECT_LE(nmse(gpu, cpu), 1e-10) << what;
}

TEST(SoftmaxXentCuda, MatchesCpuTwin) {
  SER_SKIP_WITHOUT_GPU();
  GpuHandles h;
  const ExecContext gpu = h.context(KernelPath::handwritten);
  struct Dims {
    int n, k;
  };
  std::uint64_t seed = 1;
  for (const Dims d : {Dims{1, 1}, Dims{7, 4}, Dims{64, 7}, Dims{33, 32}, Dims{1000, 37}, Dims{3, 300}, Dims{2050, 5}})
    for (bool weighted : {false, true}) {
      const std::string what = std::to_string(d.n) + "x" + std::to_string(d.k) + (weighted ? " weighted" : "");
      const std::size_t nk = std::size_t(d.n) * d.k;
      const auto z = random_nonzero<float>(nk, seed++, -4.0, 4.0);
      const auto y = labels_for(d.n, d.k, seed++);
      const auto w = random_nonzero<float>(d.k, seed++, 0.2, 3.0);
      const float* wp = weighted ? w.data() : nullptr;
      std::vector<float> dl_c(nk), pr_c(nk);
      const double loss_c = softmax_xent_cpu<float>(d.n, d.k, z.data(), y.data(), wp, dl_c.data(), pr_c.data());

      DeviceArray<float> d_z(z), d_w(w);
      DeviceArray<std::int32_t> d_y(y);
      double first = 0;
      for (int run = 0; run < 2; ++run) {
        DeviceArray<float> d_dl(nk), d_pr(nk);  // NaN
        const double loss = softmax_xent(gpu, d.n, d.k, d_z.get(), d_y.get(), weighted ? d_w.get() : nullptr,
                                         d_dl.get(), d_pr.get());
        if (run == 1) {
          EXPECT_EQ(std::memcmp(&loss, &first, sizeof loss), 0) << what << " loss not deterministic";
          continue;
        }
        first = loss;
        EXPECT_NEAR(loss, loss_c, 2e-6 * (1 + std::abs(loss_c))) << what;
        expect_close(d_pr.download(), pr_c, 1e-6, what + " probs");
        expect_close(d_dl.download(), dl_c, 1e-6, what + " dlogits");
      }
      // Evaluation: no outputs, the same loss.
      EXPECT_EQ(softmax_xent(gpu, d.n, d.k, d_z.get(), d_y.get(), weighted ? d_w.get() : nullptr, nullptr, nullptr),
                first)
          << what;
    }
}


// The kernel against the twin on random logits (outputs NaN-poisoned first): loss, probs, dlogits,
// with label smoothing eps and, when `mixed`, mixup labels weighted by lambda.
void expect_targets_match_twin(const ExecContext& gpu, int n, int k, bool weighted, float eps, bool mixed,
                               float lambda, std::uint64_t seed) {
  const std::string what = std::to_string(n) + "x" + std::to_string(k) + (weighted ? " weighted" : "") + " eps " +
                           std::to_string(eps) + (mixed ? " lambda " + std::to_string(lambda) : "");
  const std::size_t nk = std::size_t(n) * k;
  const auto z = random_nonzero<float>(nk, seed, -4.0, 4.0);
  const auto ya = labels_for(n, k, seed + 1), yb = labels_for(n, k, seed * 5 + 2);
  const auto w = random_nonzero<float>(k, seed + 2, 0.2, 3.0);
  std::vector<float> dl_c(nk), pr_c(nk);
  const double loss_c = softmax_xent_cpu<float>(n, k, z.data(), ya.data(), weighted ? w.data() : nullptr, dl_c.data(),
                                                pr_c.data(), XentTargets{eps, mixed ? yb.data() : nullptr, lambda});
  DeviceArray<float> d_z(z), d_w(w), d_dl(nk), d_pr(nk);  // outputs NaN
  DeviceArray<std::int32_t> d_ya(ya), d_yb(yb);
  const double loss = softmax_xent(gpu, n, k, d_z.get(), d_ya.get(), weighted ? d_w.get() : nullptr, d_dl.get(),
                                   d_pr.get(), XentTargets{eps, mixed ? d_yb.get() : nullptr, lambda});
  EXPECT_NEAR(loss, loss_c, 2e-6 * (1 + std::abs(loss_c))) << what;
  expect_close(d_pr.download(), pr_c, 1e-6, what + " probs");
  expect_close(d_dl.download(), dl_c, 1e-6, what + " dlogits");
}

// Label smoothing (eps > 0) against the twin, K below, at and above a warp; eps = 0 through the same
// argument is the plain loss bit for bit.
TEST(SoftmaxXentCuda, LabelSmoothingMatchesCpuTwin) {
  SER_SKIP_WITHOUT_GPU();
  GpuHandles h;
  const ExecContext gpu = h.context(KernelPath::handwritten);
  // One launch is 1024 emulated threads: two cases per shape keep the emulator runs short.
  std::uint64_t seed = 101;
  for (const auto& [n, k] : {std::pair{7, 4}, std::pair{33, 32}, std::pair{3, 300}}) {
    expect_targets_match_twin(gpu, n, k, true, 0.1f, false, 1.0f, seed += 10);
    expect_targets_match_twin(gpu, n, k, false, 0.35f, false, 1.0f, seed += 10);
  }
  const int n = 9, k = 6;
  const auto z = random_nonzero<float>(n * k, 7, -3.0, 3.0);
  const auto y = labels_for(n, k, 8);
  DeviceArray<float> d_z(z), d_a(n * k), d_b(n * k);
  DeviceArray<std::int32_t> d_y(y);
  const double plain = softmax_xent(gpu, n, k, d_z.get(), d_y.get(), nullptr, d_a.get(), nullptr);
  const double zero = softmax_xent(gpu, n, k, d_z.get(), d_y.get(), nullptr, d_b.get(), nullptr, XentTargets{});
  EXPECT_EQ(std::memcmp(&plain, &zero, sizeof plain), 0);
  const auto a = d_a.download(), b = d_b.download();
  EXPECT_EQ(std::memcmp(a.data(), b.data(), sizeof(float) * a.size()), 0);
}

// Mixup (with and without smoothing): the mixed loss and gradient against the twin; a bad mixup label
// is reported naming it.
TEST(SoftmaxXentCuda, MixupMatchesCpuTwin) {
  SER_SKIP_WITHOUT_GPU();
  GpuHandles h;
  const ExecContext gpu = h.context(KernelPath::handwritten);
  expect_targets_match_twin(gpu, 7, 4, true, 0.0f, true, 0.3f, 201);
  expect_targets_match_twin(gpu, 33, 32, false, 0.1f, true, 0.8f, 202);
  expect_targets_match_twin(gpu, 3, 300, true, 0.2f, true, 0.5f, 203);
  const std::vector<std::int32_t> ya = {0, 1, 2}, yb = {1, 2, 7};
  DeviceArray<float> d_z(random_nonzero<float>(12, 9)), d_dl(12);
  DeviceArray<std::int32_t> d_ya(ya), d_yb(yb);
  try {
    softmax_xent(gpu, 3, 4, d_z.get(), d_ya.get(), nullptr, d_dl.get(), nullptr, XentTargets{0.0, d_yb.get(), 0.5});
    ADD_FAILURE() << "no error for mixup label 7";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("mixup label 7 of row 2"), std::string::npos) << e.what();
  }
}

TEST(SoftmaxXentCuda, LabelOutOfRangeIsAnErrorNamingRowAndLabel) {
  SER_SKIP_WITHOUT_GPU();
  GpuHandles h;
  const ExecContext gpu = h.context(KernelPath::handwritten);
  const int n = 50, k = 6;
  const auto z = random_nonzero<float>(n * k, 5);
  DeviceArray<float> d_z(z), d_dl(std::size_t(n) * k);
  for (std::int32_t bad : {-1, 6, 1000}) {
    std::vector<std::int32_t> y = labels_for(n, k, 6);
    y[41] = bad;
    y[17] = bad;  // the first bad row is reported
    DeviceArray<std::int32_t> d_y(y);
    try {
      softmax_xent(gpu, n, k, d_z.get(), d_y.get(), nullptr, d_dl.get(), nullptr);
      ADD_FAILURE() << "no error for label " << bad;
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("row 17"), std::string::npos) << msg;
      EXPECT_NE(msg.find("label " + std::to_string(bad)), std::string::npos) << msg;
    }
  }
  // The stream and context are fine afterwards.
  const auto y = labels_for(n, k, 7);
  DeviceArray<std::int32_t> d_y(y);
  const double want = softmax_xent_cpu<float>(n, k, z.data(), y.data(), nullptr, nullptr, nullptr);
  EXPECT_NEAR(softmax_xent(gpu, n, k, d_z.get(), d_y.get(), nullptr, d_dl.get(), nullptr), want, 1e-5);
  EXPECT_EQ(softmax_xent(gpu, 0, k, nullptr, nullptr, nullptr, nullptr, nullptr), 0.0);
}

}  // namespace
}  // namespace ser::nn

#endif  // SER_WITH_CUDA
