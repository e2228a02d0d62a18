// The CUDA elementwise and layout kernels (kernels/elementwise.cu, kernels/layout.cu) against their
// CPU twins, through the dispatch functions on a GpuHandles context, and GpuHandles itself. Every op
// here does the twin's float operations in the same order (or is a pure copy), so the comparison is
// bit for bit. Outputs start poisoned with NaN; each op runs on 16-byte aligned buffers (float4 path)
// and on buffers offset by one float (scalar path). Skips without a usable GPU.
#ifdef SER_WITH_CUDA

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <tuple>
#include <vector>

#include "nn_test_util.hpp"
#include "ser/error.hpp"
#include "ser/nn/counter_rng.hpp"
#include "ser/nn/elementwise.hpp"
#include "ser/nn/exec.hpp"
#include "test_util.hpp"

namespace ser::nn {
namespace {

using test::DeviceArray;
using test::random_nonzero;

const ExecContext kCpu{};

void expect_bit_equal(const std::vector<float>& gpu, const std::vector<float>& cpu, const std::string& what) {
  ASSERT_EQ(gpu.size(), cpu.size()) << what;
  std::size_t bad = 0;
  for (std::size_t i = 0; i < cpu.size(); ++i)
    if (std::memcmp(&gpu[i], &cpu[i], sizeof(float)) != 0 && ++bad <= 5)
      ADD_FAILURE() << what << "[" << i << "]: gpu " << gpu[i] << ", cpu " << cpu[i];
  EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << cpu.size() << " elements differ";
}

// A device copy of `host` starting `offset` floats into its allocation (offset 1: not 16-byte
// aligned), the rest of the allocation poisoned.
class OffsetArray {
 public:
  OffsetArray(const std::vector<float>& host, int offset) : offset_(offset), count_(host.size()), dev_(host.size() + offset) {
    SER_CUDA_CHECK(cudaMemcpy(dev_.get() + offset, host.data(), host.size() * sizeof(float), cudaMemcpyHostToDevice));
  }
  OffsetArray(std::size_t count, int offset) : offset_(offset), count_(count), dev_(count + offset) {}  // NaN
  float* get() const { return dev_.get() + offset_; }
  std::vector<float> download() const {
    std::vector<float> all = dev_.download();
    return std::vector<float>(all.begin() + offset_, all.begin() + offset_ + static_cast<std::ptrdiff_t>(count_));
  }

 private:
  int offset_;
  std::size_t count_;
  DeviceArray<float> dev_;
};

const std::int64_t kCounts[] = {1, 3, 4, 7, 1000, 65537, 1000003};

// ---- GpuHandles ---------------------------------------------------------------------------------

TEST(NnExecCuda, GpuHandlesCreateBindAndDestroy) {
  SER_SKIP_WITHOUT_GPU();
  for (int round = 0; round < 3; ++round)
    for (bool det : {false, true}) {
      GpuHandles h(det);
      const ExecContext ctx = h.context(KernelPath::vendor);
      EXPECT_EQ(ctx.device, Device::cuda);
      EXPECT_EQ(ctx.kernels, KernelPath::vendor);
      EXPECT_EQ(ctx.deterministic, det);
      ASSERT_NE(ctx.stream, nullptr);
      ASSERT_NE(ctx.cublas, nullptr);
#ifdef SER_WITH_CUDNN
      EXPECT_NE(ctx.cudnn, nullptr);
#else
      EXPECT_EQ(ctx.cudnn, nullptr);
#endif
      unsigned flags = 0;
      ASSERT_EQ(cudaStreamGetFlags(static_cast<cudaStream_t>(ctx.stream), &flags), cudaSuccess);
      EXPECT_EQ(flags & cudaStreamNonBlocking, static_cast<unsigned>(cudaStreamNonBlocking));
      cudaStream_t bound = nullptr;
      ASSERT_EQ(cublasGetStream(static_cast<cublasHandle_t>(ctx.cublas), &bound), CUBLAS_STATUS_SUCCESS);
      EXPECT_EQ(bound, static_cast<cudaStream_t>(ctx.stream));
      cublasAtomicsMode_t mode{};
      ASSERT_EQ(cublasGetAtomicsMode(static_cast<cublasHandle_t>(ctx.cublas), &mode), CUBLAS_STATUS_SUCCESS);
      if (det) {
        EXPECT_EQ(mode, CUBLAS_ATOMICS_NOT_ALLOWED);
      }
      EXPECT_EQ(h.context(KernelPath::handwritten).kernels, KernelPath::handwritten);
      EXPECT_NO_THROW(h.synchronize());
    }
}

// ---- ReLU, add, accumulate ----------------------------------------------------------------------

TEST(NnElementwiseCuda, ReluMatchesCpuTwin) {
  SER_SKIP_WITHOUT_GPU();
  GpuHandles h;
  const ExecContext gpu = h.context(KernelPath::handwritten);
  for (std::int64_t n : kCounts)
    for (int off : {0, 1}) {
      const std::string what = "n=" + std::to_string(n) + " offset=" + std::to_string(off);
      const std::vector<float> x = random_nonzero<float>(n, 1 + n), dy = random_nonzero<float>(n, 2 + n);
      std::vector<float> y(n), dx(n);
      relu_forward(kCpu, n, x.data(), y.data());
      relu_backward(kCpu, n, y.data(), dy.data(), dx.data());
      OffsetArray dx_in(x, off), dy_out(n, off), ddy(dy, off), ddx(n, off);
      relu_forward(gpu, n, dx_in.get(), dy_out.get());
      relu_backward(gpu, n, dy_out.get(), ddy.get(), ddx.get());
      h.synchronize();
      expect_bit_equal(dy_out.download(), y, "relu_forward " + what);
      expect_bit_equal(ddx.download(), dx, "relu_backward " + what);
      relu_forward(gpu, n, dx_in.get(), dx_in.get());  // in place
      h.synchronize();
      expect_bit_equal(dx_in.download(), y, "relu_forward in place " + what);
    }
}

TEST(NnElementwiseCuda, AddAndAccumulateMatchCpuTwin) {
  SER_SKIP_WITHOUT_GPU();
  GpuHandles h;
  const ExecContext gpu = h.context(KernelPath::handwritten);
  for (std::int64_t n : kCounts)
    for (int off : {0, 1}) {
      const std::string what = "n=" + std::to_string(n) + " offset=" + std::to_string(off);
      const std::vector<float> a = random_nonzero<float>(n, 3 + n), b = random_nonzero<float>(n, 4 + n);
      std::vector<float> y(n), acc = b;
      add(kCpu, n, a.data(), b.data(), y.data());
      accumulate(kCpu, n, a.data(), acc.data());
      accumulate(kCpu, n, a.data(), acc.data());
      OffsetArray da(a, off), db(b, off), dyy(n, off), dacc(b, off);
      add(gpu, n, da.get(), db.get(), dyy.get());
      accumulate(gpu, n, da.get(), dacc.get());
      accumulate(gpu, n, da.get(), dacc.get());
      add(gpu, n, da.get(), db.get(), db.get());  // y == b
      h.synchronize();
      expect_bit_equal(dyy.download(), y, "add " + what);
      expect_bit_equal(db.download(), y, "add aliased " + what);
      expect_bit_equal(dacc.download(), acc, "accumulate " + what);
    }
}

// ---- dropout ------------------------------------------------------------------------------------

TEST(NnElementwiseCuda, DropoutMaskIsBitIdenticalToCpu) {
  SER_SKIP_WITHOUT_GPU();
  GpuHandles h;
  const ExecContext gpu = h.context(KernelPath::handwritten);
  for (std::int64_t n : kCounts)
    for (float p : {0.0f, 0.1f, 0.5f, 1.0f})
      for (int off : {0, 1}) {
        const std::string what = "n=" + std::to_string(n) + " p=" + std::to_string(p) + " offset=" + std::to_string(off);
        const std::uint64_t seed = 0x5eed0000u + static_cast<std::uint64_t>(n);
        const std::vector<float> x = random_nonzero<float>(n, 5 + n), dy = random_nonzero<float>(n, 6 + n);
        std::vector<float> y(n), dx(n);
        dropout_forward(kCpu, n, p, seed, x.data(), y.data());
        dropout_backward(kCpu, n, p, seed, dy.data(), dx.data());
        OffsetArray dxin(x, off), dyout(n, off), ddy(dy, off), ddx(n, off);
        dropout_forward(gpu, n, p, seed, dxin.get(), dyout.get());
        dropout_backward(gpu, n, p, seed, ddy.get(), ddx.get());
        h.synchronize();
        expect_bit_equal(dyout.download(), y, "dropout_forward " + what);
        expect_bit_equal(ddx.download(), dx, "dropout_backward " + what);
        dropout_forward(gpu, n, p, seed, dxin.get(), dxin.get());  // in place
        h.synchronize();
        expect_bit_equal(dxin.download(), y, "dropout_forward in place " + what);
      }
}

// ---- time mask ----------------------------------------------------------------------------------

TEST(NnElementwiseCuda, TimeMaskMatchesCpuTwin) {
  SER_SKIP_WITHOUT_GPU();
  GpuHandles h;
  const ExecContext gpu = h.context(KernelPath::handwritten);
  struct Shape {
    int n, c, t, f;
    std::vector<int> lengths;
  };
  const Shape shapes[] = {{4, 3, 7, 5, {7, 3, 0, 9}},
                          {2, 64, 301, 40, {301, 17}},
                          {5, 1, 1000, 1, {1000, 999, 1, 0, 500}},
                          {3, 33, 65, 3, {64, 65, 2}}};
  for (const Shape& s : shapes) {
    const std::string what = "shape " + std::to_string(s.n) + "x" + std::to_string(s.c) + "x" + std::to_string(s.t) +
                             "x" + std::to_string(s.f);
    const std::size_t count = static_cast<std::size_t>(s.n) * s.c * s.t * s.f;
    const std::vector<float> x = random_nonzero<float>(count, 7 + count);
    std::vector<float> y = x;
    time_mask(kCpu, s.n, s.c, s.t, s.f, s.lengths.data(), y.data());
    DeviceArray<float> dx(x);
    DeviceArray<int> dlen(s.lengths);
    time_mask(gpu, s.n, s.c, s.t, s.f, dlen.get(), dx.get());
    h.synchronize();
    expect_bit_equal(dx.download(), y, "time_mask " + what);
    DeviceArray<float> untouched(x);
    time_mask(gpu, s.n, s.c, s.t, s.f, nullptr, untouched.get());
    h.synchronize();
    expect_bit_equal(untouched.download(), x, "time_mask without lengths " + what);
  }
}

// ---- map <-> tokens -----------------------------------------------------------------------------

struct MapShape {
  int n, c, t, f;
};

class NnLayoutCuda : public ::testing::TestWithParam<MapShape> {};

TEST_P(NnLayoutCuda, PermutationsMatchCpuTwin) {
  SER_SKIP_WITHOUT_GPU();
  const auto [N, C, T, F] = GetParam();
  GpuHandles h;
  const ExecContext gpu = h.context(KernelPath::handwritten);
  const std::size_t count = static_cast<std::size_t>(N) * C * T * F;
  const std::vector<float> map = random_nonzero<float>(count, 8 + count), tok = random_nonzero<float>(count, 9 + count);
  std::vector<float> tokens(count), back(count);
  map_to_tokens(kCpu, N, C, T, F, map.data(), tokens.data());
  tokens_to_map(kCpu, N, C, T, F, tok.data(), back.data());
  DeviceArray<float> dmap(map), dtok(tok), dtokens(count), dback(count);
  map_to_tokens(gpu, N, C, T, F, dmap.get(), dtokens.get());
  tokens_to_map(gpu, N, C, T, F, dtok.get(), dback.get());
  h.synchronize();
  expect_bit_equal(dtokens.download(), tokens, "map_to_tokens");
  expect_bit_equal(dback.download(), back, "tokens_to_map");
}

// Edge tiles in every dimension: C not a multiple of 32, T not a multiple of the tile's time extent,
// F above the 64-bin chunk, F = 1 (a plain transpose), C = 1 (a copy).
INSTANTIATE_TEST_SUITE_P(Shapes, NnLayoutCuda,
                         ::testing::Values(MapShape{2, 3, 5, 7}, MapShape{1, 1, 300, 80}, MapShape{3, 64, 37, 5},
                                           MapShape{2, 33, 65, 3}, MapShape{1, 40, 7, 130}, MapShape{4, 128, 50, 1},
                                           MapShape{2, 256, 31, 16}, MapShape{1, 7, 1, 9}, MapShape{5, 1, 1, 1}));

// ---- concat -------------------------------------------------------------------------------------

TEST(NnElementwiseCuda, ConcatMatchesCpuTwin) {
  SER_SKIP_WITHOUT_GPU();
  GpuHandles h;
  const ExecContext gpu = h.context(KernelPath::handwritten);
  for (auto [N, Da, Db] : {std::tuple{5, 3, 7}, std::tuple{64, 256, 1}, std::tuple{33, 129, 130}}) {
    const std::string what = std::to_string(N) + "x(" + std::to_string(Da) + "+" + std::to_string(Db) + ")";
    const std::vector<float> a = random_nonzero<float>(N * Da, 10), b = random_nonzero<float>(N * Db, 11);
    const std::vector<float> dy = random_nonzero<float>(N * (Da + Db), 12);
    std::vector<float> y(N * (Da + Db)), da(N * Da), db(N * Db);
    concat(kCpu, N, Da, Db, a.data(), b.data(), y.data());
    concat_backward(kCpu, N, Da, Db, dy.data(), da.data(), db.data());
    DeviceArray<float> ga(a), gb(b), gy(y.size()), gdy(dy), gda(da.size()), gdb(db.size()), gda2(da.size()),
        gdb2(db.size());
    concat(gpu, N, Da, Db, ga.get(), gb.get(), gy.get());
    concat_backward(gpu, N, Da, Db, gdy.get(), gda.get(), gdb.get());
    concat_backward(gpu, N, Da, Db, gdy.get(), gda2.get(), nullptr);
    concat_backward(gpu, N, Da, Db, gdy.get(), nullptr, gdb2.get());
    h.synchronize();
    expect_bit_equal(gy.download(), y, "concat " + what);
    expect_bit_equal(gda.download(), da, "concat_backward d_a " + what);
    expect_bit_equal(gdb.download(), db, "concat_backward d_b " + what);
    expect_bit_equal(gda2.download(), da, "concat_backward d_a only " + what);
    expect_bit_equal(gdb2.download(), db, "concat_backward d_b only " + what);
  }
}

}  // namespace
}  // namespace ser::nn

#endif  // SER_WITH_CUDA
