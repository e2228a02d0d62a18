// The masked layer-norm kernels (kernels/layernorm.cu) against the CPU twin through the dispatch on
// a GpuHandles context: y, mean, rstd, dx, dgamma and dbeta on random non-zero tokens, with
// per-utterance lengths 0, 1, inside and past T, no lengths, D below, at and above a warp's width,
// and parameter gradients that start non-zero (they accumulate). The twin sums in double and the
// kernels in float, so they agree to float rounding: |gpu - cpu| <= 1e-5 (1 + |cpu|). Outputs start
// as NaN so an element a kernel never writes fails. Skips without a usable GPU.
#ifdef SER_WITH_CUDA
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "nn_test_util.hpp"
#include "ser/nn/exec.hpp"
#include "ser/nn/layernorm.hpp"
#include "test_util.hpp"

namespace ser::nn {
namespace {

using test::DeviceArray;
using test::random_nonzero;

void expect_close(const std::vector<float>& gpu, const std::vector<float>& cpu, const std::string& what) {
  ASSERT_EQ(gpu.size(), cpu.size()) << what;
  std::size_t bad = 0;
  for (std::size_t i = 0; i < cpu.size(); ++i)
    if (!(std::fabs(gpu[i] - cpu[i]) <= 1e-5f * (1 + std::fabs(cpu[i]))) && ++bad <= 5)
      ADD_FAILURE() << what << "[" << i << "]: gpu " << gpu[i] << ", cpu " << cpu[i];
  EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << cpu.size() << " elements differ";
}

TEST(NnLayerNormCuda, ForwardAndBackwardMatchCpuTwin) {
  SER_SKIP_WITHOUT_GPU();
  GpuHandles h;
  const ExecContext gpu = h.context(KernelPath::handwritten);
  const ExecContext cpu{};
  struct Case {
    int n, t, d;
    std::vector<int> lengths;  // empty: no lengths
  };
  const Case cases[] = {{4, 13, 256, {13, 9, 1, 0}}, {2, 38, 512, {38, 17}}, {3, 6, 20, {6, 2, 40}},
                        {2, 9, 32, {}}, {1, 1, 97, {1}}};
  for (const Case& c : cases) {
    const std::string what = "shape " + std::to_string(c.n) + "x" + std::to_string(c.t) + "x" + std::to_string(c.d);
    const std::size_t rows = static_cast<std::size_t>(c.n) * c.t, count = rows * c.d;
    const auto x = random_nonzero<float>(count, 3 + count, -2.0, 4.0);
    const auto gamma = random_nonzero<float>(static_cast<std::size_t>(c.d), 5 + count, 0.5, 1.5);
    const auto beta = random_nonzero<float>(static_cast<std::size_t>(c.d), 7 + count);
    const auto dy = random_nonzero<float>(count, 11 + count);
    const auto start = random_nonzero<float>(static_cast<std::size_t>(c.d), 13 + count);  // gradients accumulate
    const int* len = c.lengths.empty() ? nullptr : c.lengths.data();

    std::vector<float> y(count), mean(rows), rstd(rows), dx(count), dg = start, db = start;
    layer_norm_forward(cpu, c.n, c.t, c.d, kLayerNormEps, x.data(), gamma.data(), beta.data(), len, y.data(),
                       mean.data(), rstd.data());
    layer_norm_backward(cpu, c.n, c.t, c.d, x.data(), gamma.data(), mean.data(), rstd.data(), dy.data(), len,
                        dx.data(), dg.data(), db.data());

    DeviceArray<float> gx(x), gg(gamma), gb(beta), gdy(dy), gdg(start), gdb(start);
    DeviceArray<float> gy(count), gmean(rows), grstd(rows), gdx(count);  // start as NaN
    DeviceArray<int> glen(c.lengths.empty() ? std::vector<int>{0} : c.lengths);
    const int* dlen = c.lengths.empty() ? nullptr : glen.get();
    layer_norm_forward(gpu, c.n, c.t, c.d, kLayerNormEps, gx.get(), gg.get(), gb.get(), dlen, gy.get(), gmean.get(),
                       grstd.get());
    layer_norm_backward(gpu, c.n, c.t, c.d, gx.get(), gg.get(), gmean.get(), grstd.get(), gdy.get(), dlen, gdx.get(),
                        gdg.get(), gdb.get());
    h.synchronize();
    expect_close(gy.download(), y, what + " y");
    expect_close(gmean.download(), mean, what + " mean");
    expect_close(grstd.download(), rstd, what + " rstd");
    expect_close(gdx.download(), dx, what + " dx");
    expect_close(gdg.download(), dg, what + " dgamma");
    expect_close(gdb.download(), db, what + " dbeta");
  }
}

}  // namespace
}  // namespace ser::nn

#endif  // SER_WITH_CUDA
