// The CUDA optimizer kernels (kernels/optim.cu) against their CPU twins through the dispatch
// functions: Adam/AdamW over several steps (same arithmetic as the twin, so equal to within a few
// ulp — bit-equal expected), the deterministic sum of squares (against the double CPU sum, and the
// same bits on every call), scale and zero. Skips without a usable GPU.
#ifdef SER_WITH_CUDA

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "nn_test_util.hpp"
#include "ser/error.hpp"
#include "ser/nn/exec.hpp"
#include "ser/nn/optim_ops.hpp"
#include "test_util.hpp"

namespace ser::nn {
namespace {

using test::DeviceArray;
using test::random_nonzero;

const ExecContext kCpu{};

// Distance in units in the last place between two finite floats of the same sign region.
std::int64_t ulp_distance(float a, float b) {
  auto key = [](float x) {
    std::int32_t i;
    std::memcpy(&i, &x, sizeof i);
    return i < 0 ? static_cast<std::int64_t>(INT32_MIN) - i : static_cast<std::int64_t>(i);
  };
  return std::abs(key(a) - key(b));
}

void expect_ulp_close(const std::vector<float>& gpu, const std::vector<float>& cpu, std::int64_t max_ulp,
                      const std::string& what) {
  ASSERT_EQ(gpu.size(), cpu.size()) << what;
  std::size_t bad = 0;
  std::int64_t worst = 0;
  for (std::size_t i = 0; i < cpu.size(); ++i) {
    const std::int64_t d = std::isfinite(gpu[i]) ? ulp_distance(gpu[i], cpu[i]) : INT64_MAX;
    worst = std::max(worst, d);
    if (d > max_ulp && ++bad <= 5) ADD_FAILURE() << what << "[" << i << "]: gpu " << gpu[i] << ", cpu " << cpu[i];
  }
  EXPECT_EQ(bad, 0u) << what << ": worst " << worst << " ulp";
}

// Device copy of host data placed `offset` elements into a poisoned allocation.
template <typename T>
struct Placed {
  DeviceArray<T> dev;
  int offset;
  std::size_t count;
  Placed(const std::vector<T>& host, int off) : dev(host.size() + off), offset(off), count(host.size()) {
    SER_CUDA_CHECK(cudaMemcpy(dev.get() + off, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice));
  }
  T* get() const { return dev.get() + offset; }
  std::vector<T> download() const {
    const std::vector<T> all = dev.download();
    return std::vector<T>(all.begin() + offset, all.begin() + offset + static_cast<std::ptrdiff_t>(count));
  }
};

struct AdamCase {
  float wd;
  bool decoupled;
  bool masked;
  int offset;  // 0: float4 path, 1: scalar path
};

class NnOptimAdamCuda : public ::testing::TestWithParam<AdamCase> {};

TEST_P(NnOptimAdamCuda, MatchesCpuTwinOverSeveralSteps) {
  SER_SKIP_WITHOUT_GPU();
  const AdamCase c = GetParam();
  GpuHandles h;
  const ExecContext gpu = h.context(KernelPath::handwritten);
  for (std::int64_t n : {1, 5, 4099, 1000003}) {
    const std::string what = "n=" + std::to_string(n);
    std::vector<std::uint8_t> mask(n);
    for (std::int64_t i = 0; i < n; ++i) mask[i] = static_cast<std::uint8_t>((i * 7919) % 3 != 0);
    std::vector<float> p = random_nonzero<float>(n, 1 + n), m(n, 0.0f), v(n, 0.0f);
    Placed<float> dp(p, c.offset), dm(m, c.offset), dv(v, c.offset);
    Placed<std::uint8_t> dmask(mask, 0);
    AdamStep hp;
    hp.lr = 1e-2f;
    hp.weight_decay = c.wd;
    hp.decoupled = c.decoupled;
    for (int step = 1; step <= 5; ++step) {
      hp.step = step;
      const std::vector<float> g = random_nonzero<float>(n, 1000 * step + n, -3.0, 3.0);
      Placed<float> dg(g, c.offset);
      adam_update(kCpu, n, hp, p.data(), g.data(), m.data(), v.data(), c.masked ? mask.data() : nullptr);
      adam_update(gpu, n, hp, dp.get(), dg.get(), dm.get(), dv.get(), c.masked ? dmask.get() : nullptr);
      h.synchronize();
    }
    expect_ulp_close(dp.download(), p, 2, "params " + what);
    expect_ulp_close(dm.download(), m, 2, "m " + what);
    expect_ulp_close(dv.download(), v, 2, "v " + what);
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, NnOptimAdamCuda,
                         ::testing::Values(AdamCase{0.0f, true, false, 0}, AdamCase{0.1f, true, true, 0},
                                           AdamCase{0.1f, false, true, 0}, AdamCase{0.1f, true, false, 1},
                                           AdamCase{0.1f, false, true, 1}));

TEST(NnOptimCuda, SumSquaresMatchesDoubleSumAndIsDeterministic) {
  SER_SKIP_WITHOUT_GPU();
  GpuHandles h(true);
  const ExecContext gpu = h.context(KernelPath::handwritten);
  EXPECT_EQ(sum_squares_workspace_bytes(gpu, 0), 0u);
  EXPECT_EQ(sum_squares(gpu, 0, nullptr, nullptr), 0.0);
  for (std::int64_t n : {1, 3, 1000, 65537, 12345679})
    for (int off : {0, 1}) {
      const std::string what = "n=" + std::to_string(n) + " offset=" + std::to_string(off);
      const std::vector<float> g = random_nonzero<float>(n, 2 + n, -2.0, 2.0);
      double ref = 0.0;
      for (float x : g) ref += static_cast<double>(x) * x;
      Placed<float> dg(g, off);
      const std::size_t bytes = sum_squares_workspace_bytes(gpu, n);
      ASSERT_GE(bytes, 2 * sizeof(double)) << what;
      DeviceArray<std::uint8_t> ws(bytes);
      const double first = sum_squares(gpu, n, dg.get(), ws.get());
      EXPECT_NEAR(first, ref, 1e-12 * ref) << what;
      EXPECT_NEAR(first, sum_squares(kCpu, n, g.data(), nullptr), 1e-12 * ref) << what;
      for (int rep = 0; rep < 4; ++rep) {
        const double again = sum_squares(gpu, n, dg.get(), ws.get());
        EXPECT_EQ(std::memcmp(&again, &first, sizeof(double)), 0) << what << ": run " << rep << " gave " << again
                                                                   << " after " << first;
      }
    }
  DeviceArray<float> g(std::vector<float>(100, 1.0f));
  EXPECT_THROW(sum_squares(gpu, 100, g.get(), nullptr), Error);
}

TEST(NnOptimCuda, ScaleAndZeroMatchCpu) {
  SER_SKIP_WITHOUT_GPU();
  GpuHandles h;
  const ExecContext gpu = h.context(KernelPath::handwritten);
  for (std::int64_t n : {1, 7, 4096, 1000003})
    for (int off : {0, 1}) {
      const std::string what = "n=" + std::to_string(n) + " offset=" + std::to_string(off);
      std::vector<float> g = random_nonzero<float>(n, 3 + n);
      Placed<float> dg(g, off);
      scale(kCpu, n, 0.731f, g.data());
      scale(gpu, n, 0.731f, dg.get());
      h.synchronize();
      expect_ulp_close(dg.download(), g, 0, "scale " + what);
      zero(gpu, n, dg.get());
      h.synchronize();
      for (float x : dg.download()) ASSERT_EQ(x, 0.0f) << what;
    }
}

}  // namespace
}  // namespace ser::nn

#endif  // SER_WITH_CUDA
