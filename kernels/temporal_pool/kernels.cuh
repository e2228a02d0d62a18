// kernels/temporal_pool/kernels.cuh — device code of pooling over time (included by cuda.cu): masked
// mean pooling and attention pooling over x (N, T, D), lengths (N) on the device (nullptr = all T;
// clamped to [0, T]).
//
//   temporal_weighted_sum_kernel<kMean>  y (N, D) = Σ_{t < len} a_t x_t, a_t = 1 (then / len) or alpha
//   attn_pool_score_kernel               alpha (N, T) <- scores w · x_t + b (0 at t >= len)
//   attn_pool_softmax_kernel             alpha <- softmax of the scores over t < len, in place
//   mean_pool_bwd_kernel                 dx = dy / len at t < len, 0 elsewhere
//   attn_pool_bwd_score_kernel           dx[n, t, 0] <- ds_t = alpha_t (dy · x_t - Σ_u alpha_u dy · x_u)
//   attn_pool_bwd_param_kernel           dw += Σ_{n, t} ds x_t, db += Σ ds (reads ds from dx[.., 0])
//   attn_pool_bwd_dx_kernel              dx_t = alpha_t dy + ds_t w (reads ds first, then overwrites)
//
// The attention backward has no workspace: column 0 of each valid row of dx (N, T, D) carries ds_t
// between its three launches (stream order), and the last one overwrites all of dx.
//
// Every sum has a fixed shape (strided partial sums, then a fixed-order combination of the partials
// through shared memory or an xor-shuffle tree), so results are bitwise reproducible; no atomics.
#pragma once
#include <cmath>
#include <cstdint>

#include "warp_reduce.cuh"

namespace ser::cuda::tpool {

constexpr unsigned kFullMask = 0xffffffffu;
constexpr int kSumX = 32;  // weighted-sum / parameter kernels: 32 columns (lanes) ...
constexpr int kSumY = 8;   // ... x 8 strided partial sums over time
constexpr int kRowThreads = 256;  // score / softmax / dx kernels: 8 warps

__device__ __forceinline__ int seq_length(const int* lengths, int n, int t) {
  return lengths ? min(max(lengths[n], 0), t) : t;
}

// Sum (kMax = false) or max (kMax = true) of one value per thread over a block of kRowThreads
// threads, the same result returned to every thread. `red` is 8 floats of shared memory; the caller
// keeps all threads converged. Starts with a barrier so `red` may be reused back to back.
template <bool kMax>
__device__ __forceinline__ float block_reduce(float v, float* red) {
  v = kMax ? warp_max_xor(v) : warp_sum_xor(v);
  __syncthreads();
  if (threadIdx.x % 32 == 0) red[threadIdx.x / 32] = v;
  __syncthreads();
  float r = red[0];
#pragma unroll
  for (int w = 1; w < kRowThreads / 32; ++w) r = kMax ? fmaxf(r, red[w]) : r + red[w];
  return r;
}

// Grid (N, ceil(D / 32)), block (32, 8). Thread (tx, ty) sums t = ty, ty + 8, ... < len of column
// 32 blockIdx.y + tx; the 8 partials are added in ty order.
template <bool kMean>
__global__ void __launch_bounds__(kSumX * kSumY)
    temporal_weighted_sum_kernel(int t, int d, const float* __restrict__ x, const int* __restrict__ lengths,
                                 const float* __restrict__ alpha, float* __restrict__ y) {
  __shared__ float part[kSumY][kSumX + 1];
  const int n = blockIdx.x;
  const int c = blockIdx.y * kSumX + threadIdx.x;
  const int len = seq_length(lengths, n, t);
  float acc = 0.f;
  if (c < d) {
    const float* xn = x + static_cast<std::int64_t>(n) * t * d + c;  // column c of (T, D)
    for (int s = threadIdx.y; s < len; s += kSumY) {
      const float xv = xn[static_cast<std::int64_t>(s) * d];
      acc += kMean ? xv : alpha[static_cast<std::int64_t>(n) * t + s] * xv;
    }
  }
  part[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && c < d) {
    float sum = part[0][threadIdx.x];
#pragma unroll
    for (int k = 1; k < kSumY; ++k) sum += part[k][threadIdx.x];
    if (kMean) sum = len > 0 ? sum / static_cast<float>(len) : 0.f;
    y[static_cast<std::int64_t>(n) * d + c] = sum;
  }
}

// Grid-stride over dx (N, T, D).
__global__ void __launch_bounds__(256)
    mean_pool_bwd_kernel(int n, int t, int d, const float* __restrict__ dy, const int* __restrict__ lengths,
                         float* __restrict__ dx) {
  const std::int64_t count = static_cast<std::int64_t>(n) * t * d;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride) {
    const int c = static_cast<int>(i % d);
    const std::int64_t row = i / d;  // n * T + t
    const int s = static_cast<int>(row % t);
    const int b = static_cast<int>(row / t);
    const int len = seq_length(lengths, b, t);
    dx[i] = s < len ? dy[static_cast<std::int64_t>(b) * d + c] / static_cast<float>(len) : 0.f;
  }
}

// One warp per row (n, t) of x (N, T, D): alpha[n, t] = w · x_t + b for t < len, else 0.
__global__ void __launch_bounds__(kRowThreads)
    attn_pool_score_kernel(int n, int t, int d, const float* __restrict__ x, const float* __restrict__ w,
                           const float* __restrict__ b, const int* __restrict__ lengths, float* __restrict__ alpha) {
  const std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * (kRowThreads / 32) + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= static_cast<std::int64_t>(n) * t) return;  // uniform per warp
  const int s = static_cast<int>(row % t);
  const bool valid = s < seq_length(lengths, static_cast<int>(row / t), t);
  float acc = 0.f;
  if (valid) {
    const float* xr = x + row * d;
    for (int c = lane; c < d; c += 32) acc += w[c] * xr[c];
  }
  acc = warp_sum_xor(acc);
  if (lane == 0) alpha[row] = valid ? acc + b[0] : 0.f;
}

// One block per sequence: alpha[n, t < len] <- exp(s_t - max) / Σ exp(s_u - max), in place (thread i
// owns t = i, i + 256, ... in both passes). t >= len keeps the 0 the score kernel wrote.
__global__ void __launch_bounds__(kRowThreads)
    attn_pool_softmax_kernel(int t, const int* __restrict__ lengths, float* __restrict__ alpha) {
  __shared__ float red[kRowThreads / 32];
  const int n = blockIdx.x;
  const int len = seq_length(lengths, n, t);
  if (len == 0) return;  // uniform per block
  float* an = alpha + static_cast<std::int64_t>(n) * t;  // (T)
  float mx = -INFINITY;
  for (int s = threadIdx.x; s < len; s += kRowThreads) mx = fmaxf(mx, an[s]);
  mx = block_reduce<true>(mx, red);
  float sum = 0.f;
  for (int s = threadIdx.x; s < len; s += kRowThreads) {
    const float e = expf(an[s] - mx);
    an[s] = e;
    sum += e;
  }
  sum = block_reduce<false>(sum, red);
  const float inv = 1.0f / sum;  // >= 1 before inversion: the maximum contributes exp(0)
  for (int s = threadIdx.x; s < len; s += kRowThreads) an[s] *= inv;
}

// One block per sequence. Pass 1 (warp per t < len): g_t = dy · x_t -> dx[n, t, 0], and the block's
// c = Σ_t alpha_t g_t (per-warp sums in t order, then warps in order). Pass 2 (thread per t):
// dx[n, t, 0] <- alpha_t (g_t - c). __syncthreads orders pass 1's global writes before pass 2's reads.
__global__ void __launch_bounds__(kRowThreads)
    attn_pool_bwd_score_kernel(int t, int d, const float* __restrict__ x, const float* __restrict__ alpha,
                               const float* __restrict__ dy, const int* __restrict__ lengths, float* dx) {
  __shared__ float red[kRowThreads / 32];
  const int n = blockIdx.x;
  const int len = seq_length(lengths, n, t);
  if (len == 0) return;  // uniform per block
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const std::int64_t base = static_cast<std::int64_t>(n) * t;  // row of (n, 0)
  const float* dyn = dy + static_cast<std::int64_t>(n) * d;
  float c_part = 0.f;
  for (int s = warp; s < len; s += kRowThreads / 32) {
    const float* xr = x + (base + s) * d;
    float g = 0.f;
    for (int c = lane; c < d; c += 32) g += dyn[c] * xr[c];
    g = warp_sum_xor(g);
    if (lane == 0) dx[(base + s) * d] = g;
    c_part += alpha[base + s] * g;
  }
  const float c_sum = block_reduce<false>(lane == 0 ? c_part : 0.f, red);
  for (int s = threadIdx.x; s < len; s += kRowThreads) {
    float* slot = dx + (base + s) * d;
    *slot = alpha[base + s] * (*slot - c_sum);
  }
}

// Grid ceil(D / 32), block (32, 8). dw[c] += Σ over valid rows r = (n, t) of ds_r x[r, c], rows
// r = ty, ty + 8, ... in order, the 8 partials added in ty order; block 0 also does db += Σ ds_r.
__global__ void __launch_bounds__(kSumX * kSumY)
    attn_pool_bwd_param_kernel(int n, int t, int d, const float* __restrict__ x, const int* __restrict__ lengths,
                               const float* dx, float* __restrict__ dw, float* __restrict__ db) {
  __shared__ float part[kSumY][kSumX + 1];
  const int c = blockIdx.x * kSumX + threadIdx.x;
  const std::int64_t rows = static_cast<std::int64_t>(n) * t;
  float acc = 0.f;
  if (c < d) {
    for (std::int64_t r = threadIdx.y; r < rows; r += kSumY) {
      if (r % t >= seq_length(lengths, static_cast<int>(r / t), t)) continue;
      acc += dx[r * d] * x[r * d + c];
    }
  }
  part[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && c < d) {
    float sum = part[0][threadIdx.x];
#pragma unroll
    for (int k = 1; k < kSumY; ++k) sum += part[k][threadIdx.x];
    dw[c] += sum;
  }
  if (blockIdx.x != 0) return;  // uniform per block
  __syncthreads();  // part is reused below
  const int tid = threadIdx.y * kSumX + threadIdx.x;
  float g = 0.f;
  for (std::int64_t r = tid; r < rows; r += kSumX * kSumY)
    if (r % t < seq_length(lengths, static_cast<int>(r / t), t)) g += dx[r * d];
  part[threadIdx.y][threadIdx.x] = g;
  __syncthreads();
  if (tid == 0) {
    float sum = 0.f;
    for (int k = 0; k < kSumY; ++k)
      for (int j = 0; j < kSumX; ++j) sum += part[k][j];
    db[0] += sum;
  }
}

// One warp per row (n, t): dx_t = alpha_t dy + ds_t w for t < len (ds_t read from dx[n, t, 0] by
// lane 0 and broadcast before any lane writes the row), 0 elsewhere.
__global__ void __launch_bounds__(kRowThreads)
    attn_pool_bwd_dx_kernel(int n, int t, int d, const float* __restrict__ w, const float* __restrict__ alpha,
                            const float* __restrict__ dy, const int* __restrict__ lengths, float* dx) {
  const std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * (kRowThreads / 32) + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= static_cast<std::int64_t>(n) * t) return;  // uniform per warp
  const int b = static_cast<int>(row / t);
  const bool valid = row % t < seq_length(lengths, b, t);
  float* dxr = dx + row * d;
  const float ds = __shfl_sync(kFullMask, valid && lane == 0 ? dxr[0] : 0.f, 0);
  const float a = valid ? alpha[row] : 0.f;
  const float* dyn = dy + static_cast<std::int64_t>(b) * d;
  for (int c = lane; c < d; c += 32) dxr[c] = valid ? a * dyn[c] + ds * w[c] : 0.f;
}

}  // namespace ser::cuda::tpool
