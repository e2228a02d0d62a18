// kernels/layout/cuda.cu — (N, C, T, F) <-> (N, T, C*F) and feature concatenation. See launch.hpp;
// the CPU twins are cpu.cpp. Pure copies: the results equal the twins bit for bit.
//
// permute_ct_kernel (both directions): per batch item the op swaps the C and T axes of a (C, T, F)
// block whose F floats stay contiguous. A thread block stages one tile of tc channels x tt time
// steps x fc mel bins in shared memory: it reads the tile in the source's contiguous order (for map:
// runs of tt*fc floats per channel; for tokens: runs of tc*fc floats per time step) and writes it in
// the destination's contiguous order, so both global sides are coalesced. fc = min(F, 64);
// tc = min(C, 32); tt fills the tile up to ~2048 floats. Shared layout [c_l][t_l*fc + f_l] with the
// channel stride padded to ≡ fc (mod 32): walking (c_l, f_l) at fixed t_l — the tokens order — then
// touches 32 consecutive banks, and the map order is contiguous within a channel. Only the valid
// extent of edge tiles is iterated, so every shared element read was written in the same pass.
#include <algorithm>
#include <cstdint>

#include "cuda_check.cuh"
#include "layout/launch.hpp"

namespace ser::cuda {

namespace {

constexpr int kThreads = 256;
constexpr std::int64_t kMaxBlocks = 1 << 20;
constexpr int kTileTarget = 2048;  // floats per tile before padding

struct PermuteTile {
  int tc, tt, fc;  // tile extent in channels, time steps, mel bins
  int row;         // shared stride of one channel: tt * fc rounded up to ≡ fc (mod 32)
  int ctiles, ttiles, fchunks;
};

PermuteTile permute_tile(int c, int t, int f) {
  PermuteTile p{};
  p.fc = std::min(f, 64);
  p.tc = std::min(c, 32);
  p.tt = std::clamp(kTileTarget / (p.tc * p.fc), 1, t);
  const int used = p.tt * p.fc;
  p.row = used + (((p.fc - used) % 32) + 32) % 32;
  p.ctiles = (c + p.tc - 1) / p.tc;
  p.ttiles = (t + p.tt - 1) / p.tt;
  p.fchunks = (f + p.fc - 1) / p.fc;
  return p;
}

template <bool kToTokens>
__global__ void __launch_bounds__(kThreads)
permute_ct_kernel(int n, int c, int t, int f, PermuteTile p, const float* __restrict__ src, float* __restrict__ dst) {
  extern __shared__ float tile[];  // (tc, row): tile[c_l * row + t_l * fc + f_l]
  const std::int64_t tiles = static_cast<std::int64_t>(n) * p.ctiles * p.ttiles * p.fchunks;
  for (std::int64_t b = blockIdx.x; b < tiles; b += gridDim.x) {
    std::int64_t r = b;
    const int fi = static_cast<int>(r % p.fchunks);
    r /= p.fchunks;
    const int ti = static_cast<int>(r % p.ttiles);
    r /= p.ttiles;
    const int ci = static_cast<int>(r % p.ctiles);
    const std::int64_t in = r / p.ctiles;
    const int c0 = ci * p.tc, t0 = ti * p.tt, f0 = fi * p.fc;
    const int nc = min(p.tc, c - c0), nt = min(p.tt, t - t0), nf = min(p.fc, f - f0);  // valid extent
    const int tile_elems = nc * nt * nf;
    // map[n, c0 + c_l, t0 + t_l, f0 + f_l] = map_base + c_l * T*F + t_l * F + f_l
    const std::int64_t map_base = ((in * c + c0) * t + t0) * f + f0;
    // tokens[n, t0 + t_l, (c0 + c_l) * F + f0 + f_l] = tok_base + t_l * C*F + c_l * F + f_l
    const std::int64_t tok_base = ((in * t + t0) * c + c0) * f + f0;
    const std::int64_t map_c = static_cast<std::int64_t>(t) * f, tok_t = static_cast<std::int64_t>(c) * f;

    // 1. read in the source's order
    for (int k = threadIdx.x; k < tile_elems; k += kThreads) {
      if constexpr (kToTokens) {  // (c_l, t_l, f_l)
        const int c_l = k / (nt * nf), rem = k - c_l * nt * nf, t_l = rem / nf, f_l = rem - t_l * nf;
        tile[c_l * p.row + t_l * p.fc + f_l] = src[map_base + c_l * map_c + static_cast<std::int64_t>(t_l) * f + f_l];
      } else {  // (t_l, c_l, f_l)
        const int t_l = k / (nc * nf), rem = k - t_l * nc * nf, c_l = rem / nf, f_l = rem - c_l * nf;
        tile[c_l * p.row + t_l * p.fc + f_l] = src[tok_base + t_l * tok_t + static_cast<std::int64_t>(c_l) * f + f_l];
      }
    }
    __syncthreads();
    // 2. write in the destination's order
    for (int k = threadIdx.x; k < tile_elems; k += kThreads) {
      if constexpr (kToTokens) {  // (t_l, c_l, f_l)
        const int t_l = k / (nc * nf), rem = k - t_l * nc * nf, c_l = rem / nf, f_l = rem - c_l * nf;
        dst[tok_base + t_l * tok_t + static_cast<std::int64_t>(c_l) * f + f_l] = tile[c_l * p.row + t_l * p.fc + f_l];
      } else {  // (c_l, t_l, f_l)
        const int c_l = k / (nt * nf), rem = k - c_l * nt * nf, t_l = rem / nf, f_l = rem - t_l * nf;
        dst[map_base + c_l * map_c + static_cast<std::int64_t>(t_l) * f + f_l] = tile[c_l * p.row + t_l * p.fc + f_l];
      }
    }
    __syncthreads();  // the next tile overwrites the shared tile
  }
}

template <bool kToTokens>
void launch_permute(int n, int c, int t, int f, const float* src, float* dst, cudaStream_t stream) {
  if (n <= 0 || c <= 0 || t <= 0 || f <= 0) return;
  const PermuteTile p = permute_tile(c, t, f);
  const std::int64_t tiles = static_cast<std::int64_t>(n) * p.ctiles * p.ttiles * p.fchunks;
  const std::size_t shared = static_cast<std::size_t>(p.tc) * p.row * sizeof(float);  // <= 12.2 KiB
  permute_ct_kernel<kToTokens><<<static_cast<unsigned>(std::min(tiles, kMaxBlocks)), kThreads, shared, stream>>>(
      n, c, t, f, p, src, dst);
  SER_CUDA_CHECK_LAUNCH("permute_ct_kernel");
}

unsigned grid_for(std::int64_t work) {
  return static_cast<unsigned>(std::clamp<std::int64_t>((work + kThreads - 1) / kThreads, 1, 4096));
}

// y[i, :] = [a[i, :], b[i, :]] over n * (da + db) outputs.
__global__ void __launch_bounds__(kThreads)
concat_kernel(int n, int da, int db, const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ y) {
  const std::int64_t w = static_cast<std::int64_t>(da) + db, total = n * w;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride) {
    const std::int64_t row = i / w, col = i - row * w;
    y[i] = col < da ? a[row * da + col] : b[row * db + (col - da)];
  }
}

__global__ void __launch_bounds__(kThreads)
concat_backward_kernel(int n, int da, int db, const float* __restrict__ dy, float* __restrict__ d_a,
                       float* __restrict__ d_b) {
  const std::int64_t w = static_cast<std::int64_t>(da) + db, total = n * w;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride) {
    const std::int64_t row = i / w, col = i - row * w;
    if (col < da) {
      if (d_a) d_a[row * da + col] = dy[i];
    } else if (d_b) {
      d_b[row * db + (col - da)] = dy[i];
    }
  }
}

}  // namespace

void launch_map_to_tokens(const nn::ExecContext& ctx, int n, int c, int t, int f, const float* map, float* tokens) {
  launch_permute<true>(n, c, t, f, map, tokens, static_cast<cudaStream_t>(ctx.stream));
}

void launch_tokens_to_map(const nn::ExecContext& ctx, int n, int c, int t, int f, const float* tokens, float* map) {
  launch_permute<false>(n, c, t, f, tokens, map, static_cast<cudaStream_t>(ctx.stream));
}

void launch_concat(const nn::ExecContext& ctx, int n, int da, int db, const float* a, const float* b, float* y) {
  const auto stream = static_cast<cudaStream_t>(ctx.stream);
  const std::int64_t total = static_cast<std::int64_t>(n) * (static_cast<std::int64_t>(da) + db);
  if (n <= 0 || da < 0 || db < 0 || total == 0) return;
  concat_kernel<<<grid_for(total), kThreads, 0, stream>>>(n, da, db, a, b, y);
  SER_CUDA_CHECK_LAUNCH("concat_kernel");
}

void launch_concat_backward(const nn::ExecContext& ctx, int n, int da, int db, const float* dy, float* d_a,
                            float* d_b) {
  const auto stream = static_cast<cudaStream_t>(ctx.stream);
  const std::int64_t total = static_cast<std::int64_t>(n) * (static_cast<std::int64_t>(da) + db);
  if (n <= 0 || da < 0 || db < 0 || total == 0 || (!d_a && !d_b)) return;
  concat_backward_kernel<<<grid_for(total), kThreads, 0, stream>>>(n, da, db, dy, d_a, d_b);
  SER_CUDA_CHECK_LAUNCH("concat_backward_kernel");
}

}  // namespace ser::cuda
