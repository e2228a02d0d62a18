// kernels/elementwise/launch.hpp — launchers of the elementwise training ops
// (ser/nn/elementwise.hpp), as the dispatch (dispatch.cpp) calls them: ReLU, dropout, time masking,
// residual add, gradient accumulation. Float, device pointers, asynchronous on ctx.stream, every
// launch checked; count <= 0 launches nothing. The dispatch has checked the arguments (shape.hpp).
//
// CPU twins: cpu.cpp. Tests: tests/test_nn_elementwise_cuda.cpp. Host-only declarations without
// CUDA types: in a build without CUDA, kernels/no_cuda_launchers.cpp defines them.
#pragma once
#include <cstdint>

#include "ser/nn/exec.hpp"

namespace ser::cuda {

void launch_relu_forward(const nn::ExecContext& ctx, std::int64_t count, const float* x, float* y);
void launch_relu_backward(const nn::ExecContext& ctx, std::int64_t count, const float* y, const float* dy, float* dx);
// in == out allowed.
void launch_dropout(const nn::ExecContext& ctx, std::int64_t count, float p, std::uint64_t seed, const float* in,
                    float* out);
// x (N, C, T, F); lengths (N) on the device, nullptr = nothing to mask.
void launch_time_mask(const nn::ExecContext& ctx, int n, int c, int t, int f, const int* lengths, float* x);
void launch_add(const nn::ExecContext& ctx, std::int64_t count, const float* a, const float* b, float* y);
void launch_accumulate(const nn::ExecContext& ctx, std::int64_t count, const float* x, float* y);

}  // namespace ser::cuda
