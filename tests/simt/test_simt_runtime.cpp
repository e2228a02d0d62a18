// tests/simt/test_simt_runtime.cpp — the SIMT emulator's own contract (docs/simt_emulator.md): shuffles
// follow CUDA's documented source-lane rules on int, float and double at every width; built-in
// indices cover 3-D grids and blocks; shared memory is per block, fresh and NaN-poisoned, device
// memory too; broken barriers and warp operations are errors naming file:line, block and thread;
// launch limits are CUDA's; copies outside device allocations are refused.
// Built only into the emulator's test executables (ser_tests_simt_*).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "ser/device.hpp"
#include "simt_test_kernels.cuh"

namespace {

using simt_test::Shuffle;

template <class T>
struct Device {
  T* p = nullptr;
  std::size_t n;
  explicit Device(std::size_t count) : n(count) { EXPECT_EQ(cudaMalloc(&p, sizeof(T) * n), cudaSuccess); }
  Device(const std::vector<T>& host) : Device(host.size()) {
    EXPECT_EQ(cudaMemcpy(p, host.data(), sizeof(T) * n, cudaMemcpyHostToDevice), cudaSuccess);
  }
  ~Device() { cudaFree(p); }
  std::vector<T> get() const {
    std::vector<T> h(n);
    EXPECT_EQ(cudaMemcpy(h.data(), p, sizeof(T) * n, cudaMemcpyDeviceToHost), cudaSuccess);
    return h;
  }
};

// The CUDA C++ Programming Guide's rules, written out with division and modulo (the emulator uses
// masks): lane l of a segment of `width` lanes starting at (l / width) * width.
int cuda_source_lane(Shuffle kind, int lane, int arg, int width) {
  const int start = lane / width * width;
  switch (kind) {
    case Shuffle::idx: return start + arg % width;
    case Shuffle::up: return lane - arg < start ? lane : lane - arg;
    case Shuffle::down: return lane + arg >= start + width ? lane : lane + arg;
    case Shuffle::bfly: return (lane ^ arg) >= start + width ? lane : (lane ^ arg);  // later groups: own value
  }
  return lane;
}

template <class T>
void check_shuffles(T scale) {
  const int threads = 64;  // two warps: lane != thread index in the second
  std::vector<T> in(threads);
  for (int i = 0; i < threads; ++i) in[static_cast<std::size_t>(i)] = static_cast<T>(i * 3 + 1) * scale;
  const Device<T> din(in);
  Device<T> dout(threads);
  int cases = 0;
  for (Shuffle kind : {Shuffle::idx, Shuffle::up, Shuffle::down, Shuffle::bfly})
    for (int width : {1, 2, 4, 8, 16, 32})
      for (int arg : {0, 1, 2, 3, 5, 8, 16, 31}) {
        simt_test::shuffle(kind, arg, width, din.p, dout.p, threads);
        ASSERT_EQ(cudaGetLastError(), cudaSuccess);
        const std::vector<T> out = dout.get();
        for (int t = 0; t < threads; ++t) {
          const int lane = t % 32, warp = t / 32;
          const T want = in[static_cast<std::size_t>(warp * 32 + cuda_source_lane(kind, lane, arg, width))];
          ASSERT_EQ(out[static_cast<std::size_t>(t)], want)
              << "kind " << static_cast<int>(kind) << " width " << width << " arg " << arg << " thread " << t;
        }
        ++cases;
      }
  EXPECT_EQ(cases, 4 * 6 * 8);
}

TEST(SimtEmulator, ProbeReportsTheEmulatorAsAUsableDevice) {
  const ser::CudaProbe& p = ser::probe_cuda();
  EXPECT_TRUE(p.usable) << p.reason;
  EXPECT_EQ(p.name, "SIMT emulator (CPU)");
  EXPECT_EQ(p.compute_major, 9);
}

TEST(SimtEmulator, ShufflesFollowCudasSourceLaneRules) {
  check_shuffles<int>(1);
  check_shuffles<float>(0.37f);
  check_shuffles<double>(1e-300);  // the low bits matter: all 8 bytes travel
}

TEST(SimtEmulator, HalfWarpShufflesLeaveTheOtherLanesAlone) {
  const int threads = 48;  // the second warp is partial: lanes 16..31 do not exist
  std::vector<int> in(threads);
  for (int i = 0; i < threads; ++i) in[static_cast<std::size_t>(i)] = 100 + i;
  const Device<int> din(in);
  Device<int> dout(threads);
  simt_test::half_warp_shuffle(din.p, dout.p, threads);
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  const std::vector<int> out = dout.get();
  for (int t = 0; t < threads; ++t)
    EXPECT_EQ(out[static_cast<std::size_t>(t)], t % 32 < 16 ? 100 + (t ^ 1) : -1) << t;
}

TEST(SimtEmulator, IndicesCoverThreeDimensionalGridsAndBlocks) {
  const dim3 grid(3, 2, 2), block(4, 3, 2);
  const int total = 3 * 2 * 2 * 4 * 3 * 2;
  Device<int> out(total);
  simt_test::write_indices(grid, block, out.p);
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  const std::vector<int> h = out.get();
  for (int i = 0; i < total; ++i) EXPECT_EQ(h[static_cast<std::size_t>(i)], i);
}

TEST(SimtEmulator, SharedMemoryIsPerBlockFreshAndPoisoned) {
  const int blocks = 3, threads = 96;
  Device<float> out(blocks * threads);
  Device<int> fresh(blocks);
  simt_test::shared_neighbours(blocks, threads, out.p, fresh.p);
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  const std::vector<float> h = out.get();
  for (int b = 0; b < blocks; ++b) {
    EXPECT_EQ(fresh.get()[static_cast<std::size_t>(b)], 1) << "block " << b << " saw a previous block's shared memory";
    for (int t = 0; t < threads; ++t)
      EXPECT_EQ(h[static_cast<std::size_t>(b * threads + t)], static_cast<float>(b * 1000 + (t + 1) % threads));
  }
  Device<float> unwritten(32);
  simt_test::read_unwritten_dynamic_shared(32, unwritten.p);
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  for (float v : unwritten.get()) EXPECT_TRUE(std::isnan(v));
  const Device<double> never_written(16);
  for (double v : never_written.get()) EXPECT_TRUE(std::isnan(v)) << "cudaMalloc memory is not poisoned";
}

// The launch fails with cudaErrorLaunchFailure and cudaGetErrorString names everything in `parts`.
void expect_launch_failure(const std::vector<std::string>& parts) {
  const cudaError_t e = cudaGetLastError();
  ASSERT_EQ(e, cudaErrorLaunchFailure) << cudaGetErrorName(e);
  const std::string text = cudaGetErrorString(e);
  for (const std::string& p : parts) EXPECT_NE(text.find(p), std::string::npos) << "'" << p << "' not in: " << text;
  EXPECT_EQ(cudaGetLastError(), cudaSuccess) << "cudaGetLastError clears the error";
}

TEST(SimtEmulator, BrokenBarriersAndWarpOperationsAreErrorsNamingTheSite) {
  simt_test::divergent_barrier(32);
  expect_launch_failure({"divergent __syncthreads", "simt_test_kernels.cu:", "block (0,0,0)", "thread (16,0,0)"});
  simt_test::exit_before_barrier(64);
  expect_launch_failure({"1 thread exited while 63 wait at __syncthreads", "simt_test_kernels.cu:", "thread (1,0,0)"});
  simt_test::shuffle_without_own_lane(32);
  expect_launch_failure({"__shfl_sync", "leaves out the calling lane", "simt_test_kernels.cu:"});
  simt_test::shuffle_reading_outside_mask(32);
  expect_launch_failure({"reads lane 1, which is not in the mask"});
}

TEST(SimtEmulator, LaunchLimitsAreCudas) {
  simt_test::launch_empty(dim3(1), dim3(1024));
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  simt_test::launch_empty(dim3(1), dim3(1025));
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  simt_test::launch_empty(dim3(1), dim3(1, 1, 65));
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  simt_test::launch_empty(dim3(1, 65536), dim3(1));
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  simt_test::launch_empty(dim3(0), dim3(1));
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);

  simt_test::touch_dynamic_shared(48 * 1024);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  simt_test::touch_dynamic_shared(48 * 1024 + 4);
  const cudaError_t e = cudaGetLastError();
  EXPECT_EQ(e, cudaErrorInvalidValue);
  EXPECT_NE(std::string(cudaGetErrorString(e)).find("cudaFuncSetAttribute"), std::string::npos);
  ASSERT_EQ(simt_test::allow_dynamic_shared(64 * 1024), cudaSuccess);
  simt_test::touch_dynamic_shared(64 * 1024);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  EXPECT_EQ(simt_test::allow_dynamic_shared(228 * 1024), cudaErrorInvalidValue);
  cudaGetLastError();
}

TEST(SimtEmulator, CopiesOutsideDeviceAllocationsAreRefused) {
  std::size_t free0 = 0, total = 0;
  ASSERT_EQ(cudaMemGetInfo(&free0, &total), cudaSuccess);
  Device<float> d(100);
  std::size_t free1 = 0;
  ASSERT_EQ(cudaMemGetInfo(&free1, &total), cudaSuccess);
  EXPECT_EQ(free0 - free1, 100 * sizeof(float));
  std::vector<float> h(101, 1.0f);
  EXPECT_EQ(cudaMemcpy(d.p, h.data(), 101 * sizeof(float), cudaMemcpyHostToDevice), cudaErrorInvalidValue);
  EXPECT_EQ(cudaMemcpy(h.data(), d.p + 1, 100 * sizeof(float), cudaMemcpyDeviceToHost), cudaErrorInvalidValue);
  EXPECT_EQ(cudaMemcpy(d.p, h.data(), 100 * sizeof(float), cudaMemcpyDeviceToDevice), cudaErrorInvalidValue);
  EXPECT_EQ(cudaMemset(h.data(), 0, 4), cudaErrorInvalidValue);
  EXPECT_EQ(cudaFree(h.data()), cudaErrorInvalidValue);
  EXPECT_EQ(cudaMemcpy(d.p, h.data(), 100 * sizeof(float), cudaMemcpyHostToDevice), cudaSuccess);
  cudaGetLastError();
}

}  // namespace
