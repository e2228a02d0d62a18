// 2-D convolution on the GPU — the hand-written implicit-GEMM kernels (kernels/conv2d/cuda.cu) and the
// cuDNN vendor path (kernels/conv2d/cudnn.cu) — against the CPU twin, through the dispatch functions
// on a GpuHandles context. Odd shapes (strides 1-3, non-square kernels, paddings 0-2, every tile
// size, split-K) and the models' shapes. Outputs start poisoned with NaN; dw/db start from random
// values (accumulation); the hand-written backward must be bit-identical across runs. Skips
// without a usable GPU.
#ifdef SER_WITH_CUDA

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "nn_test_util.hpp"
#include "ser/error.hpp"
#include "ser/nn/conv.hpp"
#include "ser/nn/exec.hpp"
#include "test_util.hpp"

namespace ser::nn {
namespace {

using test::DeviceArray;
using test::random_nonzero;

std::size_t x_size(const Conv2dShape& s) { return std::size_t(s.n) * s.c_in * s.h * s.w; }
std::size_t y_size(const Conv2dShape& s) { return std::size_t(s.n) * s.c_out * s.h_out() * s.w_out(); }
std::size_t w_size(const Conv2dShape& s) { return std::size_t(s.c_out) * s.c_in * s.kh * s.kw; }

Conv2dShape shape(int n, int c_in, int h, int w, int c_out, int kh = 3, int kw = 3, int sh = 1, int sw = 1, int ph = 1,
                  int pw = 1) {
  Conv2dShape s;
  s.n = n, s.c_in = c_in, s.h = h, s.w = w, s.c_out = c_out;
  s.kh = kh, s.kw = kw, s.sh = sh, s.sw = sw, s.ph = ph, s.pw = pw;
  return s;
}

std::string describe(const Conv2dShape& s) {
  return "N" + std::to_string(s.n) + " Cin" + std::to_string(s.c_in) + " " + std::to_string(s.h) + "x" +
         std::to_string(s.w) + " Cout" + std::to_string(s.c_out) + " k" + std::to_string(s.kh) + "x" +
         std::to_string(s.kw) + " s" + std::to_string(s.sh) + "x" + std::to_string(s.sw) + " p" +
         std::to_string(s.ph) + "x" + std::to_string(s.pw);
}

// Odd shapes: every branch of the kernels (3x3/s1 fast path, generic kernel sizes, strides 2-3 in
// the dx gather, 1x1, tiles of 16/32/64/128 rows incl. ragged ones, many split-K partials).
std::vector<Conv2dShape> odd_shapes() {
  return {
      shape(2, 3, 7, 5, 4),                     shape(1, 2, 9, 8, 3, 3, 2, 2, 1, 1, 0),
      shape(3, 1, 6, 7, 5, 1, 1, 1, 1, 0, 0),   shape(2, 4, 11, 10, 3, 5, 3, 2, 2, 2, 1),
      shape(1, 3, 5, 13, 2, 2, 4, 1, 3, 0, 2),  shape(2, 2, 8, 9, 3, 3, 3, 2, 2, 0, 0),
      shape(2, 3, 7, 6, 2, 1, 1, 2, 2, 0, 0),   shape(1, 2, 4, 5, 3, 3, 3, 1, 1, 2, 2),
      shape(1, 5, 3, 3, 7, 3, 3, 3, 3, 1, 1),   shape(2, 16, 20, 16, 32),
      shape(1, 33, 9, 8, 20),                   shape(2, 8, 12, 8, 64),
      shape(1, 70, 6, 8, 100),                  shape(1, 9, 7, 9, 130, 3, 3, 2, 2, 1, 1),
      shape(2, 2, 64, 32, 16),                  shape(1, 20, 17, 13, 16, 3, 5, 2, 1, 1, 2),
      shape(3, 17, 33, 31, 129),
  };
}

// The shapes of the models: 3x3 / stride 1 / padding 1 over (time, mel) maps.
std::vector<Conv2dShape> model_shapes() {
  return {shape(16, 1, 100, 64, 16), shape(16, 16, 100, 64, 32), shape(16, 32, 100, 32, 64),
          shape(16, 64, 100, 16, 128), shape(32, 64, 400, 8, 64), shape(16, 128, 101, 8, 128)};
}

// fp32 against the fp32 CPU twin: different summation orders only (sums of up to ~10^5 terms in
// the models' dw, hence the looser bound there).
void expect_close(const std::vector<float>& gpu, const std::vector<float>& cpu, const std::string& what,
                  double max_nmse = 1e-10) {
  ASSERT_EQ(gpu.size(), cpu.size()) << what;
  double max_abs = 0, max_ref = 0;
  for (std::size_t i = 0; i < cpu.size(); ++i) {
    ASSERT_TRUE(std::isfinite(gpu[i])) << what << "[" << i << "] = " << gpu[i] << " (not written?)";
    max_abs = std::max(max_abs, std::abs(double(gpu[i]) - cpu[i]));
    max_ref = std::max(max_ref, std::abs(double(cpu[i])));
  }
  EXPECT_LT(test::nmse(gpu, cpu), max_nmse) << what;
  EXPECT_LE(max_abs, 1e-4 * std::max(1.0, max_ref)) << what;
}

struct Result {
  std::vector<float> y, dx, dw, db;
};

struct Problem {
  Conv2dShape s;
  std::vector<float> x, w, b, dy, dw0, db0;  // dw0 / db0: what the gradients hold before backward
  Problem(const Conv2dShape& s_, std::uint64_t seed)
      : s(s_),
        x(random_nonzero<float>(x_size(s_), seed)),
        w(random_nonzero<float>(w_size(s_), seed + 1)),
        b(random_nonzero<float>(s_.c_out, seed + 2)),
        dy(random_nonzero<float>(y_size(s_), seed + 3)),
        dw0(random_nonzero<float>(w_size(s_), seed + 4)),
        db0(random_nonzero<float>(s_.c_out, seed + 5)) {}

  Result cpu(bool bias = true) const {
    Result r{std::vector<float>(y_size(s)), std::vector<float>(x_size(s)), dw0, db0};
    conv2d_forward_cpu<float>(s, x.data(), w.data(), bias ? b.data() : nullptr, r.y.data());
    conv2d_backward_cpu<float>(s, x.data(), w.data(), dy.data(), r.dx.data(), r.dw.data(), r.db.data());
    return r;
  }

  Result gpu(const ExecContext& ctx, const GpuHandles& gpu, bool bias = true) const {
    DeviceArray<float> d_x(x), d_w(w), d_b(b), d_dy(dy);
    DeviceArray<float> y(y_size(s)), dx(x_size(s));  // NaN-poisoned
    DeviceArray<float> dw(dw0), db(db0);
    DeviceArray<unsigned char> ws(conv2d_workspace_bytes(ctx, s));  // 0xFF bytes
    conv2d_forward(ctx, s, d_x.get(), d_w.get(), bias ? d_b.get() : nullptr, y.get(), ws.get());
    conv2d_backward(ctx, s, d_x.get(), d_w.get(), d_dy.get(), dx.get(), dw.get(), db.get(), ws.get());
    gpu.synchronize();
    return {y.download(), dx.download(), dw.download(), db.download()};
  }
};

void compare(const Problem& p, KernelPath path, bool deterministic, double max_nmse) {
  GpuHandles gpu(deterministic);
  const ExecContext ctx = gpu.context(path);
  const std::string what = describe(p.s) + " (" + to_string(path) + ")";
  const Result g = p.gpu(ctx, gpu), c = p.cpu();
  expect_close(g.y, c.y, what + " y", max_nmse);
  expect_close(g.dx, c.dx, what + " dx", max_nmse);
  expect_close(g.dw, c.dw, what + " dw (+= onto random)", max_nmse);
  expect_close(g.db, c.db, what + " db (+= onto random)", max_nmse);
}

TEST(NnConvCuda, HandwrittenMatchesCpuTwinOnOddShapes) {
  SER_SKIP_WITHOUT_GPU();
  std::uint64_t seed = 10;
  for (const Conv2dShape& s : odd_shapes()) compare(Problem(s, seed += 10), KernelPath::handwritten, false, 1e-10);
}

TEST(NnConvCuda, HandwrittenMatchesCpuTwinOnModelShapes) {
  SER_SKIP_WITHOUT_GPU();
  std::uint64_t seed = 1000;
  for (const Conv2dShape& s : model_shapes()) compare(Problem(s, seed += 10), KernelPath::handwritten, false, 1e-8);
}

TEST(NnConvCuda, HandwrittenWithoutBiasAndWithNullGradients) {
  SER_SKIP_WITHOUT_GPU();
  GpuHandles gpu;
  const ExecContext ctx = gpu.context(KernelPath::handwritten);
  const Problem p(shape(2, 5, 13, 11, 6), 77);
  const Result c = p.cpu(/*bias=*/false);
  const Result g = p.gpu(ctx, gpu, /*bias=*/false);
  expect_close(g.y, c.y, "y without bias");

  DeviceArray<float> x(p.x), w(p.w), dy(p.dy), dw(p.dw0), db(p.db0), dx(x_size(p.s));
  DeviceArray<unsigned char> ws(conv2d_workspace_bytes(ctx, p.s));
  conv2d_backward(ctx, p.s, x.get(), w.get(), dy.get(), nullptr, dw.get(), nullptr, ws.get());  // dw only
  conv2d_backward(ctx, p.s, x.get(), w.get(), dy.get(), dx.get(), nullptr, nullptr, ws.get());  // dx only
  conv2d_backward(ctx, p.s, x.get(), w.get(), dy.get(), nullptr, nullptr, db.get(), ws.get());  // db only
  gpu.synchronize();
  expect_close(dx.download(), c.dx, "dx alone");
  expect_close(dw.download(), c.dw, "dw alone");
  expect_close(db.download(), c.db, "db alone");
}

// A second backward adds the gradient once more (dw, db) and rewrites dx identically.
TEST(NnConvCuda, HandwrittenGradientsAccumulate) {
  SER_SKIP_WITHOUT_GPU();
  GpuHandles gpu;
  const ExecContext ctx = gpu.context(KernelPath::handwritten);
  for (const Conv2dShape& s : {shape(2, 6, 21, 17, 10), shape(2, 2, 64, 32, 16)}) {  // 1 split, several
    const Problem p(s, 88);
    std::vector<float> dx_ref(x_size(s)), dw_ref = p.dw0, db_ref = p.db0;
    for (int rep = 0; rep < 2; ++rep)
      conv2d_backward_cpu<float>(s, p.x.data(), p.w.data(), p.dy.data(), dx_ref.data(), dw_ref.data(), db_ref.data());
    DeviceArray<float> x(p.x), w(p.w), dy(p.dy), dw(p.dw0), db(p.db0), dx(x_size(s));
    DeviceArray<unsigned char> ws(conv2d_workspace_bytes(ctx, s));
    for (int rep = 0; rep < 2; ++rep)
      conv2d_backward(ctx, s, x.get(), w.get(), dy.get(), dx.get(), dw.get(), db.get(), ws.get());
    gpu.synchronize();
    expect_close(dx.download(), dx_ref, describe(s) + " dx after two calls");
    expect_close(dw.download(), dw_ref, describe(s) + " dw after two calls");
    expect_close(db.download(), db_ref, describe(s) + " db after two calls");
  }
}

TEST(NnConvCuda, HandwrittenBackwardIsBitIdenticalAcrossRuns) {
  SER_SKIP_WITHOUT_GPU();
  GpuHandles gpu;
  const ExecContext ctx = gpu.context(KernelPath::handwritten);
  for (const Conv2dShape& s : {shape(16, 32, 100, 32, 64), shape(3, 17, 33, 31, 129, 3, 5, 2, 1, 1, 2)}) {
    const Problem p(s, 99);
    std::vector<std::vector<float>> runs[3];
    for (int rep = 0; rep < 2; ++rep) {
      const Result r = p.gpu(ctx, gpu);
      runs[0].push_back(r.dx);
      runs[1].push_back(r.dw);
      runs[2].push_back(r.db);
    }
    for (int k = 0; k < 3; ++k) {
      ASSERT_EQ(runs[k][0].size(), runs[k][1].size());
      EXPECT_EQ(std::memcmp(runs[k][0].data(), runs[k][1].data(), runs[k][0].size() * sizeof(float)), 0)
          << describe(s) << ": " << (k == 0 ? "dx" : k == 1 ? "dw" : "db") << " differs between two runs";
    }
  }
}

// The epilogue's float4 stores need 16-byte alignment; an output one float into its allocation takes
// the scalar path and must not write outside its elements.
TEST(NnConvCuda, HandwrittenUnalignedOutputsStayInBounds) {
  SER_SKIP_WITHOUT_GPU();
  GpuHandles gpu;
  const ExecContext ctx = gpu.context(KernelPath::handwritten);
  const Problem p(shape(2, 4, 12, 16, 8), 55);
  const Result c = p.cpu();
  DeviceArray<float> x(p.x), w(p.w), b(p.b), dy(p.dy);
  DeviceArray<float> y(y_size(p.s) + 2), dx(x_size(p.s) + 2);  // NaN everywhere
  DeviceArray<unsigned char> ws(conv2d_workspace_bytes(ctx, p.s));
  conv2d_forward(ctx, p.s, x.get(), w.get(), b.get(), y.get() + 1, ws.get());
  conv2d_backward(ctx, p.s, x.get(), w.get(), dy.get(), dx.get() + 1, nullptr, nullptr, ws.get());
  gpu.synchronize();
  const std::vector<float> yh = y.download(), dxh = dx.download();
  EXPECT_TRUE(std::isnan(yh.front()) && std::isnan(yh.back())) << "forward wrote outside y";
  EXPECT_TRUE(std::isnan(dxh.front()) && std::isnan(dxh.back())) << "backward wrote outside dx";
  expect_close(std::vector<float>(yh.begin() + 1, yh.end() - 1), c.y, "unaligned y");
  expect_close(std::vector<float>(dxh.begin() + 1, dxh.end() - 1), c.dx, "unaligned dx");
}

TEST(NnConvCuda, HandwrittenBackwardWithoutWorkspaceThrowsWhenOneIsNeeded) {
  SER_SKIP_WITHOUT_GPU();
  GpuHandles gpu;
  const ExecContext ctx = gpu.context(KernelPath::handwritten);
  const Conv2dShape s = shape(2, 2, 64, 32, 16);
  ASSERT_GT(conv2d_workspace_bytes(ctx, s), 0u);
  DeviceArray<float> x(x_size(s)), w(w_size(s)), dy(y_size(s)), dw(w_size(s));
  EXPECT_THROW(conv2d_backward(ctx, s, x.get(), w.get(), dy.get(), nullptr, dw.get(), nullptr, nullptr), Error);
}

#ifdef SER_WITH_CUDNN

TEST(NnConvCuda, VendorMatchesCpuTwin) {
  SER_SKIP_WITHOUT_GPU();
  std::uint64_t seed = 2000;
  for (const Conv2dShape& s : odd_shapes()) compare(Problem(s, seed += 10), KernelPath::vendor, false, 1e-10);
  for (const Conv2dShape& s : model_shapes()) compare(Problem(s, seed += 10), KernelPath::vendor, false, 1e-8);
}

TEST(NnConvCuda, VendorDeterministicMatchesCpuTwinAndRepeats) {
  SER_SKIP_WITHOUT_GPU();
  GpuHandles gpu(/*deterministic=*/true);
  const ExecContext ctx = gpu.context(KernelPath::vendor);
  const Problem p(shape(16, 32, 100, 32, 64), 3000);
  const Result a = p.gpu(ctx, gpu), b = p.gpu(ctx, gpu), c = p.cpu();
  expect_close(a.dw, c.dw, "deterministic cuDNN dw", 1e-8);
  EXPECT_EQ(std::memcmp(a.dw.data(), b.dw.data(), a.dw.size() * sizeof(float)), 0) << "cuDNN dw differs between runs";
  EXPECT_EQ(std::memcmp(a.dx.data(), b.dx.data(), a.dx.size() * sizeof(float)), 0) << "cuDNN dx differs between runs";
}

#else

TEST(NnConvCuda, VendorWithoutCudnnThrows) {
  SER_SKIP_WITHOUT_GPU();
  GpuHandles gpu;
  EXPECT_THROW(conv2d_workspace_bytes(gpu.context(KernelPath::vendor), shape(1, 1, 4, 4, 1)), Error);
}

#endif  // SER_WITH_CUDNN

}  // namespace
}  // namespace ser::nn

#endif  // SER_WITH_CUDA
