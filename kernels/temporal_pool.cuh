// kernels/temporal_pool.cuh — launchers of pooling over time (ser/nn/attention.hpp): masked mean
// pooling and attention pooling of x (N, T, D) into y (N, D). Float, device pointers, lengths (N) on
// the device (nullptr = all T), asynchronous on `stream`, every launch checked, deterministic.
// N == 0 launches nothing.
//
// CPU twins: src/nn/ops/temporal_pool_cpu.cpp. Tests: tests/test_nn_attention_cuda.cpp.
// Host-only declarations, so C++ files may include it.
#pragma once
#include <cuda_runtime.h>

namespace ser::cuda {

// y (N, D) = mean over t < lengths[n] (0 when the length is 0).
void launch_mean_pool_forward(int n, int t, int d, const float* x, const int* lengths, float* y,
                              cudaStream_t stream);
// dx (N, T, D) = dy / len at t < len, 0 elsewhere (overwrite).
void launch_mean_pool_backward(int n, int t, int d, const float* dy, const int* lengths, float* dx,
                               cudaStream_t stream);
// alpha (N, T) = softmax over t < len of w · x_t + b (0 elsewhere), y (N, D) = Σ_t alpha_t x_t.
void launch_attn_pool_forward(int n, int t, int d, const float* x, const float* w, const float* b,
                              const int* lengths, float* y, float* alpha, cudaStream_t stream);
// dx (N, T, D) overwrite (also used as scratch between the launches), dw (D) +=, db (1) +=.
void launch_attn_pool_backward(int n, int t, int d, const float* x, const float* w, const float* alpha,
                               const float* dy, const int* lengths, float* dx, float* dw, float* db,
                               cudaStream_t stream);

}  // namespace ser::cuda
