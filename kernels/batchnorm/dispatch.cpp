// kernels/batchnorm/dispatch.cpp — dispatch of masked batch normalisation (ser/nn/batchnorm.hpp): the
// CPU twin (cpu.cpp) on Device::cpu, the CUDA kernels (launch.hpp, cuda.cu) on Device::cuda.
#include <climits>
#include <cstdint>
#include <string>

#include "batchnorm/launch.hpp"
#include "batchnorm/shape.hpp"
#include "ser/error.hpp"
#include "ser/nn/batchnorm.hpp"
#include "ser/nn/op_timer.hpp"

namespace ser::nn {

void batchnorm_check_shape(const BatchNormShape& s, const char* who) {
  const auto fail = [&](const std::string& why) {
    throw Error(std::string(who) + ": bad batch-norm shape (N " + std::to_string(s.n) + ", C " +
                std::to_string(s.c) + ", H " + std::to_string(s.h) + ", W " + std::to_string(s.w) + ", eps " +
                std::to_string(s.eps) + ", momentum " + std::to_string(s.momentum) + "): " + why);
  };
  if (s.n < 1 || s.c < 1 || s.h < 1 || s.w < 1) fail("sizes must be >= 1");
  if (!(s.eps > 0.0f)) fail("eps must be > 0");
  if (!(s.momentum >= 0.0f && s.momentum <= 1.0f)) fail("momentum must be in [0, 1]");
  if (static_cast<std::int64_t>(s.h) * s.w > INT_MAX) fail("an (H, W) plane has 2^31 elements or more");
  if (static_cast<std::int64_t>(s.n) * s.c > INT_MAX) fail("N * C is 2^31 or more");
}

namespace {

// Summing the CUDA kernels' per-channel statistics over ranks (NCCL, between the stats and finalise
// kernels and in backward) is not built, so data-parallel training runs on the CPU only.
[[noreturn]] void no_cross_rank_kernels(const char* who) {
  throw Error(std::string(who) + ": data-parallel batch statistics are summed over ranks on the CPU only");
}

}  // namespace

void batchnorm_forward_train(const ExecContext& ctx, const BatchNormShape& s, const float* x, const int* lengths,
                             const float* gamma, const float* beta, float* y, float* mean, float* invstd,
                             float* running_mean, float* running_var) {
  const OpTimer timed(ctx, "batchnorm_forward_train");
  if (ctx.device == Device::cpu)
    return batchnorm_forward_train_cpu<float>(s, x, lengths, gamma, beta, y, mean, invstd, running_mean,
                                              running_var, ctx.ranks);
  if (ctx.ranks) no_cross_rank_kernels("batchnorm_forward_train");
  batchnorm_check_shape(s, "batchnorm_forward_train");
  cuda::launch_batchnorm_forward_train(ctx, s, x, lengths, gamma, beta, y, mean, invstd, running_mean, running_var);
}

void batchnorm_forward_infer(const ExecContext& ctx, const BatchNormShape& s, const float* x, const int* lengths,
                             const float* gamma, const float* beta, const float* running_mean,
                             const float* running_var, float* y) {
  const OpTimer timed(ctx, "batchnorm_forward_infer");
  if (ctx.device == Device::cpu)
    return batchnorm_forward_infer_cpu<float>(s, x, lengths, gamma, beta, running_mean, running_var, y);
  batchnorm_check_shape(s, "batchnorm_forward_infer");
  cuda::launch_batchnorm_forward_infer(ctx, s, x, lengths, gamma, beta, running_mean, running_var, y);
}

void batchnorm_backward(const ExecContext& ctx, const BatchNormShape& s, const float* x, const float* dy,
                        const int* lengths, const float* gamma, const float* mean, const float* invstd, float* dx,
                        float* dgamma, float* dbeta) {
  const OpTimer timed(ctx, "batchnorm_backward");
  if (ctx.device == Device::cpu)
    return batchnorm_backward_cpu<float>(s, x, dy, lengths, gamma, mean, invstd, dx, dgamma, dbeta, ctx.ranks);
  if (ctx.ranks) no_cross_rank_kernels("batchnorm_backward");
  batchnorm_check_shape(s, "batchnorm_backward");
  cuda::launch_batchnorm_backward(ctx, s, x, dy, lengths, gamma, mean, invstd, dx, dgamma, dbeta);
}

}  // namespace ser::nn
