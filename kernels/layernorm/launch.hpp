// kernels/layernorm/launch.hpp — launchers of the masked layer norm over token features
// (ser/nn/layernorm.hpp), as the dispatch (dispatch.cpp) calls them: x, y, dx, dy (N, T, D), mean and
// rstd (N, T), gamma, beta and their gradients (D). Float, device pointers, lengths (N) on the device
// (nullptr = every utterance T long), asynchronous on ctx.stream, every launch checked; N = 0 launches
// nothing. The dispatch has checked the shape.
//
// CPU twin: cpu.cpp. Tests: tests/test_nn_layernorm_cuda.cpp. Host-only declarations without CUDA
// types: in a build without CUDA, kernels/no_cuda_launchers.cpp defines them.
#pragma once
#include "ser/nn/exec.hpp"

namespace ser::cuda {

// y = (x - mean) * rstd * gamma + beta over each valid row; masked rows write 0 (y, mean, rstd).
void launch_layer_norm_forward(const nn::ExecContext& ctx, int n, int t, int d, float eps, const float* x,
                               const float* gamma, const float* beta, const int* lengths, float* y, float* mean,
                               float* rstd);
// dx overwrite (0 on masked rows), dgamma and dbeta +=.
void launch_layer_norm_backward(const nn::ExecContext& ctx, int n, int t, int d, const float* x, const float* gamma,
                                const float* mean, const float* rstd, const float* dy, const int* lengths, float* dx,
                                float* dgamma, float* dbeta);

}  // namespace ser::cuda
