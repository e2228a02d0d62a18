// kernels/elementwise/cuda.cu — ReLU, dropout, time masking, residual add and gradient
// accumulation. See launch.hpp; the CPU twins are cpu.cpp.
//
// Design: memory-bound streaming kernels, one grid-stride loop each (kThreads per block, at most
// kMaxBlocks blocks, so one launch covers any count). When every pointer is 16-byte aligned the loop
// moves float4s over count / 4 vectors and the same grid then finishes the count % 4 tail
// element-wise. Every element is computed with the float operations the CPU twin uses, in the same
// order, so results match it bit for bit (dropout's mask comes from the shared counter RNG, indexed
// by the element's position in the whole buffer). No __restrict__: in-place calls alias.
#include <algorithm>
#include <cstdint>

#include "cuda_check.cuh"
#include "elementwise/launch.hpp"
#include "ser/host_device.hpp"
#include "ser/nn/counter_rng.hpp"

namespace ser::cuda {

namespace {

constexpr int kThreads = 256;
constexpr std::int64_t kMaxBlocks = 4096;  // 1M threads in flight: enough to saturate HBM

unsigned grid_for(std::int64_t work) {
  return static_cast<unsigned>(std::clamp<std::int64_t>((work + kThreads - 1) / kThreads, 1, kMaxBlocks));
}

bool aligned16(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; }

// y[i] = op(i, a[i], b[i]) for i < count (b read only when kInputs == 2). kVec4: a, b, y are
// 16-byte aligned.
template <int kInputs, bool kVec4, class Op>
__device__ __forceinline__ void map_elements(std::int64_t count, const float* a, const float* b, float* y, Op op) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  const std::int64_t tid = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  std::int64_t tail = 0;
  if constexpr (kVec4) {
    const std::int64_t n4 = count / 4;
    for (std::int64_t i = tid; i < n4; i += stride) {
      const float4 va = reinterpret_cast<const float4*>(a)[i];
      float4 vb = make_float4(0.f, 0.f, 0.f, 0.f);
      if constexpr (kInputs == 2) vb = reinterpret_cast<const float4*>(b)[i];
      const std::int64_t e = 4 * i;
      float4 r;
      r.x = op(e, va.x, vb.x);
      r.y = op(e + 1, va.y, vb.y);
      r.z = op(e + 2, va.z, vb.z);
      r.w = op(e + 3, va.w, vb.w);
      reinterpret_cast<float4*>(y)[i] = r;
    }
    tail = 4 * n4;
  }
  for (std::int64_t i = tail + tid; i < count; i += stride) {
    const float vb = kInputs == 2 ? b[i] : 0.f;
    y[i] = op(i, a[i], vb);
  }
}

template <bool kVec4>
__global__ void __launch_bounds__(kThreads) relu_forward_kernel(std::int64_t count, const float* x, float* y) {
  // x < 0 ? 0 : x, as the twin: NaN passes through.
  map_elements<1, kVec4>(count, x, nullptr, y, [](std::int64_t, float v, float) { return v < 0.f ? 0.f : v; });
}

template <bool kVec4>
__global__ void __launch_bounds__(kThreads)
relu_backward_kernel(std::int64_t count, const float* y, const float* dy, float* dx) {
  map_elements<2, kVec4>(count, y, dy, dx, [](std::int64_t, float yv, float g) { return yv > 0.f ? g : 0.f; });
}

template <bool kVec4>
__global__ void __launch_bounds__(kThreads)
dropout_kernel(std::int64_t count, float p, float scale, std::uint64_t seed, const float* in, float* out) {
  map_elements<1, kVec4>(count, in, nullptr, out, [=](std::int64_t i, float v, float) {
    return ser::nn::uniform01(seed, static_cast<std::uint64_t>(i)) >= p ? v * scale : 0.f;
  });
}

template <bool kVec4>
__global__ void __launch_bounds__(kThreads) add_kernel(std::int64_t count, const float* a, const float* b, float* y) {
  map_elements<2, kVec4>(count, a, b, y, [](std::int64_t, float u, float v) { return u + v; });
}

template <bool kVec4>
__global__ void __launch_bounds__(kThreads) accumulate_kernel(std::int64_t count, const float* x, float* y) {
  map_elements<2, kVec4>(count, y, x, y, [](std::int64_t, float acc, float v) { return acc + v; });
}

// One (T, F) plane of x (N, C, T, F) per block iteration: zero rows t >= lengths[n].
__global__ void __launch_bounds__(kThreads)
time_mask_kernel(int n, int c, int t, int f, const int* __restrict__ lengths, float* __restrict__ x) {
  const std::int64_t planes = static_cast<std::int64_t>(n) * c;
  const std::int64_t plane = static_cast<std::int64_t>(t) * f;
  for (std::int64_t p = blockIdx.x; p < planes; p += gridDim.x) {
    const int len = nn::valid_length(lengths, static_cast<int>(p / c), t);
    float* row = x + p * plane;  // (T, F)
    for (std::int64_t j = static_cast<std::int64_t>(len) * f + threadIdx.x; j < plane; j += kThreads) row[j] = 0.f;
  }
}

// Launches kernel<true> when every pointer is 16-byte aligned, else kernel<false>.
template <class Vec, class Scalar, class... Args>
void launch_map(std::int64_t count, bool vec, Vec vec_kernel, Scalar scalar_kernel, cudaStream_t stream,
                Args... args) {
  if (vec) vec_kernel<<<grid_for(count / 4 + count % 4), kThreads, 0, stream>>>(count, args...);
  else scalar_kernel<<<grid_for(count), kThreads, 0, stream>>>(count, args...);
  SER_CUDA_CHECK_LAUNCH("elementwise kernel");
}

}  // namespace

void launch_relu_forward(const nn::ExecContext& ctx, std::int64_t count, const float* x, float* y) {
  const auto stream = static_cast<cudaStream_t>(ctx.stream);
  if (count <= 0) return;
  launch_map(count, aligned16(x) && aligned16(y), relu_forward_kernel<true>, relu_forward_kernel<false>, stream, x, y);
}

void launch_relu_backward(const nn::ExecContext& ctx, std::int64_t count, const float* y, const float* dy, float* dx) {
  const auto stream = static_cast<cudaStream_t>(ctx.stream);
  if (count <= 0) return;
  launch_map(count, aligned16(y) && aligned16(dy) && aligned16(dx), relu_backward_kernel<true>,
             relu_backward_kernel<false>, stream, y, dy, dx);
}

void launch_dropout(const nn::ExecContext& ctx, std::int64_t count, float p, std::uint64_t seed, const float* in,
                    float* out) {
  const auto stream = static_cast<cudaStream_t>(ctx.stream);
  if (count <= 0) return;
  if (p == 0.0f) {  // a copy (nothing to do in place)
    if (in != out)
      SER_CUDA_CHECK(cudaMemcpyAsync(out, in, static_cast<std::size_t>(count) * sizeof(float),
                                     cudaMemcpyDeviceToDevice, stream));
    return;
  }
  const float scale = 1.0f / (1.0f - p);  // as the CPU twin; unused at p = 1 (nothing kept)
  launch_map(count, aligned16(in) && aligned16(out), dropout_kernel<true>, dropout_kernel<false>, stream, p, scale,
             seed, in, out);
}

void launch_time_mask(const nn::ExecContext& ctx, int n, int c, int t, int f, const int* lengths, float* x) {
  const auto stream = static_cast<cudaStream_t>(ctx.stream);
  if (!lengths || n <= 0 || c <= 0 || t <= 0 || f <= 0) return;
  const std::int64_t planes = static_cast<std::int64_t>(n) * c;
  time_mask_kernel<<<static_cast<unsigned>(std::min(planes, kMaxBlocks)), kThreads, 0, stream>>>(n, c, t, f, lengths, x);
  SER_CUDA_CHECK_LAUNCH("time_mask_kernel");
}

void launch_add(const nn::ExecContext& ctx, std::int64_t count, const float* a, const float* b, float* y) {
  const auto stream = static_cast<cudaStream_t>(ctx.stream);
  if (count <= 0) return;
  launch_map(count, aligned16(a) && aligned16(b) && aligned16(y), add_kernel<true>, add_kernel<false>, stream, a, b, y);
}

void launch_accumulate(const nn::ExecContext& ctx, std::int64_t count, const float* x, float* y) {
  const auto stream = static_cast<cudaStream_t>(ctx.stream);
  if (count <= 0) return;
  launch_map(count, aligned16(x) && aligned16(y), accumulate_kernel<true>, accumulate_kernel<false>, stream, x, y);
}

}  // namespace ser::cuda
