// kernels/elementwise.cuh — launchers of the elementwise training ops (ser/nn/elementwise.hpp):
// ReLU, dropout, time masking, residual add, gradient accumulation. Float, device pointers,
// asynchronous on `stream`, every launch checked; count <= 0 launches nothing.
//
// CPU twins: src/nn/ops/elementwise_cpu.cpp. Tests: tests/test_nn_elementwise_cuda.cpp.
// Host-only declarations, so C++ files may include it.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace ser::cuda {

void launch_relu_forward(std::int64_t count, const float* x, float* y, cudaStream_t stream);
void launch_relu_backward(std::int64_t count, const float* y, const float* dy, float* dx, cudaStream_t stream);
// p in [0, 1] (checked by the caller); in == out allowed.
void launch_dropout(std::int64_t count, float p, std::uint64_t seed, const float* in, float* out,
                    cudaStream_t stream);
// x (N, C, T, F); lengths (N) on the device, nullptr = nothing to mask.
void launch_time_mask(int n, int c, int t, int f, const int* lengths, float* x, cudaStream_t stream);
void launch_add(std::int64_t count, const float* a, const float* b, float* y, cudaStream_t stream);
void launch_accumulate(std::int64_t count, const float* x, float* y, cudaStream_t stream);

}  // namespace ser::cuda
