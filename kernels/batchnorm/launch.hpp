// kernels/batchnorm/launch.hpp — launchers of masked batch normalisation on the GPU (ser/nn/batchnorm.hpp).
// Float, device pointers (lengths too; nullptr = all H valid), asynchronous on ctx.stream, every launch
// checked, deterministic (fixed-order reductions, no atomics). Shapes are validated by the caller
// (dispatch.cpp, batchnorm_check_shape).
//
// No workspace argument: when a channel's statistics are split over several blocks, the per-block
// partial sums are parked at the start of the output the call overwrites anyway (y in forward, dx in
// backward) and that part of the output is written last. Hence y must not alias x, and dx must not
// alias x or dy.
//
// CPU twin: cpu.cpp. Tests: tests/test_nn_batchnorm_cuda.cpp. Host-only declarations without CUDA
// types: in a build without CUDA, kernels/no_cuda_launchers.cpp defines them.
#pragma once
#include "ser/nn/batchnorm.hpp"
#include "ser/nn/exec.hpp"

namespace ser::cuda {

// y (N, C, H, W); mean, invstd (C); running_mean, running_var (C) updated unless nullptr.
void launch_batchnorm_forward_train(const nn::ExecContext& ctx, const nn::BatchNormShape& s, const float* x,
                                    const int* lengths, const float* gamma, const float* beta, float* y,
                                    float* mean, float* invstd, float* running_mean, float* running_var);
void launch_batchnorm_forward_infer(const nn::ExecContext& ctx, const nn::BatchNormShape& s, const float* x,
                                    const int* lengths, const float* gamma, const float* beta,
                                    const float* running_mean, const float* running_var, float* y);
// dx (N, C, H, W) = (may be nullptr: parameter gradients only); dgamma, dbeta (C) += .
void launch_batchnorm_backward(const nn::ExecContext& ctx, const nn::BatchNormShape& s, const float* x,
                               const float* dy, const int* lengths, const float* gamma, const float* mean,
                               const float* invstd, float* dx, float* dgamma, float* dbeta);

}  // namespace ser::cuda
