// kernels/layernorm.cuh — launchers of the masked layer norm over token features
// (ser/nn/layernorm.hpp): x, y, dx, dy (N, T, D), mean and rstd (N, T), gamma, beta and their
// gradients (D). Float, device pointers, asynchronous on `stream`, every launch checked; N = 0
// launches nothing.
//
// CPU twin: src/nn/ops/layernorm_cpu.cpp. Tests: tests/test_nn_layernorm_cuda.cpp.
// Host-only declarations, so C++ files may include it.
#pragma once
#include <cuda_runtime.h>

namespace ser::cuda {

// lengths (N) on the device, nullptr = every utterance T long.
void launch_layer_norm_forward(int n, int t, int d, float eps, const float* x, const float* gamma,
                               const float* beta, const int* lengths, float* y, float* mean, float* rstd,
                               cudaStream_t stream);
void launch_layer_norm_backward(int n, int t, int d, const float* x, const float* gamma, const float* mean,
                                const float* rstd, const float* dy, const int* lengths, float* dx,
                                float* dgamma, float* dbeta, cudaStream_t stream);

}  // namespace ser::cuda
