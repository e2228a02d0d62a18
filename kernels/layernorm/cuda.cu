// kernels/layernorm/cuda.cu — the masked layer norm over token features (see launch.hpp and
// ser/nn/layernorm.hpp); the CPU twin is cpu.cpp.
//
//   layer_norm_fwd_kernel     one warp per (n, t) row: mean, then the centred sum of squares
//                             (two passes over the row, as the twin), then y; masked rows write 0
//   layer_norm_bwd_dx_kernel  one warp per row: Σ g and Σ g x̂ (g = dy gamma), then dx
//   layer_norm_bwd_param_kernel  block (32, 8) per 32 columns: dgamma += Σ dy x̂, dbeta += Σ dy
//                             over the valid rows, 8 strided partials added in a fixed order
//
// D is a few hundred (C * F of a feature map), so a warp per row keeps every lane busy without
// shared memory. Every sum has a fixed shape (lane-strided partials, then an xor-shuffle tree), so
// results are bitwise reproducible; no atomics. The twin sums in double, so the two agree to
// float rounding, not bit for bit.
#include <cstdint>

#include "cuda_check.cuh"
#include "layernorm/launch.hpp"
#include "ser/host_device.hpp"
#include "warp_reduce.cuh"

namespace ser::cuda {
namespace {

constexpr int kRowThreads = 256;  // 8 warps = 8 rows per block
constexpr int kColumns = 32, kRowPartials = 8;

// Whether row r = n * T + t of (N, T) is inside its utterance.
__device__ __forceinline__ bool row_valid(const int* lengths, std::int64_t r, int t) {
  const int n = static_cast<int>(r / t), s = static_cast<int>(r - static_cast<std::int64_t>(n) * t);
  return s < nn::valid_length(lengths, n, t);
}

__global__ void __launch_bounds__(kRowThreads)
layer_norm_fwd_kernel(std::int64_t rows, int t, int d, float eps, const float* __restrict__ x,
                      const float* __restrict__ gamma, const float* __restrict__ beta,
                      const int* __restrict__ lengths, float* __restrict__ y, float* __restrict__ mean,
                      float* __restrict__ rstd) {
  const std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * (kRowThreads / 32) + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (r >= rows) return;  // a whole warp leaves together
  const float* xr = x + r * d;
  float* yr = y + r * d;
  if (!row_valid(lengths, r, t)) {
    for (int i = lane; i < d; i += 32) yr[i] = 0.f;
    if (lane == 0) mean[r] = rstd[r] = 0.f;
    return;
  }
  float s = 0.f;
  for (int i = lane; i < d; i += 32) s += xr[i];
  const float mu = warp_sum_xor(s) / static_cast<float>(d);
  float q = 0.f;
  for (int i = lane; i < d; i += 32) {
    const float c = xr[i] - mu;
    q += c * c;
  }
  const float inv = 1.f / sqrtf(warp_sum_xor(q) / static_cast<float>(d) + eps);
  for (int i = lane; i < d; i += 32) yr[i] = (xr[i] - mu) * inv * gamma[i] + beta[i];
  if (lane == 0) {
    mean[r] = mu;
    rstd[r] = inv;
  }
}

__global__ void __launch_bounds__(kRowThreads)
layer_norm_bwd_dx_kernel(std::int64_t rows, int t, int d, const float* __restrict__ x,
                         const float* __restrict__ gamma, const float* __restrict__ mean,
                         const float* __restrict__ rstd, const float* __restrict__ dy,
                         const int* __restrict__ lengths, float* __restrict__ dx) {
  const std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * (kRowThreads / 32) + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (r >= rows) return;
  float* dxr = dx + r * d;
  if (!row_valid(lengths, r, t)) {
    for (int i = lane; i < d; i += 32) dxr[i] = 0.f;
    return;
  }
  const float* xr = x + r * d;
  const float* dyr = dy + r * d;
  const float mu = mean[r], inv = rstd[r];
  float gs = 0.f, gxs = 0.f;
  for (int i = lane; i < d; i += 32) {
    const float g = dyr[i] * gamma[i];
    gs += g;
    gxs += g * ((xr[i] - mu) * inv);
  }
  const float g_mean = warp_sum_xor(gs) / static_cast<float>(d);
  const float gx_mean = warp_sum_xor(gxs) / static_cast<float>(d);
  for (int i = lane; i < d; i += 32) {
    const float xhat = (xr[i] - mu) * inv;
    dxr[i] = inv * (dyr[i] * gamma[i] - g_mean - xhat * gx_mean);
  }
}

__global__ void __launch_bounds__(kColumns * kRowPartials)
layer_norm_bwd_param_kernel(std::int64_t rows, int t, int d, const float* __restrict__ x,
                            const float* __restrict__ mean, const float* __restrict__ rstd,
                            const float* __restrict__ dy, const int* __restrict__ lengths,
                            float* __restrict__ dgamma, float* __restrict__ dbeta) {
  __shared__ float part_g[kRowPartials][kColumns + 1];
  __shared__ float part_b[kRowPartials][kColumns + 1];
  const int c = blockIdx.x * kColumns + threadIdx.x;
  float ag = 0.f, ab = 0.f;
  if (c < d)
    for (std::int64_t r = threadIdx.y; r < rows; r += kRowPartials) {
      if (!row_valid(lengths, r, t)) continue;
      const float g = dy[r * d + c];
      ag += g * ((x[r * d + c] - mean[r]) * rstd[r]);
      ab += g;
    }
  part_g[threadIdx.y][threadIdx.x] = ag;
  part_b[threadIdx.y][threadIdx.x] = ab;
  __syncthreads();
  if (threadIdx.y == 0 && c < d) {
    float sg = part_g[0][threadIdx.x], sb = part_b[0][threadIdx.x];
#pragma unroll
    for (int k = 1; k < kRowPartials; ++k) {
      sg += part_g[k][threadIdx.x];
      sb += part_b[k][threadIdx.x];
    }
    dgamma[c] += sg;
    dbeta[c] += sb;
  }
}

unsigned row_blocks(std::int64_t rows) {
  return static_cast<unsigned>((rows + kRowThreads / 32 - 1) / (kRowThreads / 32));
}

}  // namespace

void launch_layer_norm_forward(const nn::ExecContext& ctx, int n, int t, int d, float eps, const float* x,
                               const float* gamma, const float* beta, const int* lengths, float* y, float* mean,
                               float* rstd) {
  const auto stream = static_cast<cudaStream_t>(ctx.stream);
  if (n == 0) return;
  const std::int64_t rows = static_cast<std::int64_t>(n) * t;
  layer_norm_fwd_kernel<<<row_blocks(rows), kRowThreads, 0, stream>>>(rows, t, d, eps, x, gamma, beta, lengths, y,
                                                                      mean, rstd);
  SER_CUDA_CHECK_LAUNCH("layer_norm_fwd_kernel");
}

void launch_layer_norm_backward(const nn::ExecContext& ctx, int n, int t, int d, const float* x, const float* gamma,
                                const float* mean, const float* rstd, const float* dy, const int* lengths, float* dx,
                                float* dgamma, float* dbeta) {
  const auto stream = static_cast<cudaStream_t>(ctx.stream);
  if (n == 0) return;
  const std::int64_t rows = static_cast<std::int64_t>(n) * t;
  layer_norm_bwd_param_kernel<<<static_cast<unsigned>((d + kColumns - 1) / kColumns), dim3(kColumns, kRowPartials),
                                0, stream>>>(rows, t, d, x, mean, rstd, dy, lengths, dgamma, dbeta);
  SER_CUDA_CHECK_LAUNCH("layer_norm_bwd_param_kernel");
  layer_norm_bwd_dx_kernel<<<row_blocks(rows), kRowThreads, 0, stream>>>(rows, t, d, x, gamma, mean, rstd, dy,
                                                                         lengths, dx);
  SER_CUDA_CHECK_LAUNCH("layer_norm_bwd_dx_kernel");
}

}  // namespace ser::cuda
