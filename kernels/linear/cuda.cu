// kernels/linear/cuda.cu — the fully connected layer on the GPU: cuBLAS SGEMM and two small kernels.
// See launch.hpp; the CPU twin is cpu.cpp.
//
// cuBLAS is column-major; a row-major (R, C) buffer is, to cuBLAS, the column-major (C, R) matrix
// with leading dimension C, i.e. the transpose. So every row-major product P = A · B is issued as
// P^T = B^T · A^T on the same buffers:
//   y  (M, out) = x · w^T   ->  y^T  (out, M)  = op_T(w: in×out) · op_N(x: in×M)     beta 0 or 1
//   dx (M, in)  = dy · w    ->  dx^T (in, M)   = op_N(w: in×out) · op_N(dy: out×M)   beta 0
//   dw (out,in) += dy^T · x ->  dw^T (in, out) = op_N(x: in×M)   · op_T(dy: out×M)   beta 1
// The bias is broadcast into y first (linear_bias_broadcast_kernel) so the forward GEMM adds onto it
// with beta = 1: one pass over y, as the twin does. db is a column sum of dy
// (linear_bias_grad_colsum_kernel): fixed-order, no atomics. cuBLAS SGEMM itself is deterministic
// for a given GPU, handle and stream (no split-K atomics unless enabled); no TF32 (the handle keeps
// the default math mode).
#include <cublas_v2.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <string>

#include "cuda_check.cuh"
#include "linear/launch.hpp"
#include "ser/error.hpp"

namespace ser::cuda {

namespace {

void check_cublas(cublasStatus_t st, const char* call) {
  if (st != CUBLAS_STATUS_SUCCESS)
    throw Error(std::string(call) + " failed: " + cublasGetStatusName(st) + " (" + cublasGetStatusString(st) + ")");
}

constexpr int kThreads = 256;
constexpr std::int64_t kMaxBlocks = 8192;
// Column-sum tile: 8 columns (one 32-byte sector per row) x 32 row phases = 256 threads.
constexpr int kSumCols = 8;
constexpr int kSumPhases = kThreads / kSumCols;

// y (M, out) rows = b (out).
template <typename Idx>
__global__ void __launch_bounds__(kThreads)
linear_bias_broadcast_kernel(Idx total, int out, const float* __restrict__ b, float* __restrict__ y) {
  const Idx stride = static_cast<Idx>(gridDim.x) * blockDim.x;
  for (Idx i = static_cast<Idx>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride)
    y[i] = b[i % static_cast<Idx>(out)];
}

// db (out) += Σ_r dy (M, out)[r, :]. Block: columns [8 * blockIdx.x, +8). Thread (phase, col) sums
// rows phase, phase + 32, ... with four interleaved accumulators; then the 32 phase sums of each
// column are added in phase order. Same order on every run.
__global__ void __launch_bounds__(kThreads)
linear_bias_grad_colsum_kernel(int m, int out, const float* __restrict__ dy, float* __restrict__ db) {
  __shared__ float part[kSumPhases][kSumCols];
  const int col = static_cast<int>(threadIdx.x) % kSumCols;
  const int phase = static_cast<int>(threadIdx.x) / kSumCols;
  const int j = static_cast<int>(blockIdx.x) * kSumCols + col;
  float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
  if (j < out) {
    const float* p = dy + j;
    const std::int64_t ld = out;
    std::int64_t r = phase;
    for (; r + 3 * kSumPhases < m; r += 4 * kSumPhases) {
      a0 += p[r * ld];
      a1 += p[(r + kSumPhases) * ld];
      a2 += p[(r + 2 * kSumPhases) * ld];
      a3 += p[(r + 3 * kSumPhases) * ld];
    }
    for (; r < m; r += kSumPhases) a0 += p[r * ld];
  }
  part[phase][col] = (a0 + a1) + (a2 + a3);
  __syncthreads();
  if (phase == 0 && j < out) {
    float total = 0.0f;
    for (int q = 0; q < kSumPhases; ++q) total += part[q][col];
    db[j] += total;
  }
}

cublasHandle_t handle_for(void* cublas, cudaStream_t stream, const char* who) {
  if (!cublas)
    throw Error(std::string(who) + ": the GPU context has no cuBLAS handle (create it with GpuHandles)");
  const auto h = static_cast<cublasHandle_t>(cublas);
  cudaStream_t bound = nullptr;
  check_cublas(cublasGetStream(h, &bound), "cublasGetStream");
  // Our kernels run on `stream` and must be ordered with the GEMMs.
  if (bound != stream) throw Error(std::string(who) + ": the cuBLAS handle is bound to another stream than the context's");
  return h;
}

}  // namespace

void launch_linear_forward(const nn::ExecContext& ctx, const nn::LinearShape& s, const float* x, const float* w,
                           const float* b, float* y) {
  const auto stream = static_cast<cudaStream_t>(ctx.stream);
  const cublasHandle_t h = handle_for(ctx.cublas, stream, "linear_forward");
  if (s.m == 0) return;
  const int m = static_cast<int>(s.m);
  const std::int64_t total = s.m * s.out;
  if (b) {
    const auto grid = static_cast<unsigned>(std::clamp<std::int64_t>((total + kThreads - 1) / kThreads, 1, kMaxBlocks));
    if (total <= INT_MAX)
      linear_bias_broadcast_kernel<unsigned><<<grid, kThreads, 0, stream>>>(static_cast<unsigned>(total), s.out, b, y);
    else
      linear_bias_broadcast_kernel<std::int64_t><<<grid, kThreads, 0, stream>>>(total, s.out, b, y);
    SER_CUDA_CHECK_LAUNCH("linear_bias_broadcast_kernel");
  }
  const float one = 1.0f, beta = b ? 1.0f : 0.0f;
  check_cublas(cublasSgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, s.out, m, s.in, &one, w, s.in, x, s.in, &beta, y, s.out),
               "linear_forward: cublasSgemm (y = x w^T)");
}

void launch_linear_backward(const nn::ExecContext& ctx, const nn::LinearShape& s, const float* x, const float* w,
                            const float* dy, float* dx, float* dw, float* db) {
  const auto stream = static_cast<cudaStream_t>(ctx.stream);
  const cublasHandle_t h = handle_for(ctx.cublas, stream, "linear_backward");
  if (s.m == 0) return;
  const int m = static_cast<int>(s.m);
  const float one = 1.0f, zero = 0.0f;
  if (dx)
    check_cublas(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, s.in, m, s.out, &one, w, s.in, dy, s.out, &zero, dx, s.in),
                 "linear_backward: cublasSgemm (dx = dy w)");
  if (dw)
    check_cublas(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_T, s.in, s.out, m, &one, x, s.in, dy, s.out, &one, dw, s.in),
                 "linear_backward: cublasSgemm (dw += dy^T x)");
  if (db) {
    const auto grid = static_cast<unsigned>((s.out + kSumCols - 1) / kSumCols);
    linear_bias_grad_colsum_kernel<<<grid, kThreads, 0, stream>>>(m, s.out, dy, db);
    SER_CUDA_CHECK_LAUNCH("linear_bias_grad_colsum_kernel");
  }
}

}  // namespace ser::cuda
