// kernels/deltas/cuda.cu — Δ and ΔΔ of the input log-mel along time (see launch.hpp and
// ser/nn/deltas.hpp); the CPU twin is cpu.cpp.
//
// Design: memory-bound, one thread per output element of a (T, F) plane, grid-stride over all N
// planes. Channel k (k >= 1) reads channel k - 1 of the output, so ΔΔ is a second launch after Δ
// (stream order makes Δ complete first); the first launch also copies x into channel 0. Each
// element uses the CPU twin's float operations in its order (no multiply to contract into an FMA),
// so the results are bit-identical.
#include <algorithm>
#include <cstdint>

#include "cuda_check.cuh"
#include "deltas/launch.hpp"
#include "ser/host_device.hpp"

namespace ser::cuda {

namespace {

constexpr int kThreads = 256;
constexpr std::int64_t kMaxBlocks = 4096;

// For every utterance i and element (r, j) of its (T, F) planes: copy (copy_x) x into channel 0,
// then channel k of y (N, C, T, F) = Δ of channel `src_channel` (y's own, or x when copy_x).
__global__ void __launch_bounds__(kThreads)
delta_kernel(int n, int t, int f, int c, int k, bool copy_x, const int* __restrict__ lengths,
             const float* __restrict__ x, float* y) {
  const std::int64_t plane = static_cast<std::int64_t>(t) * f;
  const std::int64_t total = plane * n;
  for (std::int64_t e = static_cast<std::int64_t>(blockIdx.x) * kThreads + threadIdx.x; e < total;
       e += static_cast<std::int64_t>(gridDim.x) * kThreads) {
    const int i = static_cast<int>(e / plane);
    const std::int64_t within = e - i * plane;
    const int r = static_cast<int>(within / f), j = static_cast<int>(within - static_cast<std::int64_t>(r) * f);
    const int len = nn::valid_length(lengths, i, t);
    float* yi = y + static_cast<std::int64_t>(i) * c * plane;  // (C, T, F)
    const float* src = copy_x ? x + i * plane : yi + (k - 1) * plane;
    if (copy_x) yi[within] = r < len ? src[within] : 0.f;
    if (r >= len) {
      yi[k * plane + within] = 0.f;
      continue;
    }
    const float near = src[static_cast<std::int64_t>(min(r + 1, len - 1)) * f + j] -
                       src[static_cast<std::int64_t>(max(r - 1, 0)) * f + j];
    const float far = src[static_cast<std::int64_t>(min(r + 2, len - 1)) * f + j] -
                      src[static_cast<std::int64_t>(max(r - 2, 0)) * f + j];
    yi[k * plane + within] = (near + (far + far)) / 10.f;
  }
}

}  // namespace

void launch_time_deltas(const nn::ExecContext& ctx, int n, int t, int f, int order, const int* lengths,
                        const float* x, float* y) {
  const auto stream = static_cast<cudaStream_t>(ctx.stream);
  if (n <= 0 || t <= 0 || f <= 0) return;
  const std::int64_t total = static_cast<std::int64_t>(n) * t * f;
  const auto blocks = static_cast<unsigned>(std::clamp<std::int64_t>((total + kThreads - 1) / kThreads, 1, kMaxBlocks));
  const int c = 1 + order;
  delta_kernel<<<blocks, kThreads, 0, stream>>>(n, t, f, c, 1, true, lengths, x, y);
  SER_CUDA_CHECK_LAUNCH("delta_kernel (delta)");
  if (order == 2) {
    delta_kernel<<<blocks, kThreads, 0, stream>>>(n, t, f, c, 2, false, lengths, x, y);
    SER_CUDA_CHECK_LAUNCH("delta_kernel (delta-delta)");
  }
}

}  // namespace ser::cuda
