// kernels/optim/cuda.cu — the optimizer's elementwise kernels over the flat parameter buffer. See
// launch.hpp; the CPU twins are cpu.cpp.
//
// adam_update_kernel: grid-stride, float4 over params/grads/m/v when all four are 16-byte aligned
// (mask bytes read one by one), the per-element arithmetic is adam::update (adam_math.hpp),
// the CPU twin's function, with rounded intrinsics: bit-identical to the twin.
//
// sum of squares, deterministic two-stage reduction (no atomics):
//  1. sum_squares_partial_kernel: B blocks (B a function of count only, <= kMaxPartials), each
//     thread accumulates x^2 in double over its grid-stride elements, the block reduces by warp
//     shuffles and then warp 0's lane 0 adds the kWarps warp sums in order; partial b goes to
//     workspace[b];
//  2. sum_squares_final_kernel: one block sums the B partials (strided per thread, then the same
//     fixed tree) into workspace[B].
// Same count and pointer -> same grid, same per-thread ranges, same tree -> same bits every run.
#include <algorithm>
#include <cstdint>
#include <string>

#include "cuda_check.cuh"
#include "optim/adam_math.hpp"
#include "optim/launch.hpp"
#include "ser/error.hpp"

namespace ser::cuda {

namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr std::int64_t kMaxBlocks = 4096;
constexpr int kMaxPartials = 1024;        // stage-1 blocks at most
constexpr int kSumItemsPerThread = 32;    // stage 1 adds blocks until each thread has about this many
constexpr unsigned kFullMask = 0xffffffffu;

unsigned grid_for(std::int64_t work) {
  return static_cast<unsigned>(std::clamp<std::int64_t>((work + kThreads - 1) / kThreads, 1, kMaxBlocks));
}

bool aligned16(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; }

int sum_squares_blocks(std::int64_t count) {
  const std::int64_t per_block = static_cast<std::int64_t>(kThreads) * kSumItemsPerThread;
  return static_cast<int>(std::clamp<std::int64_t>((count + per_block - 1) / per_block, 1, kMaxPartials));
}

__device__ __forceinline__ bool decays(const nn::adam::Constants<float>& k, const std::uint8_t* mask, std::int64_t i) {
  return k.decay && (mask == nullptr || mask[i] != 0);
}

template <bool kVec4>
__global__ void __launch_bounds__(kThreads)
adam_update_kernel(std::int64_t count, nn::adam::Constants<float> k, float* __restrict__ p, const float* __restrict__ g,
                   float* __restrict__ m, float* __restrict__ v, const std::uint8_t* __restrict__ mask) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  const std::int64_t tid = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  std::int64_t tail = 0;
  if constexpr (kVec4) {
    const std::int64_t n4 = count / 4;
    for (std::int64_t i = tid; i < n4; i += stride) {
      float4 pp = reinterpret_cast<const float4*>(p)[i];
      const float4 gg = reinterpret_cast<const float4*>(g)[i];
      float4 mm = reinterpret_cast<const float4*>(m)[i];
      float4 vv = reinterpret_cast<const float4*>(v)[i];
      const std::int64_t e = 4 * i;
      nn::adam::update(k, decays(k, mask, e), pp.x, gg.x, mm.x, vv.x);
      nn::adam::update(k, decays(k, mask, e + 1), pp.y, gg.y, mm.y, vv.y);
      nn::adam::update(k, decays(k, mask, e + 2), pp.z, gg.z, mm.z, vv.z);
      nn::adam::update(k, decays(k, mask, e + 3), pp.w, gg.w, mm.w, vv.w);
      reinterpret_cast<float4*>(p)[i] = pp;
      reinterpret_cast<float4*>(m)[i] = mm;
      reinterpret_cast<float4*>(v)[i] = vv;
    }
    tail = 4 * n4;
  }
  for (std::int64_t i = tail + tid; i < count; i += stride) {
    float pp = p[i], mm = m[i], vv = v[i];
    nn::adam::update(k, decays(k, mask, i), pp, g[i], mm, vv);
    p[i] = pp;
    m[i] = mm;
    v[i] = vv;
  }
}

// Sum of v over the block in a fixed tree; the result is valid in thread 0. scratch: kWarps doubles.
__device__ __forceinline__ double block_sum(double v, double* scratch) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(kFullMask, v, o);
  if ((threadIdx.x & 31) == 0) scratch[threadIdx.x >> 5] = v;
  __syncthreads();
  double total = 0.0;
  if (threadIdx.x == 0)
    for (int w = 0; w < kWarps; ++w) total += scratch[w];
  return total;
}

template <bool kVec4>
__global__ void __launch_bounds__(kThreads)
sum_squares_partial_kernel(std::int64_t count, const float* __restrict__ g, double* __restrict__ partials) {
  __shared__ double scratch[kWarps];
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  const std::int64_t tid = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  double acc = 0.0;
  std::int64_t tail = 0;
  if constexpr (kVec4) {
    const std::int64_t n4 = count / 4;
    for (std::int64_t i = tid; i < n4; i += stride) {
      const float4 x = reinterpret_cast<const float4*>(g)[i];
      const double a = x.x, b = x.y, c = x.z, d = x.w;
      acc += a * a;
      acc += b * b;
      acc += c * c;
      acc += d * d;
    }
    tail = 4 * n4;
  }
  for (std::int64_t i = tail + tid; i < count; i += stride) {
    const double a = g[i];
    acc += a * a;
  }
  const double total = block_sum(acc, scratch);
  if (threadIdx.x == 0) partials[blockIdx.x] = total;
}

__global__ void __launch_bounds__(kThreads)
sum_squares_final_kernel(int parts, const double* __restrict__ partials, double* __restrict__ out) {
  __shared__ double scratch[kWarps];
  double acc = 0.0;
  for (int i = threadIdx.x; i < parts; i += kThreads) acc += partials[i];
  const double total = block_sum(acc, scratch);
  if (threadIdx.x == 0) *out = total;
}

template <bool kVec4>
__global__ void __launch_bounds__(kThreads) scale_kernel(std::int64_t count, float factor, float* __restrict__ g) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  const std::int64_t tid = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  std::int64_t tail = 0;
  if constexpr (kVec4) {
    const std::int64_t n4 = count / 4;
    for (std::int64_t i = tid; i < n4; i += stride) {
      float4 x = reinterpret_cast<const float4*>(g)[i];
      x.x *= factor;
      x.y *= factor;
      x.z *= factor;
      x.w *= factor;
      reinterpret_cast<float4*>(g)[i] = x;
    }
    tail = 4 * n4;
  }
  for (std::int64_t i = tail + tid; i < count; i += stride) g[i] *= factor;
}

}  // namespace

void launch_adam_update(const nn::ExecContext& ctx, std::int64_t count, const nn::AdamStep& h, float* params,
                        const float* grads, float* m, float* v, const std::uint8_t* decay_mask) {
  const auto stream = static_cast<cudaStream_t>(ctx.stream);
  const nn::adam::Constants<float> k = nn::adam::constants<float>(h);  // validates h
  if (count <= 0) return;
  if (aligned16(params) && aligned16(grads) && aligned16(m) && aligned16(v))
    adam_update_kernel<true><<<grid_for(count / 4 + count % 4), kThreads, 0, stream>>>(count, k, params, grads, m, v,
                                                                                       decay_mask);
  else
    adam_update_kernel<false><<<grid_for(count), kThreads, 0, stream>>>(count, k, params, grads, m, v, decay_mask);
  SER_CUDA_CHECK_LAUNCH("adam_update_kernel");
}

std::size_t sum_squares_workspace_bytes(std::int64_t count) {
  if (count <= 0) return 0;
  return (static_cast<std::size_t>(sum_squares_blocks(count)) + 1) * sizeof(double);  // partials + result
}

double sum_squares_sync(const nn::ExecContext& ctx, std::int64_t count, const float* g, void* workspace) {
  const auto stream = static_cast<cudaStream_t>(ctx.stream);
  if (count <= 0) return 0.0;
  if (!workspace) throw Error("sum_squares: workspace is null (need sum_squares_workspace_bytes(count) bytes)");
  if (reinterpret_cast<std::uintptr_t>(workspace) % alignof(double) != 0)
    throw Error("sum_squares: workspace must be 8-byte aligned");
  const int blocks = sum_squares_blocks(count);
  auto* partials = static_cast<double*>(workspace);  // (blocks,)
  double* result = partials + blocks;                // (1,)
  if (aligned16(g)) sum_squares_partial_kernel<true><<<blocks, kThreads, 0, stream>>>(count, g, partials);
  else sum_squares_partial_kernel<false><<<blocks, kThreads, 0, stream>>>(count, g, partials);
  SER_CUDA_CHECK_LAUNCH("sum_squares_partial_kernel");
  sum_squares_final_kernel<<<1, kThreads, 0, stream>>>(blocks, partials, result);
  SER_CUDA_CHECK_LAUNCH("sum_squares_final_kernel");
  double host = 0.0;
  SER_CUDA_CHECK(cudaMemcpyAsync(&host, result, sizeof(double), cudaMemcpyDeviceToHost, stream));
  SER_CUDA_CHECK(cudaStreamSynchronize(stream));
  return host;
}

void launch_scale(const nn::ExecContext& ctx, std::int64_t count, float factor, float* g) {
  const auto stream = static_cast<cudaStream_t>(ctx.stream);
  if (count <= 0) return;
  if (aligned16(g)) scale_kernel<true><<<grid_for(count / 4 + count % 4), kThreads, 0, stream>>>(count, factor, g);
  else scale_kernel<false><<<grid_for(count), kThreads, 0, stream>>>(count, factor, g);
  SER_CUDA_CHECK_LAUNCH("scale_kernel");
}

void launch_zero(const nn::ExecContext& ctx, std::int64_t count, float* x) {
  if (count <= 0) return;
  SER_CUDA_CHECK(cudaMemsetAsync(x, 0, static_cast<std::size_t>(count) * sizeof(float),
                                 static_cast<cudaStream_t>(ctx.stream)));
}

}  // namespace ser::cuda
