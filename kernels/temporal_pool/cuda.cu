// kernels/temporal_pool/cuda.cu — launchers of masked mean pooling and attention pooling over time
// (device code and design notes in kernels.cuh).
#include <algorithm>
#include <cstdint>
#include <string>

#include "cuda_check.cuh"
#include "ser/error.hpp"
#include "temporal_pool/kernels.cuh"
#include "temporal_pool/launch.hpp"

namespace ser::cuda {
namespace {

using namespace tpool;

void check_dims(int n, int t, int d, const char* who) {
  if (n < 0 || t < 1 || d < 1)
    throw Error(std::string(who) + ": bad pooling shape (N " + std::to_string(n) + ", T " + std::to_string(t) +
                ", D " + std::to_string(d) + ")");
  if ((d + kSumX - 1) / kSumX > 65535)
    throw Error(std::string(who) + ": D = " + std::to_string(d) + " exceeds the GPU grid limit");
}

// Blocks of kRowThreads threads for one warp per (n, t) row.
unsigned row_blocks(int n, int t) {
  const std::int64_t rows = static_cast<std::int64_t>(n) * t;
  return static_cast<unsigned>((rows + kRowThreads / 32 - 1) / (kRowThreads / 32));
}

dim3 sum_grid(int n, int d) { return dim3(static_cast<unsigned>(n), static_cast<unsigned>((d + kSumX - 1) / kSumX)); }

}  // namespace

void launch_mean_pool_forward(const nn::ExecContext& ctx, int n, int t, int d, const float* x, const int* lengths,
                              float* y) {
  const auto stream = static_cast<cudaStream_t>(ctx.stream);
  check_dims(n, t, d, "mean_pool_forward");
  if (n == 0) return;
  temporal_weighted_sum_kernel<true><<<sum_grid(n, d), dim3(kSumX, kSumY), 0, stream>>>(t, d, x, lengths, nullptr, y);
  SER_CUDA_CHECK_LAUNCH("temporal_weighted_sum_kernel");
}

void launch_mean_pool_backward(const nn::ExecContext& ctx, int n, int t, int d, const float* dy, const int* lengths,
                               float* dx) {
  const auto stream = static_cast<cudaStream_t>(ctx.stream);
  check_dims(n, t, d, "mean_pool_backward");
  if (n == 0) return;
  const std::int64_t count = static_cast<std::int64_t>(n) * t * d;
  const auto blocks = static_cast<unsigned>(std::clamp<std::int64_t>((count + 255) / 256, 1, 4096));
  mean_pool_bwd_kernel<<<blocks, 256, 0, stream>>>(n, t, d, dy, lengths, dx);
  SER_CUDA_CHECK_LAUNCH("mean_pool_bwd_kernel");
}

void launch_attn_pool_forward(const nn::ExecContext& ctx, int n, int t, int d, const float* x, const float* w,
                              const float* b, const int* lengths, float* y, float* alpha) {
  const auto stream = static_cast<cudaStream_t>(ctx.stream);
  check_dims(n, t, d, "attn_pool_forward");
  if (n == 0) return;
  attn_pool_score_kernel<<<row_blocks(n, t), kRowThreads, 0, stream>>>(n, t, d, x, w, b, lengths, alpha);
  SER_CUDA_CHECK_LAUNCH("attn_pool_score_kernel");
  attn_pool_softmax_kernel<<<static_cast<unsigned>(n), kRowThreads, 0, stream>>>(t, lengths, alpha);
  SER_CUDA_CHECK_LAUNCH("attn_pool_softmax_kernel");
  temporal_weighted_sum_kernel<false><<<sum_grid(n, d), dim3(kSumX, kSumY), 0, stream>>>(t, d, x, lengths, alpha, y);
  SER_CUDA_CHECK_LAUNCH("temporal_weighted_sum_kernel");
}

void launch_attn_pool_backward(const nn::ExecContext& ctx, int n, int t, int d, const float* x, const float* w,
                               const float* alpha, const float* dy, const int* lengths, float* dx, float* dw,
                               float* db) {
  const auto stream = static_cast<cudaStream_t>(ctx.stream);
  check_dims(n, t, d, "attn_pool_backward");
  if (n == 0) return;
  attn_pool_bwd_score_kernel<<<static_cast<unsigned>(n), kRowThreads, 0, stream>>>(t, d, x, alpha, dy, lengths, dx);
  SER_CUDA_CHECK_LAUNCH("attn_pool_bwd_score_kernel");
  attn_pool_bwd_param_kernel<<<static_cast<unsigned>((d + kSumX - 1) / kSumX), dim3(kSumX, kSumY), 0, stream>>>(
      n, t, d, x, lengths, dx, dw, db);
  SER_CUDA_CHECK_LAUNCH("attn_pool_bwd_param_kernel");
  attn_pool_bwd_dx_kernel<<<row_blocks(n, t), kRowThreads, 0, stream>>>(n, t, d, w, alpha, dy, lengths, dx);
  SER_CUDA_CHECK_LAUNCH("attn_pool_bwd_dx_kernel");
}

}  // namespace ser::cuda
