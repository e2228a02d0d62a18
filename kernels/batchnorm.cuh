// kernels/batchnorm.cuh — launchers of masked batch normalisation on the GPU (ser/nn/batchnorm.hpp).
// Float, device pointers (lengths too; nullptr = all H valid), asynchronous on `stream`, every launch
// checked, deterministic (fixed-order reductions, no atomics). Shapes are validated by the caller
// (batchnorm_check_shape).
//
// No workspace argument: when a channel's statistics are split over several blocks, the per-block
// partial sums are parked at the start of the output the call overwrites anyway (y in forward, dx in
// backward) and that part of the output is written last. Hence y must not alias x, and dx must not
// alias x or dy.
//
// CPU twin: src/nn/ops/batchnorm_cpu.cpp. Tests: tests/test_nn_batchnorm_cuda.cpp.
// Host-only declarations, so C++ files may include it.
#pragma once
#include <cuda_runtime.h>

#include "ser/nn/batchnorm.hpp"

namespace ser::cuda {

// y (N, C, H, W); mean, invstd (C); running_mean, running_var (C) updated unless nullptr.
void launch_batchnorm_forward_train(const nn::BatchNormShape& s, const float* x, const int* lengths,
                                    const float* gamma, const float* beta, float* y, float* mean, float* invstd,
                                    float* running_mean, float* running_var, cudaStream_t stream);
void launch_batchnorm_forward_infer(const nn::BatchNormShape& s, const float* x, const int* lengths,
                                    const float* gamma, const float* beta, const float* running_mean,
                                    const float* running_var, float* y, cudaStream_t stream);
// dx (N, C, H, W) = (may be nullptr: parameter gradients only); dgamma, dbeta (C) += .
void launch_batchnorm_backward(const nn::BatchNormShape& s, const float* x, const float* dy, const int* lengths,
                               const float* gamma, const float* mean, const float* invstd, float* dx, float* dgamma,
                               float* dbeta, cudaStream_t stream);

}  // namespace ser::cuda
