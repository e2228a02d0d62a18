// kernels/maxpool2d.cuh — launchers of masked 2-D max-pooling on the GPU (ser/nn/pool.hpp). Float,
// device pointers (lengths_in too; nullptr = all H valid), asynchronous on `stream`, every launch
// checked. Shapes are validated by the caller (maxpool2d_check_shape).
//
// CPU twin: src/nn/ops/maxpool2d_cpu.cpp. Tests: tests/test_nn_pool_cuda.cpp.
// Host-only declarations, so C++ files may include it.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "ser/nn/pool.hpp"

namespace ser::cuda {

// y (N, C, H_out, W_out), argmax (N, C, H_out, W_out) from x (N, C, H, W).
void launch_maxpool2d_forward(const nn::Pool2dShape& s, const float* x, const int* lengths_in, float* y,
                              std::int32_t* argmax, cudaStream_t stream);
// dx (N, C, H, W) = overwrite, a gather over the windows covering each input element (no atomics).
void launch_maxpool2d_backward(const nn::Pool2dShape& s, const float* dy, const std::int32_t* argmax,
                               float* dx, cudaStream_t stream);

}  // namespace ser::cuda
