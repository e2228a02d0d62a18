// kernels/temporal_pool/dispatch.cpp — dispatch of masked mean pooling and attention pooling over time
// (ser/nn/attention.hpp): the CPU twins (cpu.cpp) or the CUDA kernels (launch.hpp, cuda.cu) by
// ctx.device. The shape is checked here once.
#include "sequence_shape.hpp"
#include "ser/nn/attention.hpp"
#include "ser/nn/op_timer.hpp"
#include "temporal_pool/launch.hpp"

namespace ser::nn {

void mean_pool_forward(const ExecContext& ctx, int n, int t, int d, const float* x, const int* lengths, float* y) {
  const OpTimer timed(ctx, "mean_pool_forward");
  pool_check_shape(n, t, d, "mean_pool_forward");
  if (ctx.device == Device::cpu) return mean_pool_forward_cpu<float>(n, t, d, x, lengths, y);
  cuda::launch_mean_pool_forward(ctx, n, t, d, x, lengths, y);
}

void mean_pool_backward(const ExecContext& ctx, int n, int t, int d, const float* dy, const int* lengths,
                        float* dx) {
  const OpTimer timed(ctx, "mean_pool_backward");
  pool_check_shape(n, t, d, "mean_pool_backward");
  if (ctx.device == Device::cpu) return mean_pool_backward_cpu<float>(n, t, d, dy, lengths, dx);
  cuda::launch_mean_pool_backward(ctx, n, t, d, dy, lengths, dx);
}

void attn_pool_forward(const ExecContext& ctx, int n, int t, int d, const float* x, const float* w,
                       const float* b, const int* lengths, float* y, float* alpha) {
  const OpTimer timed(ctx, "attn_pool_forward");
  pool_check_shape(n, t, d, "attn_pool_forward");
  if (ctx.device == Device::cpu) return attn_pool_forward_cpu<float>(n, t, d, x, w, b, lengths, y, alpha);
  cuda::launch_attn_pool_forward(ctx, n, t, d, x, w, b, lengths, y, alpha);
}

void attn_pool_backward(const ExecContext& ctx, int n, int t, int d, const float* x, const float* w,
                        const float* alpha, const float* dy, const int* lengths, float* dx, float* dw,
                        float* db) {
  const OpTimer timed(ctx, "attn_pool_backward");
  pool_check_shape(n, t, d, "attn_pool_backward");
  if (ctx.device == Device::cpu)
    return attn_pool_backward_cpu<float>(n, t, d, x, w, alpha, dy, lengths, dx, dw, db);
  cuda::launch_attn_pool_backward(ctx, n, t, d, x, w, alpha, dy, lengths, dx, dw, db);
}

}  // namespace ser::nn
