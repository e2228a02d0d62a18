// kernels/batchnorm/cuda.cu — masked batch normalisation: training forward (statistics over valid
// time steps), inference forward, backward. See launch.hpp; the CPU twin is cpu.cpp.
//
// Design
// - Layout: channel c owns N planes of H*W floats, and the valid part of plane (n, c) is its first
//   len_n * W elements, so every reduction reads contiguous runs (coalesced, no per-element division).
// - Per-channel reductions run on a (C, S) grid: block (c, s) covers the s-th of S equal slices of the
//   channel's N*H*W index range. S is chosen on the host so that C * S is about kTargetBlocks (enough
//   blocks for every SM) while each slice keeps at least kMinPerSplit elements; S = 1 is one block
//   per channel, which then also finishes the job (finalises statistics, or writes dx) in the same
//   kernel.
// - Accumulation in double, as shifted sums: Σ(x - K) and Σ(x - K)^2 with K the channel's first valid
//   element, so the variance suffers no cancellation when |mean| >> std. Every sum has a fixed shape
//   (per-thread strided loop, warp shuffle tree, warps in order, slices in order): bit-identical on
//   every run, no atomics.
// - No workspace in the contract: with S > 1 the (C, S, 2) double partial sums are parked at the start
//   of the output the call overwrites anyway (8-byte aligned, `reserved` floats). Forward: partials in
//   y, finalised into mean/invstd, then the normalisation overwrites all of y. Backward: partials in
//   dx; batchnorm_bwd_dx_kernel writes every dx element past the reserved prefix (each block re-sums
//   its channel's S partials, a fixed-order warp sum); batchnorm_bwd_tail_kernel, one block, sums the
//   partials of every channel into shared memory, adds dgamma/dbeta, syncs, then writes the prefix.
// - Normalisation maps (one thread per element, grid-stride, 32-bit index when it fits) compute
//   gamma * ((x - mean) * invstd) + beta with the float mean/invstd the twin uses; padded steps get 0.
#include <algorithm>
#include <climits>
#include <cstdint>
#include <string>

#include "batchnorm/launch.hpp"
#include "cuda_check.cuh"
#include "ser/error.hpp"
#include "ser/host_device.hpp"
#include "warp_reduce.cuh"

namespace ser::cuda {

namespace {

constexpr int kThreads = 256;        // reduction and map blocks (a multiple of 32)
constexpr int kTailThreads = 1024;   // the single block that finishes the reserved prefix of dx
constexpr int kTargetBlocks = 512;   // aim for about this many reduction blocks
constexpr std::int64_t kMinPerSplit = 4096;
constexpr int kMaxSplitChannels = kTargetBlocks;  // S > 1 implies C < kTargetBlocks
constexpr std::int64_t kMaxMapBlocks = 8192;

struct BnDims {
  int n, c, h, w, hw;  // hw = H * W (< 2^31, checked by the caller)
};

struct BnStatsOut {
  float eps, momentum;
  float* mean;          // (C)
  float* invstd;        // (C)
  float* running_mean;  // (C) or nullptr
  float* running_var;   // (C) or nullptr
};

struct BnBwdArgs {
  const float* x;       // (N, C, H, W)
  const float* dy;      // (N, C, H, W)
  const int* lengths;   // (N) or nullptr
  const float* gamma;   // (C)
  const float* mean;    // (C)
  const float* invstd;  // (C)
  float* dx;            // (N, C, H, W) or nullptr
  float* dgamma;        // (C)
  float* dbeta;         // (C)
};

__device__ __forceinline__ int valid_len(const int* lengths, int n, int h) {
  return nn::valid_length(lengths, n, h);
}

// W * Σ_n valid_len(n): the element count of every channel's statistics.
__device__ std::int64_t valid_count(const BnDims& d, const int* lengths) {
  std::int64_t rows = 0;
  for (int n = 0; n < d.n; ++n) rows += valid_len(lengths, n, d.h);
  return rows * d.w;
}

// The shift K of channel c: its first valid element (0 when there is none). One thread.
__device__ double channel_shift(const BnDims& d, const float* x, const int* lengths, int c) {
  for (int n = 0; n < d.n; ++n)
    if (valid_len(lengths, n, d.h) > 0) return static_cast<double>(x[(static_cast<std::int64_t>(n) * d.c + c) * d.hw]);
  return 0.0;
}

// Slice s of S of the channel's index range [0, N*H*W): [lo, hi).
struct Slice {
  std::int64_t lo, hi;
};
__device__ __forceinline__ Slice slice_of(const BnDims& d, int s, int splits) {
  const std::int64_t e = static_cast<std::int64_t>(d.n) * d.hw;
  const std::int64_t chunk = (e + splits - 1) / splits;
  const std::int64_t lo = min(e, s * chunk);
  return Slice{lo, min(e, lo + chunk)};
}

// Calls f(n, r_lo, r_hi) for every plane n meeting the slice, [r_lo, r_hi) the plane-local part.
template <class F>
__device__ __forceinline__ void for_planes(const BnDims& d, Slice sl, F f) {
  for (int n = static_cast<int>(sl.lo / d.hw); n < d.n && static_cast<std::int64_t>(n) * d.hw < sl.hi; ++n) {
    const std::int64_t base = static_cast<std::int64_t>(n) * d.hw;
    const std::int64_t lo = sl.lo - base, hi = sl.hi - base;
    f(n, static_cast<int>(lo > 0 ? lo : 0), static_cast<int>(hi < d.hw ? hi : static_cast<std::int64_t>(d.hw)));
  }
}

// Block sums of (a, b), valid in thread 0. Fixed order. Called at most once per kernel (static smem).
__device__ void block_sum2(double& a, double& b) {
  __shared__ double sa[32], sb[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  a = warp_sum_down(a);
  b = warp_sum_down(b);
  if (lane == 0) {
    sa[warp] = a;
    sb[warp] = b;
  }
  __syncthreads();
  if (warp == 0) {
    const int warps = static_cast<int>(blockDim.x >> 5);
    a = warp_sum_down(lane < warps ? sa[lane] : 0.0);
    b = warp_sum_down(lane < warps ? sb[lane] : 0.0);
  }
}

// Σ over the S slices of channel c of partials (C, S, 2), in a fixed order; valid in every lane.
__device__ void warp_sum_partials(const double* partials, int c, int splits, double& a, double& b) {
  const int lane = threadIdx.x & 31;
  a = 0.0;
  b = 0.0;
  for (int s = lane; s < splits; s += 32) {
    const double* p = partials + (static_cast<std::int64_t>(c) * splits + s) * 2;
    a += p[0];
    b += p[1];
  }
  a = __shfl_sync(0xffffffffu, warp_sum_down(a), 0);
  b = __shfl_sync(0xffffffffu, warp_sum_down(b), 0);
}

// mean, invstd and running statistics of channel c from its shifted sums (mirror of the twin).
__device__ void finalize_stats(const BnStatsOut& o, int c, double s1, double s2, double shift, std::int64_t count) {
  if (count == 0) {
    o.mean[c] = 0.0f;
    o.invstd[c] = 0.0f;
    return;
  }
  const double cnt = static_cast<double>(count);
  const double m1 = s1 / cnt;
  const double mu = shift + m1;
  const double var = fmax(s2 / cnt - m1 * m1, 0.0);
  o.mean[c] = static_cast<float>(mu);
  o.invstd[c] = static_cast<float>(1.0 / sqrt(var + static_cast<double>(o.eps)));
  const double mom = o.momentum;
  if (o.running_mean)
    o.running_mean[c] = static_cast<float>((1.0 - mom) * static_cast<double>(o.running_mean[c]) + mom * mu);
  if (o.running_var && count > 1)
    o.running_var[c] =
        static_cast<float>((1.0 - mom) * static_cast<double>(o.running_var[c]) + mom * (var * cnt / (cnt - 1.0)));
}

// Per-channel constants of dx = a * (dy - mdy - x̂ * mdyx) (mirror of the twin).
struct BwdCoef {
  float a, mdy, mdyx, mean, invstd;
};
__device__ BwdCoef bwd_coef(const BnBwdArgs& g, int c, double sdy, double sdyx, std::int64_t count) {
  BwdCoef k{0.0f, 0.0f, 0.0f, g.mean[c], g.invstd[c]};
  if (count > 0) {
    k.a = g.gamma[c] * k.invstd;
    k.mdy = static_cast<float>(sdy / static_cast<double>(count));
    k.mdyx = static_cast<float>(sdyx / static_cast<double>(count));
  }
  return k;
}

__device__ __forceinline__ float bwd_dx(const BwdCoef& k, float x, float g) {
  const float xh = (x - k.mean) * k.invstd;
  return k.a * (g - k.mdy - xh * k.mdyx);
}

// ---- training forward -----------------------------------------------------------------------------

// Block (c, s): shifted sums over the valid elements of slice s of channel c. kFinal (S = 1): the
// block finalises the channel's statistics; otherwise it writes partials (C, S, 2).
template <bool kFinal>
__global__ void __launch_bounds__(kThreads)
batchnorm_stats_kernel(BnDims d, int splits, const float* __restrict__ x, const int* __restrict__ lengths,
                       double* partials, BnStatsOut out) {
  const int c = static_cast<int>(blockIdx.x), s = static_cast<int>(blockIdx.y);
  __shared__ double shift_s;
  if (threadIdx.x == 0) shift_s = channel_shift(d, x, lengths, c);
  __syncthreads();
  const double shift = shift_s;
  double s1 = 0.0, s2 = 0.0;
  for_planes(d, slice_of(d, s, splits), [&](int n, int r_lo, int r_hi) {
    const float* xp = x + (static_cast<std::int64_t>(n) * d.c + c) * d.hw;  // (H, W)
    const int end = min(r_hi, valid_len(lengths, n, d.h) * d.w);
    for (int r = r_lo + static_cast<int>(threadIdx.x); r < end; r += kThreads) {
      const double v = static_cast<double>(xp[r]) - shift;
      s1 += v;
      s2 += v * v;
    }
  });
  block_sum2(s1, s2);
  if (threadIdx.x != 0) return;
  if constexpr (kFinal) {
    finalize_stats(out, c, s1, s2, shift, valid_count(d, lengths));
  } else {
    double* p = partials + (static_cast<std::int64_t>(c) * splits + s) * 2;
    p[0] = s1;
    p[1] = s2;
  }
}

// One warp per channel: sums the S partials and finalises (S > 1).
__global__ void __launch_bounds__(kThreads)
batchnorm_stats_finalize_kernel(BnDims d, int splits, const float* __restrict__ x, const int* __restrict__ lengths,
                                const double* partials, BnStatsOut out) {
  const int c = static_cast<int>(blockIdx.x) * (kThreads / 32) + static_cast<int>(threadIdx.x >> 5);
  if (c >= d.c) return;  // whole warps leave together
  double s1 = 0.0, s2 = 0.0;
  warp_sum_partials(partials, c, splits, s1, s2);
  if ((threadIdx.x & 31) == 0)
    finalize_stats(out, c, s1, s2, channel_shift(d, x, lengths, c), valid_count(d, lengths));
}

// y = gamma * ((x - mean) * invstd) + beta at valid steps, 0 elsewhere. kInfer: mean/invstd from the
// running statistics (invstd = 1 / sqrtf(var + eps), correctly rounded, as the twin).
template <typename Idx, bool kInfer>
__global__ void __launch_bounds__(kThreads)
batchnorm_normalize_kernel(BnDims d, Idx total, const float* __restrict__ x, const int* __restrict__ lengths,
                           const float* __restrict__ gamma, const float* __restrict__ beta,
                           const float* __restrict__ mean, const float* __restrict__ scale, float eps,
                           float* __restrict__ y) {
  const Idx stride = static_cast<Idx>(gridDim.x) * blockDim.x;
  for (Idx i = static_cast<Idx>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride) {
    const Idx p = i / static_cast<Idx>(d.hw);  // plane n * C + c
    const int r = static_cast<int>(i - p * static_cast<Idx>(d.hw));
    const int n = static_cast<int>(p / static_cast<Idx>(d.c));
    const int c = static_cast<int>(p - static_cast<Idx>(n) * d.c);
    if (r >= valid_len(lengths, n, d.h) * d.w) {
      y[i] = 0.0f;
      continue;
    }
    const float is = kInfer ? 1.0f / sqrtf(scale[c] + eps) : scale[c];
    y[i] = gamma[c] * ((x[i] - mean[c]) * is) + beta[c];
  }
}

// ---- backward -------------------------------------------------------------------------------------

// Block (c, s): Σ dy and Σ dy x̂ over the valid elements of slice s of channel c. kFused (S = 1): the
// block also adds dgamma/dbeta and writes dx for the whole channel; otherwise it writes partials
// (C, S, 2) (into dx's reserved prefix, hence no __restrict__ on dx-derived pointers).
template <bool kFused>
__global__ void __launch_bounds__(kThreads)
batchnorm_bwd_reduce_kernel(BnDims d, int splits, BnBwdArgs g, double* partials) {
  const int c = static_cast<int>(blockIdx.x), s = static_cast<int>(blockIdx.y);
  const float m = g.mean[c], is = g.invstd[c];
  double sdy = 0.0, sdyx = 0.0;
  for_planes(d, slice_of(d, s, splits), [&](int n, int r_lo, int r_hi) {
    const std::int64_t off = (static_cast<std::int64_t>(n) * d.c + c) * d.hw;
    const int end = min(r_hi, valid_len(g.lengths, n, d.h) * d.w);
    for (int r = r_lo + static_cast<int>(threadIdx.x); r < end; r += kThreads) {
      const float gv = g.dy[off + r];
      const float xh = (g.x[off + r] - m) * is;
      sdy += static_cast<double>(gv);
      sdyx += static_cast<double>(gv) * static_cast<double>(xh);
    }
  });
  block_sum2(sdy, sdyx);
  if constexpr (!kFused) {
    if (threadIdx.x == 0) {
      double* p = partials + (static_cast<std::int64_t>(c) * splits + s) * 2;
      p[0] = sdy;
      p[1] = sdyx;
    }
  } else {
    __shared__ BwdCoef coef_s;
    if (threadIdx.x == 0) {
      g.dgamma[c] += static_cast<float>(sdyx);
      g.dbeta[c] += static_cast<float>(sdy);
      coef_s = bwd_coef(g, c, sdy, sdyx, valid_count(d, g.lengths));
    }
    __syncthreads();
    if (!g.dx) return;
    const BwdCoef k = coef_s;
    for (int n = 0; n < d.n; ++n) {
      const std::int64_t off = (static_cast<std::int64_t>(n) * d.c + c) * d.hw;
      const int end = valid_len(g.lengths, n, d.h) * d.w;
      for (int r = static_cast<int>(threadIdx.x); r < d.hw; r += kThreads)
        g.dx[off + r] = r < end ? bwd_dx(k, g.x[off + r], g.dy[off + r]) : 0.0f;
    }
  }
}

// S > 1, block (c, s): dx over slice s of channel c (padded steps 0), except flat indices below
// `reserved`, which still hold the partials.
__global__ void __launch_bounds__(kThreads)
batchnorm_bwd_dx_kernel(BnDims d, int splits, BnBwdArgs g, const double* partials, std::int64_t reserved) {
  const int c = static_cast<int>(blockIdx.x), s = static_cast<int>(blockIdx.y);
  __shared__ BwdCoef coef_s;
  if (threadIdx.x < 32) {
    double sdy = 0.0, sdyx = 0.0;
    warp_sum_partials(partials, c, splits, sdy, sdyx);
    if (threadIdx.x == 0) coef_s = bwd_coef(g, c, sdy, sdyx, valid_count(d, g.lengths));
  }
  __syncthreads();
  const BwdCoef k = coef_s;
  for_planes(d, slice_of(d, s, splits), [&](int n, int r_lo, int r_hi) {
    const std::int64_t off = (static_cast<std::int64_t>(n) * d.c + c) * d.hw;
    const int end = valid_len(g.lengths, n, d.h) * d.w;
    for (int r = r_lo + static_cast<int>(threadIdx.x); r < r_hi; r += kThreads) {
      if (off + r < reserved) continue;
      g.dx[off + r] = r < end ? bwd_dx(k, g.x[off + r], g.dy[off + r]) : 0.0f;
    }
  });
}

// S > 1, one block: dgamma/dbeta of every channel, then dx at flat indices [0, reserved) once every
// partial has been read into shared memory.
__global__ void __launch_bounds__(kTailThreads)
batchnorm_bwd_tail_kernel(BnDims d, int splits, BnBwdArgs g, const double* partials, std::int64_t reserved) {
  __shared__ BwdCoef coef_s[kMaxSplitChannels];
  const int lane = static_cast<int>(threadIdx.x & 31), warp = static_cast<int>(threadIdx.x >> 5);
  const std::int64_t count = valid_count(d, g.lengths);
  for (int c = warp; c < d.c; c += kTailThreads / 32) {
    double sdy = 0.0, sdyx = 0.0;
    warp_sum_partials(partials, c, splits, sdy, sdyx);
    if (lane == 0) {
      g.dgamma[c] += static_cast<float>(sdyx);
      g.dbeta[c] += static_cast<float>(sdy);
      coef_s[c] = bwd_coef(g, c, sdy, sdyx, count);
    }
  }
  __syncthreads();  // every partial is read before the prefix is overwritten
  for (std::int64_t i = threadIdx.x; i < reserved; i += kTailThreads) {
    const std::int64_t p = i / d.hw;
    const int r = static_cast<int>(i - p * d.hw);
    const int n = static_cast<int>(p / d.c);
    const int c = static_cast<int>(p - static_cast<std::int64_t>(n) * d.c);
    g.dx[i] = r < valid_len(g.lengths, n, d.h) * d.w ? bwd_dx(coef_s[c], g.x[i], g.dy[i]) : 0.0f;
  }
}

// ---- host side --------------------------------------------------------------------------------------

BnDims dims_of(const nn::BatchNormShape& s) { return BnDims{s.n, s.c, s.h, s.w, s.h * s.w}; }

std::int64_t total_of(const nn::BatchNormShape& s) { return static_cast<std::int64_t>(s.n) * s.c * s.h * s.w; }

// Slices per channel: C * S near kTargetBlocks, each slice at least kMinPerSplit elements.
int choose_splits(const nn::BatchNormShape& s) {
  const std::int64_t per_channel = static_cast<std::int64_t>(s.n) * s.h * s.w;
  const std::int64_t by_blocks = (kTargetBlocks + s.c - 1) / s.c;
  const std::int64_t by_size = (per_channel + kMinPerSplit - 1) / kMinPerSplit;
  return static_cast<int>(std::max<std::int64_t>(1, std::min(by_blocks, by_size)));
}

// The partials (C, S, 2) doubles parked at the first 8-byte aligned float of `out`; `reserved` is the
// number of leading floats of `out` they occupy (alignment pad included).
struct Parking {
  double* partials;
  std::int64_t reserved;
};
Parking park(const nn::BatchNormShape& s, int splits, float* out, const char* who) {
  const std::int64_t pad = reinterpret_cast<std::uintptr_t>(out) % 8 == 0 ? 0 : 1;
  const std::int64_t reserved = pad + 4 * static_cast<std::int64_t>(s.c) * splits;
  // choose_splits guarantees both (S > 1 needs N*H*W > kMinPerSplit and C < kTargetBlocks).
  if (reserved > total_of(s) || s.c > kMaxSplitChannels)
    throw Error(std::string(who) + ": internal error: partial sums do not fit the output");
  return Parking{reinterpret_cast<double*>(out + pad), reserved};
}

unsigned map_grid(std::int64_t total) {
  return static_cast<unsigned>(std::clamp<std::int64_t>((total + kThreads - 1) / kThreads, 1, kMaxMapBlocks));
}

template <bool kInfer>
void launch_normalize(const nn::BatchNormShape& s, const float* x, const int* lengths, const float* gamma,
                      const float* beta, const float* mean, const float* scale, float* y, cudaStream_t stream) {
  const BnDims d = dims_of(s);
  const std::int64_t total = total_of(s);
  if (total <= INT_MAX)
    batchnorm_normalize_kernel<unsigned, kInfer><<<map_grid(total), kThreads, 0, stream>>>(
        d, static_cast<unsigned>(total), x, lengths, gamma, beta, mean, scale, s.eps, y);
  else
    batchnorm_normalize_kernel<std::int64_t, kInfer><<<map_grid(total), kThreads, 0, stream>>>(
        d, total, x, lengths, gamma, beta, mean, scale, s.eps, y);
  SER_CUDA_CHECK_LAUNCH("batchnorm_normalize_kernel");
}

}  // namespace

void launch_batchnorm_forward_train(const nn::ExecContext& ctx, const nn::BatchNormShape& s, const float* x,
                                    const int* lengths, const float* gamma, const float* beta, float* y,
                                    float* mean, float* invstd, float* running_mean, float* running_var) {
  const auto stream = static_cast<cudaStream_t>(ctx.stream);
  const BnDims d = dims_of(s);
  const BnStatsOut out{s.eps, s.momentum, mean, invstd, running_mean, running_var};
  const int splits = choose_splits(s);
  if (splits == 1) {
    batchnorm_stats_kernel<true><<<dim3(s.c, 1), kThreads, 0, stream>>>(d, 1, x, lengths, nullptr, out);
    SER_CUDA_CHECK_LAUNCH("batchnorm_stats_kernel");
  } else {
    const Parking pk = park(s, splits, y, "batchnorm_forward_train");
    batchnorm_stats_kernel<false><<<dim3(s.c, splits), kThreads, 0, stream>>>(d, splits, x, lengths, pk.partials, out);
    SER_CUDA_CHECK_LAUNCH("batchnorm_stats_kernel");
    const unsigned blocks = static_cast<unsigned>((s.c + kThreads / 32 - 1) / (kThreads / 32));
    batchnorm_stats_finalize_kernel<<<blocks, kThreads, 0, stream>>>(d, splits, x, lengths, pk.partials, out);
    SER_CUDA_CHECK_LAUNCH("batchnorm_stats_finalize_kernel");
  }
  launch_normalize<false>(s, x, lengths, gamma, beta, mean, invstd, y, stream);
}

void launch_batchnorm_forward_infer(const nn::ExecContext& ctx, const nn::BatchNormShape& s, const float* x,
                                    const int* lengths, const float* gamma, const float* beta,
                                    const float* running_mean, const float* running_var, float* y) {
  launch_normalize<true>(s, x, lengths, gamma, beta, running_mean, running_var, y,
                         static_cast<cudaStream_t>(ctx.stream));
}

void launch_batchnorm_backward(const nn::ExecContext& ctx, const nn::BatchNormShape& s, const float* x,
                               const float* dy, const int* lengths, const float* gamma, const float* mean,
                               const float* invstd, float* dx, float* dgamma, float* dbeta) {
  const auto stream = static_cast<cudaStream_t>(ctx.stream);
  const BnDims d = dims_of(s);
  const BnBwdArgs g{x, dy, lengths, gamma, mean, invstd, dx, dgamma, dbeta};
  const int splits = dx ? choose_splits(s) : 1;  // without dx there is nowhere to park partials
  if (splits == 1) {
    batchnorm_bwd_reduce_kernel<true><<<dim3(s.c, 1), kThreads, 0, stream>>>(d, 1, g, nullptr);
    SER_CUDA_CHECK_LAUNCH("batchnorm_bwd_reduce_kernel");
    return;
  }
  const Parking pk = park(s, splits, dx, "batchnorm_backward");
  batchnorm_bwd_reduce_kernel<false><<<dim3(s.c, splits), kThreads, 0, stream>>>(d, splits, g, pk.partials);
  SER_CUDA_CHECK_LAUNCH("batchnorm_bwd_reduce_kernel");
  batchnorm_bwd_dx_kernel<<<dim3(s.c, splits), kThreads, 0, stream>>>(d, splits, g, pk.partials, pk.reserved);
  SER_CUDA_CHECK_LAUNCH("batchnorm_bwd_dx_kernel");
  batchnorm_bwd_tail_kernel<<<1, kTailThreads, 0, stream>>>(d, splits, g, pk.partials, pk.reserved);
  SER_CUDA_CHECK_LAUNCH("batchnorm_bwd_tail_kernel");
}

}  // namespace ser::cuda
