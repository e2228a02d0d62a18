// kernels/warp_reduce.cuh — the fixed-order warp reductions every kernel uses (one copy). All 32 lanes
// of the warp must take part (full mask). Two shapes, which round differently and are not
// interchangeable where a kernel's bits are pinned to its CPU twin's:
//   *_xor   butterfly (xor 16, 8, 4, 2, 1): every lane ends with the result;
//   *_down  tree towards lane 0 (down 16, 8, 4, 2, 1): the result is valid in lane 0 only.
#pragma once

namespace ser::cuda {

constexpr unsigned kFullWarpMask = 0xffffffffu;

template <typename T>
__device__ __forceinline__ T warp_sum_xor(T v) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(kFullWarpMask, v, off);
  return v;
}

__device__ __forceinline__ float warp_max_xor(float v) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) v = fmaxf(v, __shfl_xor_sync(kFullWarpMask, v, off));
  return v;
}

template <typename T>
__device__ __forceinline__ T warp_sum_down(T v) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(kFullWarpMask, v, off);
  return v;
}

__device__ __forceinline__ int warp_min_down(int v) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) v = min(v, __shfl_down_sync(kFullWarpMask, v, off));
  return v;
}

}  // namespace ser::cuda
