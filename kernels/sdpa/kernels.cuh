// kernels/sdpa/kernels.cuh — device code of the fused scaled dot-product attention (included by
// cuda.cu; launchers and the choice of head-dim bucket there).
//
// Layout: q, k, v, o, dq, dk, dv, dout are (N, T, heads, head_dim); one (sequence n, head h) is a
// (T, head_dim) matrix with row stride ld = heads * head_dim. lse and the backward's row dots D are
// (N, heads, T). len = lengths[n] clamped to [0, T]; rows and keys t >= len are masked.
//
// Tiling, shared by the three attention kernels. A block owns one tile of kBr = 32 "row" positions
// of one (n, h) and streams over tiles of kBc = 32 "column" positions:
//
//   sdpa_fwd_flash_kernel     rows = queries, columns = keys:    O, lse (online softmax)
//   sdpa_bwd_dq_kernel        rows = queries, columns = keys:    dQ = scale Σ_j dS_ij k_j
//   sdpa_bwd_dkdv_kernel      rows = keys,    columns = queries: dK = scale Σ_i dS_ij q_i, dV = Σ_i P_ij dO_i
//
// 128 threads = 16 (ty) x 8 (tx). Thread (ty, tx) holds a 2 x 4 register tile of the (32, 32) score
// block: rows 2ty, 2ty+1 and columns tx, tx+8, tx+16, tx+24; the 8 threads of one ty are 8
// consecutive lanes of one warp, so a row's max / sum is three __shfl_xor_sync steps (1, 2, 4). The
// same thread owns rows 2ty, 2ty+1 of the (32, D) output accumulator, columns in chunks of kW
// (2 or 4) interleaved across tx: chunk m of thread tx is columns [(8m + tx) kW, (8m + tx + 1) kW).
// The score block passes from the threads that computed it to the threads that multiply with it
// through shared memory (ps / dss), separated by __syncthreads.
//
// Shared memory: (rows, D) tiles with row stride D + 4 floats (float4-aligned; rows shift by 4 banks,
// so the 8 different column rows a quarter-warp reads in one float4 load hit 8 different bank groups),
// (32, 32) score tiles with row stride 36. Every tile element is written before it is read: tile
// loads store all kBr x D entries, with 0 for t >= len and for the padding columns head_dim..D, so
// masked or out-of-range rows contribute exact zeros (never 0 * NaN from unwritten memory).
//
// Masking: score (i, j) with i >= len or j >= len is -inf in the forward (p = 0) and p = 0 in the
// backward. A tile of rows that starts at or after len only writes zeros and returns (uniform per
// block, before any barrier). Column tiles run up to ceil(len / kBc), so each holds at least one
// valid column and the running maximum is finite after the first one: no inf - inf.
//
// Determinism: every output element is owned by one thread and summed in a fixed order; no atomics.
#pragma once
#include <cmath>
#include <cstdint>

#include "ser/host_device.hpp"

namespace ser::cuda::sdpa {

constexpr int kThreads = 128;
constexpr int kTx = 8;                 // threads along the columns (consecutive lanes)
constexpr int kTy = kThreads / kTx;    // 16 threads along the rows
constexpr int kBr = 2 * kTy;           // 32 rows per tile, 2 per thread
constexpr int kBc = 4 * kTx;           // 32 columns per tile, 4 per thread
constexpr int kLdS = kBc + 4;          // row stride of (32, 32) score tiles in shared memory
constexpr unsigned kFullMask = 0xffffffffu;

// Compile-time sizes for a head-dim bucket D (16, 32, 64 or 128; head_dim <= D, zero-padded).
template <int D>
struct HeadDim {
  static_assert(D == 16 || D == 32 || D == 64 || D == 128, "head-dim bucket");
  static constexpr int kLd = D + 4;                  // row stride of (rows, D) tiles in shared memory
  static constexpr int kCpt = D / kTx;               // output columns per thread
  static constexpr int kW = kCpt < 4 ? kCpt : 4;     // chunk width: float2 (D = 16) or float4
  static constexpr int kChunks = kCpt / kW;
  static constexpr int kC4 = D / 4;                  // float4s per tile row
  // Dynamic shared memory of each kernel, in floats.
  static constexpr int kFwdFloats = (kBr + 2 * kBc) * kLd + kBr * kLdS;
  static constexpr int kDqFloats = (2 * kBr + 2 * kBc) * kLd + kBr * kLdS + 2 * kBr;
  static constexpr int kDkdvFloats = (2 * kBr + 2 * kBc) * kLd + 2 * kBr * kLdS + 2 * kBc;
};

// Everything but the tensors (passed by value).
struct SdpaParams {
  int n = 0, t = 0, heads = 0, head_dim = 0;
  int ld = 0;          // heads * head_dim
  float scale = 1.0f;
  const int* lengths = nullptr;  // (N) on the device, nullptr = all T
  bool vec4 = false;   // head_dim % 4 == 0 and the loaded tensors 16-byte aligned: float4 tile loads
};

__device__ __forceinline__ int seq_length(const SdpaParams& p, int n) {
  return nn::valid_length(p.lengths, n, p.t);
}

// Offset of element (n, t = 0, h, 0) of a (N, T, heads, head_dim) tensor.
__device__ __forceinline__ std::int64_t head_offset(const SdpaParams& p, int n, int h) {
  return (static_cast<std::int64_t>(n) * p.t * p.heads + h) * p.head_dim;
}

__device__ __forceinline__ float row_max8(float v) {
  v = fmaxf(v, __shfl_xor_sync(kFullMask, v, 1));
  v = fmaxf(v, __shfl_xor_sync(kFullMask, v, 2));
  return fmaxf(v, __shfl_xor_sync(kFullMask, v, 4));
}

__device__ __forceinline__ float row_sum8(float v) {
  v += __shfl_xor_sync(kFullMask, v, 1);
  v += __shfl_xor_sync(kFullMask, v, 2);
  return v + __shfl_xor_sync(kFullMask, v, 4);
}

__device__ __forceinline__ float component(const float4& v, int i) {
  return i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w;
}

// Rows [t0, t0 + 32) of one head xh (T, head_dim; row stride p.ld) -> s (32, D + 4) in shared
// memory; rows t >= valid and columns >= head_dim are stored as 0. Coalesced: consecutive threads
// take consecutive float4s of a row.
template <int D>
__device__ __forceinline__ void load_tile(const SdpaParams& p, const float* __restrict__ xh, int t0, int valid,
                                          float* s) {
  using HD = HeadDim<D>;
  for (int f = threadIdx.x; f < kBr * HD::kC4; f += kThreads) {
    const int r = f / HD::kC4;
    const int c = (f % HD::kC4) * 4;
    const int t = t0 + r;
    float4 val = make_float4(0.f, 0.f, 0.f, 0.f);
    if (t < valid && c < p.head_dim) {
      const float* src = xh + static_cast<std::int64_t>(t) * p.ld + c;
      if (p.vec4) {
        val = *reinterpret_cast<const float4*>(src);  // c + 3 < head_dim since head_dim % 4 == 0
      } else {
        val.x = src[0];
        if (c + 1 < p.head_dim) val.y = src[1];
        if (c + 2 < p.head_dim) val.z = src[2];
        if (c + 3 < p.head_dim) val.w = src[3];
      }
    }
    *reinterpret_cast<float4*>(s + r * HD::kLd + c) = val;
  }
}

// out[r][c] = a_{2ty + r} · b_{tx + 8c} over the D columns of two (32, D + 4) shared tiles.
// a rows are one address per quarter-warp (broadcast); b rows differ by 4 banks (conflict-free).
template <int D>
__device__ __forceinline__ void tile_dot(const float* a, const float* b, int ty, int tx, float out[2][4]) {
  using HD = HeadDim<D>;
#pragma unroll
  for (int r = 0; r < 2; ++r)
#pragma unroll
    for (int c = 0; c < 4; ++c) out[r][c] = 0.f;
  const float* a0 = a + (2 * ty) * HD::kLd;
  const float* a1 = a0 + HD::kLd;
#pragma unroll 4
  for (int d = 0; d < D; d += 4) {
    const float4 x0 = *reinterpret_cast<const float4*>(a0 + d);
    const float4 x1 = *reinterpret_cast<const float4*>(a1 + d);
#pragma unroll
    for (int c = 0; c < 4; ++c) {
      const float4 y = *reinterpret_cast<const float4*>(b + (tx + kTx * c) * HD::kLd + d);
      out[0][c] += x0.x * y.x + x0.y * y.y + x0.z * y.z + x0.w * y.w;
      out[1][c] += x1.x * y.x + x1.y * y.y + x1.z * y.z + x1.w * y.w;
    }
  }
}

// acc[r][e] += Σ_j w[2ty + r][j] * m[j][col(e)] over the 32 columns of the score tile w (32, 36) and
// the rows of the shared tile m (32, D + 4). col(e) is this thread's e-th output column.
template <int D>
__device__ __forceinline__ void tile_accumulate(const float* w, const float* m, int ty, int tx,
                                                float acc[2][HeadDim<D>::kCpt]) {
  using HD = HeadDim<D>;
  const float* w0 = w + (2 * ty) * kLdS;
  const float* w1 = w0 + kLdS;
#pragma unroll 2
  for (int j = 0; j < kBc; j += 4) {
    const float4 p0 = *reinterpret_cast<const float4*>(w0 + j);
    const float4 p1 = *reinterpret_cast<const float4*>(w1 + j);
#pragma unroll
    for (int jj = 0; jj < 4; ++jj) {
      const float s0 = component(p0, jj), s1 = component(p1, jj);
      const float* row = m + (j + jj) * HD::kLd;
#pragma unroll
      for (int ch = 0; ch < HD::kChunks; ++ch) {
        const int col = (ch * kTx + tx) * HD::kW;
        if constexpr (HD::kW == 4) {
          const float4 v = *reinterpret_cast<const float4*>(row + col);
          acc[0][ch * 4 + 0] += s0 * v.x;
          acc[0][ch * 4 + 1] += s0 * v.y;
          acc[0][ch * 4 + 2] += s0 * v.z;
          acc[0][ch * 4 + 3] += s0 * v.w;
          acc[1][ch * 4 + 0] += s1 * v.x;
          acc[1][ch * 4 + 1] += s1 * v.y;
          acc[1][ch * 4 + 2] += s1 * v.z;
          acc[1][ch * 4 + 3] += s1 * v.w;
        } else {
          const float2 v = *reinterpret_cast<const float2*>(row + col);
          acc[0][ch * 2 + 0] += s0 * v.x;
          acc[0][ch * 2 + 1] += s0 * v.y;
          acc[1][ch * 2 + 0] += s1 * v.x;
          acc[1][ch * 2 + 1] += s1 * v.y;
        }
      }
    }
  }
}

// Rows t0 + 2ty + r (r = 0, 1) of one head yh: factor * acc for rows < len, 0 for len <= row < T.
template <int D>
__device__ __forceinline__ void store_rows(const SdpaParams& p, float* __restrict__ yh, int t0, int len, int ty,
                                           int tx, const float acc[2][HeadDim<D>::kCpt], float factor) {
  using HD = HeadDim<D>;
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int t = t0 + 2 * ty + r;
    if (t >= p.t) continue;
    float* dst = yh + static_cast<std::int64_t>(t) * p.ld;
#pragma unroll
    for (int e = 0; e < HD::kCpt; ++e) {
      const int col = ((e / HD::kW) * kTx + tx) * HD::kW + e % HD::kW;
      if (col < p.head_dim) dst[col] = t < len ? factor * acc[r][e] : 0.f;
    }
  }
}

// Rows [t0, min(t0 + 32, T)) of one head yh set to 0 (a fully masked tile).
__device__ __forceinline__ void zero_rows(const SdpaParams& p, float* __restrict__ yh, int t0) {
  const int rows = min(kBr, p.t - t0);
  for (int f = threadIdx.x; f < rows * p.head_dim; f += kThreads)
    yh[static_cast<std::int64_t>(t0 + f / p.head_dim) * p.ld + f % p.head_dim] = 0.f;
}

// ---- forward ----------------------------------------------------------------------------------------

// Grid (ceil(T / 32), heads, N). O rows and lse of one query tile: for each key tile, scores
// S = scale Q K^T, running row max m and (per-thread partial) row sum l, P = exp(S - m) to shared
// memory, O = O * exp(m_old - m) + P V. At the end O / l and lse = m + log l.
template <int D>
__global__ void __launch_bounds__(kThreads)
    sdpa_fwd_flash_kernel(SdpaParams p, const float* __restrict__ q, const float* __restrict__ k,
                          const float* __restrict__ v, float* __restrict__ o, float* __restrict__ lse) {
  using HD = HeadDim<D>;
  const int n = blockIdx.z, h = blockIdx.y, q0 = blockIdx.x * kBr;
  const int tx = threadIdx.x % kTx, ty = threadIdx.x / kTx;
  const int len = seq_length(p, n);
  const std::int64_t head = head_offset(p, n, h);
  float* lse_h = lse + (static_cast<std::int64_t>(n) * p.heads + h) * p.t;  // (T)
  if (q0 >= len) {
    zero_rows(p, o + head, q0);
    for (int r = threadIdx.x; r < kBr && q0 + r < p.t; r += kThreads) lse_h[q0 + r] = 0.f;
    return;
  }
  extern __shared__ float4 sdpa_smem[];
  float* qs = reinterpret_cast<float*>(sdpa_smem);  // (32, D + 4) queries
  float* ks = qs + kBr * HD::kLd;                   // (32, D + 4) keys
  float* vs = ks + kBc * HD::kLd;                   // (32, D + 4) values
  float* ps = vs + kBc * HD::kLd;                   // (32, 36) P of the current key tile

  load_tile<D>(p, q + head, q0, len, qs);
  float m[2] = {-INFINITY, -INFINITY};  // running row max of the scaled scores
  float l[2] = {0.f, 0.f};              // this thread's share of the row sum of exp(S - m)
  float acc[2][HD::kCpt];               // (2, D / 8) unnormalised output rows
#pragma unroll
  for (int r = 0; r < 2; ++r)
#pragma unroll
    for (int e = 0; e < HD::kCpt; ++e) acc[r][e] = 0.f;

  const int key_tiles = (len + kBc - 1) / kBc;
  for (int kt = 0; kt < key_tiles; ++kt) {
    const int k0 = kt * kBc;
    __syncthreads();  // the previous tile's ks, vs, ps are read by everyone
    load_tile<D>(p, k + head, k0, len, ks);
    load_tile<D>(p, v + head, k0, len, vs);
    __syncthreads();
    float s[2][4];
    tile_dot<D>(qs, ks, ty, tx, s);
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      float mx = -INFINITY;
#pragma unroll
      for (int c = 0; c < 4; ++c) {
        s[r][c] = k0 + tx + kTx * c < len ? s[r][c] * p.scale : -INFINITY;
        mx = fmaxf(mx, s[r][c]);
      }
      const float m_new = fmaxf(m[r], row_max8(mx));  // finite: key k0 < len is in this tile
      const float corr = expf(m[r] - m_new);         // 0 on the first tile
      float rs = 0.f;
#pragma unroll
      for (int c = 0; c < 4; ++c) {
        const float e = expf(s[r][c] - m_new);  // 0 for masked keys
        ps[(2 * ty + r) * kLdS + tx + kTx * c] = e;
        rs += e;
      }
      l[r] = l[r] * corr + rs;
      m[r] = m_new;
#pragma unroll
      for (int e = 0; e < HD::kCpt; ++e) acc[r][e] *= corr;
    }
    __syncthreads();
    tile_accumulate<D>(ps, vs, ty, tx, acc);
  }

  float inv[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const float total = row_sum8(l[r]);  // >= 1: the row maximum contributes exp(0)
    inv[r] = 1.0f / total;
    const int t = q0 + 2 * ty + r;
    if (tx == 0 && t < p.t) lse_h[t] = t < len ? m[r] + logf(total) : 0.f;
  }
  // Rows 2ty and 2ty+1 have different 1/l: scale each row before the shared store routine.
#pragma unroll
  for (int r = 0; r < 2; ++r)
#pragma unroll
    for (int e = 0; e < HD::kCpt; ++e) acc[r][e] *= inv[r];
  store_rows<D>(p, o + head, q0, len, ty, tx, acc, 1.0f);
}

// ---- backward -----------------------------------------------------------------------------------

// D (N, heads, T): D[n, h, t] = dO_t · O_t of one head row, 0 for t >= len. One warp per
// (n, t, h) row (rows in memory order), lanes over head_dim, a fixed xor-shuffle tree.
__global__ void __launch_bounds__(256)
    sdpa_bwd_rowdot_kernel(SdpaParams p, const float* __restrict__ o, const float* __restrict__ dout,
                           float* __restrict__ dvec) {
  const std::int64_t rows = static_cast<std::int64_t>(p.n) * p.t * p.heads;
  const std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= rows) return;  // uniform per warp
  const int h = static_cast<int>(row % p.heads);
  const int t = static_cast<int>((row / p.heads) % p.t);
  const int n = static_cast<int>(row / (static_cast<std::int64_t>(p.heads) * p.t));
  float acc = 0.f;
  if (t < seq_length(p, n)) {
    const float* oi = o + row * p.head_dim;
    const float* di = dout + row * p.head_dim;
    for (int d = lane; d < p.head_dim; d += 32) acc += oi[d] * di[d];
  }
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) acc += __shfl_xor_sync(kFullMask, acc, off);
  if (lane == 0) dvec[(static_cast<std::int64_t>(n) * p.heads + h) * p.t + t] = acc;
}

// Grid (ceil(T / 32), heads, N). dQ rows of one query tile: for each key tile, S = scale Q K^T,
// P = exp(S - lse) (masked 0), dP = dO V^T, dS = P (dP - D) to shared memory, dQ += dS K; the scale
// is applied once at the end.
template <int D>
__global__ void __launch_bounds__(kThreads)
    sdpa_bwd_dq_kernel(SdpaParams p, const float* __restrict__ q, const float* __restrict__ k,
                       const float* __restrict__ v, const float* __restrict__ lse, const float* __restrict__ dvec,
                       const float* __restrict__ dout, float* __restrict__ dq) {
  using HD = HeadDim<D>;
  const int n = blockIdx.z, h = blockIdx.y, q0 = blockIdx.x * kBr;
  const int tx = threadIdx.x % kTx, ty = threadIdx.x / kTx;
  const int len = seq_length(p, n);
  const std::int64_t head = head_offset(p, n, h);
  if (q0 >= len) {
    zero_rows(p, dq + head, q0);
    return;
  }
  const std::int64_t row_stat = (static_cast<std::int64_t>(n) * p.heads + h) * p.t;  // into (N, heads, T)
  extern __shared__ float4 sdpa_smem[];
  float* qs = reinterpret_cast<float*>(sdpa_smem);  // (32, D + 4) queries
  float* dos = qs + kBr * HD::kLd;                  // (32, D + 4) output gradients
  float* ks = dos + kBr * HD::kLd;                  // (32, D + 4) keys
  float* vs = ks + kBc * HD::kLd;                   // (32, D + 4) values
  float* dss = vs + kBc * HD::kLd;                  // (32, 36) dS of the current key tile
  float* lse_s = dss + kBr * kLdS;                  // (32)
  float* d_s = lse_s + kBr;                         // (32)

  load_tile<D>(p, q + head, q0, len, qs);
  load_tile<D>(p, dout + head, q0, len, dos);
  for (int r = threadIdx.x; r < kBr; r += kThreads) {
    const bool ok = q0 + r < len;
    lse_s[r] = ok ? lse[row_stat + q0 + r] : 0.f;
    d_s[r] = ok ? dvec[row_stat + q0 + r] : 0.f;
  }
  float acc[2][HD::kCpt];  // (2, D / 8) dQ rows / scale
#pragma unroll
  for (int r = 0; r < 2; ++r)
#pragma unroll
    for (int e = 0; e < HD::kCpt; ++e) acc[r][e] = 0.f;

  const int key_tiles = (len + kBc - 1) / kBc;
  for (int kt = 0; kt < key_tiles; ++kt) {
    const int k0 = kt * kBc;
    __syncthreads();  // the previous tile's ks, dss are read by everyone
    load_tile<D>(p, k + head, k0, len, ks);
    load_tile<D>(p, v + head, k0, len, vs);
    __syncthreads();
    float s[2][4], dp[2][4];
    tile_dot<D>(qs, ks, ty, tx, s);
    tile_dot<D>(dos, vs, ty, tx, dp);
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const int i = 2 * ty + r;
      const bool row_ok = q0 + i < len;
#pragma unroll
      for (int c = 0; c < 4; ++c) {
        const bool ok = row_ok && k0 + tx + kTx * c < len;
        const float pv = ok ? expf(s[r][c] * p.scale - lse_s[i]) : 0.f;
        dss[i * kLdS + tx + kTx * c] = pv * (dp[r][c] - d_s[i]);
      }
    }
    __syncthreads();
    tile_accumulate<D>(dss, ks, ty, tx, acc);
  }
  store_rows<D>(p, dq + head, q0, len, ty, tx, acc, p.scale);
}

// Grid (ceil(T / 32), heads, N). dK, dV rows of one key tile: for each query tile, P^T and
// dP^T = V dO^T (keys as rows), dS^T = P^T (dP^T - D), then dV += P^T dO and dK += dS^T Q; the scale
// of dK is applied once at the end.
template <int D>
__global__ void __launch_bounds__(kThreads)
    sdpa_bwd_dkdv_kernel(SdpaParams p, const float* __restrict__ q, const float* __restrict__ k,
                         const float* __restrict__ v, const float* __restrict__ lse,
                         const float* __restrict__ dvec, const float* __restrict__ dout, float* __restrict__ dk,
                         float* __restrict__ dv) {
  using HD = HeadDim<D>;
  const int n = blockIdx.z, h = blockIdx.y, k0 = blockIdx.x * kBr;
  const int tx = threadIdx.x % kTx, ty = threadIdx.x / kTx;
  const int len = seq_length(p, n);
  const std::int64_t head = head_offset(p, n, h);
  if (k0 >= len) {
    zero_rows(p, dk + head, k0);
    zero_rows(p, dv + head, k0);
    return;
  }
  const std::int64_t row_stat = (static_cast<std::int64_t>(n) * p.heads + h) * p.t;  // into (N, heads, T)
  extern __shared__ float4 sdpa_smem[];
  float* ks = reinterpret_cast<float*>(sdpa_smem);  // (32, D + 4) keys
  float* vs = ks + kBr * HD::kLd;                   // (32, D + 4) values
  float* qs = vs + kBr * HD::kLd;                   // (32, D + 4) queries of the current tile
  float* dos = qs + kBc * HD::kLd;                  // (32, D + 4) their output gradients
  float* ps = dos + kBc * HD::kLd;                  // (32, 36) P^T (key, query)
  float* dss = ps + kBr * kLdS;                     // (32, 36) dS^T (key, query)
  float* lse_s = dss + kBr * kLdS;                  // (32)
  float* d_s = lse_s + kBc;                         // (32)

  load_tile<D>(p, k + head, k0, len, ks);
  load_tile<D>(p, v + head, k0, len, vs);
  float acc_k[2][HD::kCpt], acc_v[2][HD::kCpt];  // (2, D / 8) dK rows / scale, dV rows
#pragma unroll
  for (int r = 0; r < 2; ++r)
#pragma unroll
    for (int e = 0; e < HD::kCpt; ++e) acc_k[r][e] = acc_v[r][e] = 0.f;

  const int query_tiles = (len + kBc - 1) / kBc;
  for (int qt = 0; qt < query_tiles; ++qt) {
    const int i0 = qt * kBc;
    __syncthreads();  // the previous tile's qs, dos, ps, dss, lse_s, d_s are read by everyone
    load_tile<D>(p, q + head, i0, len, qs);
    load_tile<D>(p, dout + head, i0, len, dos);
    for (int c = threadIdx.x; c < kBc; c += kThreads) {
      const bool ok = i0 + c < len;
      lse_s[c] = ok ? lse[row_stat + i0 + c] : 0.f;
      d_s[c] = ok ? dvec[row_stat + i0 + c] : 0.f;
    }
    __syncthreads();
    float st[2][4], dpt[2][4];
    tile_dot<D>(ks, qs, ty, tx, st);   // st[r][c] = k_{2ty+r} · q_{tx+8c}
    tile_dot<D>(vs, dos, ty, tx, dpt); // dpt[r][c] = v_{2ty+r} · dO_{tx+8c}
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const int j = 2 * ty + r;
      const bool key_ok = k0 + j < len;
#pragma unroll
      for (int c = 0; c < 4; ++c) {
        const int i = tx + kTx * c;
        const bool ok = key_ok && i0 + i < len;
        const float pv = ok ? expf(st[r][c] * p.scale - lse_s[i]) : 0.f;
        ps[j * kLdS + i] = pv;
        dss[j * kLdS + i] = pv * (dpt[r][c] - d_s[i]);
      }
    }
    __syncthreads();
    tile_accumulate<D>(ps, dos, ty, tx, acc_v);
    tile_accumulate<D>(dss, qs, ty, tx, acc_k);
  }
  store_rows<D>(p, dk + head, k0, len, ty, tx, acc_k, p.scale);
  store_rows<D>(p, dv + head, k0, len, ty, tx, acc_v, 1.0f);
}

}  // namespace ser::cuda::sdpa
