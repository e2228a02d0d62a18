// kernels/maxpool2d/cuda.cu — masked 2-D max-pooling, forward and backward. See launch.hpp; the CPU
// twin is cpu.cpp.
//
// Design: both kernels are memory-bound maps over a flat index, one thread per output (forward) or per
// input element (backward), grid-stride so any size fits one launch. The flat index is decomposed with
// 32-bit arithmetic when the tensor has fewer than 2^31 elements (the usual case), 64-bit otherwise.
// Forward applies the twin's rule for the window maximum (first maximum in row-major window order,
// NaN wins). Backward is a gather, not a scatter with atomics: element (h, w) sums dy over the windows
// that cover it and chose it, in row-major output order, which is the order in which the twin's scatter
// adds them, so results are bit-identical to the twin and to every other run.
#include <algorithm>
#include <climits>
#include <cstdint>

#include "cuda_check.cuh"
#include "maxpool2d/launch.hpp"
#include "ser/host_device.hpp"

namespace ser::cuda {

namespace {

constexpr int kThreads = 256;
constexpr std::int64_t kMaxBlocks = 8192;

unsigned grid_for(std::int64_t work) {
  return static_cast<unsigned>(std::clamp<std::int64_t>((work + kThreads - 1) / kThreads, 1, kMaxBlocks));
}

// Valid output rows of sample n (mirror of ser::nn::maxpool2d_valid_rows, shape.hpp).
__device__ __forceinline__ int valid_rows(const int* lengths_in, int n, int h, int kh, int sh, int h_out) {
  if (!lengths_in) return h_out;
  const int len = nn::valid_length(lengths_in, n, h);
  return len >= kh ? (len - kh) / sh + 1 : 0;
}

struct PoolDims {
  int c, h, w, kh, kw, sh, sw, ho, wo;
};

// y (N, C, H_out, W_out), argmax (N, C, H_out, W_out) <- x (N, C, H, W). Idx: 32- or 64-bit flat index.
template <typename Idx>
__global__ void __launch_bounds__(kThreads)
maxpool2d_fwd_kernel(PoolDims d, Idx total, const float* __restrict__ x, const int* __restrict__ lengths_in,
                     float* __restrict__ y, std::int32_t* __restrict__ argmax) {
  const Idx out_plane = static_cast<Idx>(d.ho) * d.wo;
  const Idx in_plane = static_cast<Idx>(d.h) * d.w;
  const Idx stride = static_cast<Idx>(gridDim.x) * blockDim.x;
  for (Idx i = static_cast<Idx>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride) {
    const Idx p = i / out_plane;  // plane n * C + c
    const int rem = static_cast<int>(i - p * out_plane);
    const int oh = rem / d.wo, ow = rem - oh * d.wo;
    const int n = static_cast<int>(p / d.c);
    if (oh >= valid_rows(lengths_in, n, d.h, d.kh, d.sh, d.ho)) {
      y[i] = 0.0f;
      argmax[i] = -1;
      continue;
    }
    const float* xp = x + static_cast<std::int64_t>(p) * in_plane;  // (H, W); 64-bit: x may be larger than y
    const int h0 = oh * d.sh, w0 = ow * d.sw;
    int best_i = h0 * d.w + w0;
    float best = xp[best_i];
    for (int a = 0; a < d.kh; ++a)
      for (int b = 0; b < d.kw; ++b) {
        const int idx = (h0 + a) * d.w + (w0 + b);
        const float v = xp[idx];
        if (v > best || (v != v && best == best)) {
          best = v;
          best_i = idx;
        }
      }
    y[i] = best;
    argmax[i] = best_i;
  }
}

// dx (N, C, H, W) = Σ dy over the windows (oh, ow) covering (h, w) whose argmax is h * W + w.
template <typename Idx>
__global__ void __launch_bounds__(kThreads)
maxpool2d_bwd_gather_kernel(PoolDims d, Idx total, const float* __restrict__ dy,
                            const std::int32_t* __restrict__ argmax, float* __restrict__ dx) {
  const Idx out_plane = static_cast<Idx>(d.ho) * d.wo;
  const Idx in_plane = static_cast<Idx>(d.h) * d.w;
  const Idx stride = static_cast<Idx>(gridDim.x) * blockDim.x;
  for (Idx i = static_cast<Idx>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride) {
    const Idx p = i / in_plane;
    const int e = static_cast<int>(i - p * in_plane);  // h * W + w
    const int h = e / d.w, w = e - h * d.w;
    // Windows oh with oh*sh <= h < oh*sh + kh, clipped to [0, H_out); the same for ow.
    const int oh_lo = h < d.kh ? 0 : (h - d.kh) / d.sh + 1;
    const int oh_hi = min(h / d.sh, d.ho - 1);
    const int ow_lo = w < d.kw ? 0 : (w - d.kw) / d.sw + 1;
    const int ow_hi = min(w / d.sw, d.wo - 1);
    const float* g = dy + static_cast<std::int64_t>(p) * out_plane;              // (H_out, W_out)
    const std::int32_t* am = argmax + static_cast<std::int64_t>(p) * out_plane;  // (H_out, W_out)
    float acc = 0.0f;
    for (int oh = oh_lo; oh <= oh_hi; ++oh)
      for (int ow = ow_lo; ow <= ow_hi; ++ow) {
        const int o = oh * d.wo + ow;
        if (am[o] == e) acc += g[o];
      }
    dx[i] = acc;
  }
}

PoolDims dims_of(const nn::Pool2dShape& s) {
  return PoolDims{s.c, s.h, s.w, s.kh, s.kw, s.sh, s.sw, s.h_out(), s.w_out()};
}

}  // namespace

void launch_maxpool2d_forward(const nn::ExecContext& ctx, const nn::Pool2dShape& s, const float* x,
                              const int* lengths_in, float* y, std::int32_t* argmax) {
  const auto stream = static_cast<cudaStream_t>(ctx.stream);
  const std::int64_t total = static_cast<std::int64_t>(s.n) * s.c * s.h_out() * s.w_out();
  if (total <= 0) return;
  const PoolDims d = dims_of(s);
  if (total <= INT_MAX)
    maxpool2d_fwd_kernel<unsigned><<<grid_for(total), kThreads, 0, stream>>>(d, static_cast<unsigned>(total), x,
                                                                            lengths_in, y, argmax);
  else
    maxpool2d_fwd_kernel<std::int64_t><<<grid_for(total), kThreads, 0, stream>>>(d, total, x, lengths_in, y, argmax);
  SER_CUDA_CHECK_LAUNCH("maxpool2d_fwd_kernel");
}

void launch_maxpool2d_backward(const nn::ExecContext& ctx, const nn::Pool2dShape& s, const float* dy,
                               const std::int32_t* argmax, float* dx) {
  const auto stream = static_cast<cudaStream_t>(ctx.stream);
  const std::int64_t total = static_cast<std::int64_t>(s.n) * s.c * s.h * s.w;
  if (total <= 0) return;
  const PoolDims d = dims_of(s);
  if (total <= INT_MAX)
    maxpool2d_bwd_gather_kernel<unsigned><<<grid_for(total), kThreads, 0, stream>>>(d, static_cast<unsigned>(total),
                                                                                   dy, argmax, dx);
  else
    maxpool2d_bwd_gather_kernel<std::int64_t><<<grid_for(total), kThreads, 0, stream>>>(d, total, dy, argmax, dx);
  SER_CUDA_CHECK_LAUNCH("maxpool2d_bwd_gather_kernel");
}

}  // namespace ser::cuda
