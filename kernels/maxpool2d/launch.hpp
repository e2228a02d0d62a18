// kernels/maxpool2d/launch.hpp — launchers of masked 2-D max-pooling on the GPU (ser/nn/pool.hpp), as
// the dispatch (dispatch.cpp) calls them. Float, device pointers (lengths_in too; nullptr = all H
// valid), asynchronous on ctx.stream, every launch checked. The dispatch has checked the shape.
//
// CPU twin: cpu.cpp. Tests: tests/test_nn_pool_cuda.cpp. Host-only declarations without CUDA types:
// in a build without CUDA, kernels/no_cuda_launchers.cpp defines them.
#pragma once
#include <cstdint>

#include "ser/nn/exec.hpp"
#include "ser/nn/pool.hpp"

namespace ser::cuda {

// y (N, C, H_out, W_out), argmax (N, C, H_out, W_out) from x (N, C, H, W).
void launch_maxpool2d_forward(const nn::ExecContext& ctx, const nn::Pool2dShape& s, const float* x,
                              const int* lengths_in, float* y, std::int32_t* argmax);
// dx (N, C, H, W) = overwrite, a gather over the windows covering each input element (no atomics).
void launch_maxpool2d_backward(const nn::ExecContext& ctx, const nn::Pool2dShape& s, const float* dy,
                               const std::int32_t* argmax, float* dx);

}  // namespace ser::cuda
