// The CUDA max-pooling kernels (kernels/maxpool2d/cuda.cu) against the CPU twin, through the dispatch on a
// GpuHandles context. Both use the same window rule and the backward gather adds in the twin's scatter
// order, so y, argmax and dx must match bit for bit. Outputs start poisoned (y and dx NaN, argmax
// 0x5A5A5A5A, which is neither -1 nor a valid index). Skips without a usable GPU.
#ifdef SER_WITH_CUDA

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "nn_test_util.hpp"
#include "ser/nn/exec.hpp"
#include "ser/nn/pool.hpp"
#include "test_util.hpp"

namespace ser::nn {
namespace {

using test::DeviceArray;
using test::random_nonzero;

Pool2dShape make(int n, int c, int h, int w, int kh, int kw, int sh, int sw) {
  Pool2dShape s;
  s.n = n; s.c = c; s.h = h; s.w = w; s.kh = kh; s.kw = kw; s.sh = sh; s.sw = sw;
  return s;
}

template <typename T>
void expect_bit_equal(const std::vector<T>& gpu, const std::vector<T>& cpu, const std::string& what) {
  ASSERT_EQ(gpu.size(), cpu.size()) << what;
  std::size_t bad = 0;
  for (std::size_t i = 0; i < cpu.size(); ++i)
    if (std::memcmp(&gpu[i], &cpu[i], sizeof(T)) != 0 && ++bad <= 5)
      ADD_FAILURE() << what << "[" << i << "]: gpu " << gpu[i] << ", cpu " << cpu[i];
  EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << cpu.size() << " elements differ";
}

// DeviceArray poisons with 0xFF bytes, i.e. -1, a meaningful argmax; use 0x5A5A5A5A instead.
void poison_ints(const DeviceArray<std::int32_t>& a, std::size_t count) {
  SER_CUDA_CHECK(cudaMemset(a.get(), 0x5A, std::max<std::size_t>(count, 1) * sizeof(std::int32_t)));
}

struct Case {
  Pool2dShape s;
  std::vector<int> lengths;  // empty: nullptr
};

std::vector<Case> cases() {
  return {
      {make(5, 7, 301, 63, 2, 2, 2, 2), {301, 17, 0, 1, 250}},  // the usual 2x2 / 2; odd sizes, lengths 0 and 1
      {make(3, 4, 97, 41, 3, 3, 2, 2), {97, 50, 3}},            // overlapping windows: gradient sums
      {make(2, 3, 40, 33, 3, 2, 1, 3), {}},                      // stride 1 in time, gaps in mel, no lengths
      {make(1, 1, 7, 5, 7, 5, 1, 1), {7}},                       // one window per plane
      {make(64, 32, 38, 8, 2, 2, 2, 2), {}},                     // many small planes
  };
}

TEST(MaxPool2dCuda, ForwardAndBackwardMatchCpuTwinBitForBit) {
  SER_SKIP_WITHOUT_GPU();
  GpuHandles h;
  const ExecContext gpu = h.context(KernelPath::handwritten);
  std::uint64_t seed = 1;
  for (const Case& cs : cases()) {
    const Pool2dShape& s = cs.s;
    const std::string what = "N " + std::to_string(s.n) + " C " + std::to_string(s.c) + " H " + std::to_string(s.h) +
                             " W " + std::to_string(s.w) + " k " + std::to_string(s.kh) + "x" + std::to_string(s.kw);
    const std::size_t nin = std::size_t(s.n) * s.c * s.h * s.w, nout = std::size_t(s.n) * s.c * s.h_out() * s.w_out();
    const int* len = cs.lengths.empty() ? nullptr : cs.lengths.data();
    const std::vector<float> x = random_nonzero<float>(nin, seed++);
    const std::vector<float> dy = random_nonzero<float>(nout, seed++);

    std::vector<float> y_cpu(nout), dx_cpu(nin);
    std::vector<std::int32_t> am_cpu(nout);
    maxpool2d_forward_cpu<float>(s, x.data(), len, y_cpu.data(), am_cpu.data());
    maxpool2d_backward_cpu<float>(s, dy.data(), am_cpu.data(), dx_cpu.data());

    DeviceArray<float> d_x(x), d_dy(dy), d_y(nout), d_dx(nin);
    DeviceArray<int> d_len(cs.lengths.empty() ? std::vector<int>{0} : cs.lengths);
    DeviceArray<std::int32_t> d_am(nout);
    poison_ints(d_am, nout);
    maxpool2d_forward(gpu, s, d_x.get(), len ? d_len.get() : nullptr, d_y.get(), d_am.get());
    maxpool2d_backward(gpu, s, d_dy.get(), d_am.get(), d_dx.get());
    h.synchronize();
    expect_bit_equal(d_y.download(), y_cpu, what + " y");
    expect_bit_equal(d_am.download(), am_cpu, what + " argmax");
    const std::vector<float> dx1 = d_dx.download();
    expect_bit_equal(dx1, dx_cpu, what + " dx");

    // Deterministic: a second backward into a freshly poisoned buffer gives the same bits.
    SER_CUDA_CHECK(cudaMemset(d_dx.get(), 0xFF, nin * sizeof(float)));
    maxpool2d_backward(gpu, s, d_dy.get(), d_am.get(), d_dx.get());
    h.synchronize();
    expect_bit_equal(d_dx.download(), dx1, what + " dx, second run");
  }
}

TEST(MaxPool2dCuda, TiesTakeTheFirstMaximumLikeTheTwin) {
  SER_SKIP_WITHOUT_GPU();
  GpuHandles h;
  const ExecContext gpu = h.context(KernelPath::handwritten);
  // Values from a 3-level alphabet: nearly every window has ties.
  const Pool2dShape s = make(2, 3, 33, 17, 3, 3, 2, 2);
  const std::size_t nin = std::size_t(s.n) * s.c * s.h * s.w, nout = std::size_t(s.n) * s.c * s.h_out() * s.w_out();
  std::vector<float> x(nin);
  for (std::size_t i = 0; i < nin; ++i) x[i] = static_cast<float>((i * 2654435761u >> 7) % 3);
  const std::vector<float> dy = random_nonzero<float>(nout, 77);
  const std::vector<int> len = {33, 20};
  std::vector<float> y_cpu(nout), dx_cpu(nin);
  std::vector<std::int32_t> am_cpu(nout);
  maxpool2d_forward_cpu<float>(s, x.data(), len.data(), y_cpu.data(), am_cpu.data());
  maxpool2d_backward_cpu<float>(s, dy.data(), am_cpu.data(), dx_cpu.data());
  DeviceArray<float> d_x(x), d_dy(dy), d_y(nout), d_dx(nin);
  DeviceArray<int> d_len(len);
  DeviceArray<std::int32_t> d_am(nout);
  poison_ints(d_am, nout);
  maxpool2d_forward(gpu, s, d_x.get(), d_len.get(), d_y.get(), d_am.get());
  maxpool2d_backward(gpu, s, d_dy.get(), d_am.get(), d_dx.get());
  h.synchronize();
  expect_bit_equal(d_am.download(), am_cpu, "argmax with ties");
  expect_bit_equal(d_y.download(), y_cpu, "y with ties");
  expect_bit_equal(d_dx.download(), dx_cpu, "dx with ties");
}

}  // namespace
}  // namespace ser::nn

#endif  // SER_WITH_CUDA
