// src/nn/ops/layernorm.cpp — dispatch of the masked layer norm (ser/nn/layernorm.hpp): the CPU twin
// (layernorm_cpu.cpp) or the CUDA kernels (kernels/layernorm.cu) by ctx.device.
#include "ser/nn/layernorm.hpp"

#include <string>

#include "sequence_shape.hpp"
#include "nn/ops/dispatch.hpp"
#include "ser/error.hpp"

#ifdef SER_WITH_CUDA
#include "layernorm.cuh"
#endif

namespace ser::nn {

void layer_norm_forward(const ExecContext& ctx, int n, int t, int d, float eps, const float* x, const float* gamma,
                        const float* beta, const int* lengths, float* y, float* mean, float* rstd) {
  const OpTimer timed(ctx, "layer_norm_forward");
  pool_check_shape(n, t, d, "layer_norm_forward");
  if (!(eps > 0)) throw Error("layer_norm_forward: eps must be positive, found " + std::to_string(eps));
  if (ctx.device == Device::cpu) return layer_norm_forward_cpu<float>(n, t, d, eps, x, gamma, beta, lengths, y, mean, rstd);
#ifdef SER_WITH_CUDA
  cuda::launch_layer_norm_forward(n, t, d, eps, x, gamma, beta, lengths, y, mean, rstd, stream_of(ctx));
#else
  no_cuda("layer_norm_forward");
#endif
}

void layer_norm_backward(const ExecContext& ctx, int n, int t, int d, const float* x, const float* gamma,
                         const float* mean, const float* rstd, const float* dy, const int* lengths, float* dx,
                         float* dgamma, float* dbeta) {
  const OpTimer timed(ctx, "layer_norm_backward");
  pool_check_shape(n, t, d, "layer_norm_backward");
  if (ctx.device == Device::cpu)
    return layer_norm_backward_cpu<float>(n, t, d, x, gamma, mean, rstd, dy, lengths, dx, dgamma, dbeta);
#ifdef SER_WITH_CUDA
  cuda::launch_layer_norm_backward(n, t, d, x, gamma, mean, rstd, dy, lengths, dx, dgamma, dbeta, stream_of(ctx));
#else
  no_cuda("layer_norm_backward");
#endif
}

}  // namespace ser::nn
