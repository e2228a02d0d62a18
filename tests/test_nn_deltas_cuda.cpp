// The time deltas kernel (kernels/deltas.cu) against its CPU twin, bit for bit: orders 1 and 2,
// per-utterance lengths including 0, 1, 2 and past T, no lengths, and outputs that start as NaN so
// an element the kernel never writes fails.
#ifdef SER_WITH_CUDA
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "nn_test_util.hpp"
#include "ser/nn/deltas.hpp"
#include "ser/nn/exec.hpp"
#include "test_util.hpp"

namespace ser::nn {
namespace {

using test::DeviceArray;
using test::random_nonzero;

TEST(NnDeltasCuda, MatchesCpuTwinBitForBit) {
  SER_SKIP_WITHOUT_GPU();
  GpuHandles h;
  const ExecContext gpu = h.context(KernelPath::handwritten);
  const ExecContext cpu{};
  struct Case {
    int n, t, f, order;
    std::vector<int> lengths;  // empty: no lengths
  };
  const Case cases[] = {{4, 13, 8, 2, {13, 9, 1, 2}}, {2, 301, 64, 2, {301, 17}}, {3, 6, 5, 1, {0, 6, 40}},
                        {2, 33, 3, 2, {}}, {1, 1, 7, 2, {1}}};
  for (const Case& c : cases) {
    const std::string what = "shape " + std::to_string(c.n) + "x" + std::to_string(c.t) + "x" + std::to_string(c.f) +
                             " order " + std::to_string(c.order);
    const std::size_t count = static_cast<std::size_t>(c.n) * c.t * c.f;
    const std::vector<float> x = random_nonzero<float>(count, 3 + count, -4.0, 4.0);
    std::vector<float> want(count * (1 + c.order));
    const int* len = c.lengths.empty() ? nullptr : c.lengths.data();
    time_deltas(cpu, c.n, c.t, c.f, c.order, len, x.data(), want.data());
    DeviceArray<float> dx(x);
    DeviceArray<float> dy(want.size());  // starts as NaN
    DeviceArray<int> dlen(c.lengths.empty() ? std::vector<int>{0} : c.lengths);
    time_deltas(gpu, c.n, c.t, c.f, c.order, c.lengths.empty() ? nullptr : dlen.get(), dx.get(), dy.get());
    h.synchronize();
    const std::vector<float> got = dy.download();
    std::size_t bad = 0;
    for (std::size_t i = 0; i < want.size(); ++i)
      if (std::memcmp(&got[i], &want[i], sizeof(float)) != 0 && ++bad <= 5)
        ADD_FAILURE() << what << "[" << i << "]: gpu " << got[i] << ", cpu " << want[i];
    EXPECT_EQ(bad, 0u) << what;
  }
}

}  // namespace
}  // namespace ser::nn

#endif  // SER_WITH_CUDA
