// src/nn/ops/temporal_pool.cpp — dispatch of masked mean pooling and attention pooling over time
// (ser/nn/attention.hpp): the CPU twins (temporal_pool_cpu.cpp) or the CUDA kernels
// (kernels/temporal_pool.cu) by ctx.device.
#include <string>

#include "nn/ops/sequence_shape.hpp"
#include "nn/ops/dispatch.hpp"
#include "ser/error.hpp"
#include "ser/nn/attention.hpp"

#ifdef SER_WITH_CUDA
#include "temporal_pool.cuh"
#endif

namespace ser::nn {

void mean_pool_forward(const ExecContext& ctx, int n, int t, int d, const float* x, const int* lengths, float* y) {
  const OpTimer timed(ctx, "mean_pool_forward");
  pool_check_shape(n, t, d, "mean_pool_forward");
  if (ctx.device == Device::cpu) return mean_pool_forward_cpu<float>(n, t, d, x, lengths, y);
#ifdef SER_WITH_CUDA
  cuda::launch_mean_pool_forward(n, t, d, x, lengths, y, stream_of(ctx));
#else
  no_cuda("mean_pool_forward");
#endif
}

void mean_pool_backward(const ExecContext& ctx, int n, int t, int d, const float* dy, const int* lengths,
                        float* dx) {
  const OpTimer timed(ctx, "mean_pool_backward");
  pool_check_shape(n, t, d, "mean_pool_backward");
  if (ctx.device == Device::cpu) return mean_pool_backward_cpu<float>(n, t, d, dy, lengths, dx);
#ifdef SER_WITH_CUDA
  cuda::launch_mean_pool_backward(n, t, d, dy, lengths, dx, stream_of(ctx));
#else
  no_cuda("mean_pool_backward");
#endif
}

void attn_pool_forward(const ExecContext& ctx, int n, int t, int d, const float* x, const float* w,
                       const float* b, const int* lengths, float* y, float* alpha) {
  const OpTimer timed(ctx, "attn_pool_forward");
  pool_check_shape(n, t, d, "attn_pool_forward");
  if (ctx.device == Device::cpu) return attn_pool_forward_cpu<float>(n, t, d, x, w, b, lengths, y, alpha);
#ifdef SER_WITH_CUDA
  cuda::launch_attn_pool_forward(n, t, d, x, w, b, lengths, y, alpha, stream_of(ctx));
#else
  no_cuda("attn_pool_forward");
#endif
}

void attn_pool_backward(const ExecContext& ctx, int n, int t, int d, const float* x, const float* w,
                        const float* alpha, const float* dy, const int* lengths, float* dx, float* dw,
                        float* db) {
  const OpTimer timed(ctx, "attn_pool_backward");
  pool_check_shape(n, t, d, "attn_pool_backward");
  if (ctx.device == Device::cpu)
    return attn_pool_backward_cpu<float>(n, t, d, x, w, alpha, dy, lengths, dx, dw, db);
#ifdef SER_WITH_CUDA
  cuda::launch_attn_pool_backward(n, t, d, x, w, alpha, dy, lengths, dx, dw, db, stream_of(ctx));
#else
  no_cuda("attn_pool_backward");
#endif
}

}  // namespace ser::nn
