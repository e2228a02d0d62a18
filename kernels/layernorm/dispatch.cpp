// kernels/layernorm/dispatch.cpp — dispatch of the masked layer norm (ser/nn/layernorm.hpp): the CPU
// twin (cpu.cpp) or the CUDA kernels (launch.hpp, cuda.cu) by ctx.device. The shape is checked here
// once.
#include <string>

#include "layernorm/launch.hpp"
#include "sequence_shape.hpp"
#include "ser/error.hpp"
#include "ser/nn/layernorm.hpp"
#include "ser/nn/op_timer.hpp"

namespace ser::nn {

void layer_norm_forward(const ExecContext& ctx, int n, int t, int d, float eps, const float* x, const float* gamma,
                        const float* beta, const int* lengths, float* y, float* mean, float* rstd) {
  const OpTimer timed(ctx, "layer_norm_forward");
  pool_check_shape(n, t, d, "layer_norm_forward");
  if (!(eps > 0)) throw Error("layer_norm_forward: eps must be positive, found " + std::to_string(eps));
  if (ctx.device == Device::cpu) return layer_norm_forward_cpu<float>(n, t, d, eps, x, gamma, beta, lengths, y, mean, rstd);
  cuda::launch_layer_norm_forward(ctx, n, t, d, eps, x, gamma, beta, lengths, y, mean, rstd);
}

void layer_norm_backward(const ExecContext& ctx, int n, int t, int d, const float* x, const float* gamma,
                         const float* mean, const float* rstd, const float* dy, const int* lengths, float* dx,
                         float* dgamma, float* dbeta) {
  const OpTimer timed(ctx, "layer_norm_backward");
  pool_check_shape(n, t, d, "layer_norm_backward");
  if (ctx.device == Device::cpu)
    return layer_norm_backward_cpu<float>(n, t, d, x, gamma, mean, rstd, dy, lengths, dx, dgamma, dbeta);
  cuda::launch_layer_norm_backward(ctx, n, t, d, x, gamma, mean, rstd, dy, lengths, dx, dgamma, dbeta);
}

}  // namespace ser::nn
