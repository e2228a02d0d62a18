// kernels/temporal_pool/launch.hpp — launchers of pooling over time (ser/nn/attention.hpp), as the
// dispatch (dispatch.cpp) calls them: masked mean pooling and attention pooling of x (N, T, D) into
// y (N, D). Float, device pointers, lengths (N) on the device (nullptr = all T), asynchronous on
// ctx.stream, every launch checked, deterministic. N == 0 launches nothing. The launchers check the
// GPU's grid limit; the dispatch has checked the shape.
//
// CPU twins: cpu.cpp. Tests: tests/test_nn_attention_cuda.cpp. Host-only declarations without CUDA
// types: in a build without CUDA, kernels/no_cuda_launchers.cpp defines them.
#pragma once
#include "ser/nn/exec.hpp"

namespace ser::cuda {

// y (N, D) = mean over t < lengths[n] (0 when the length is 0).
void launch_mean_pool_forward(const nn::ExecContext& ctx, int n, int t, int d, const float* x, const int* lengths,
                              float* y);
// dx (N, T, D) = dy / len at t < len, 0 elsewhere (overwrite).
void launch_mean_pool_backward(const nn::ExecContext& ctx, int n, int t, int d, const float* dy, const int* lengths,
                               float* dx);
// alpha (N, T) = softmax over t < len of w · x_t + b (0 elsewhere), y (N, D) = Σ_t alpha_t x_t.
void launch_attn_pool_forward(const nn::ExecContext& ctx, int n, int t, int d, const float* x, const float* w,
                              const float* b, const int* lengths, float* y, float* alpha);
// dx (N, T, D) overwrite (also used as scratch between the launches), dw (D) +=, db (1) +=.
void launch_attn_pool_backward(const nn::ExecContext& ctx, int n, int t, int d, const float* x, const float* w,
                               const float* alpha, const float* dy, const int* lengths, float* dx, float* dw,
                               float* db);

}  // namespace ser::cuda
