// kernels/optim.cuh — launchers of the optimizer ops (ser/nn/optim_ops.hpp) over the flat parameter
// buffer: Adam/AdamW update, deterministic sum of squares, scaling, zeroing. Float, device pointers,
// asynchronous on `stream` (sum_squares_sync waits for its result); count <= 0 launches nothing.
//
// CPU twins: src/nn/ops/optim_cpu.cpp. Tests: tests/test_nn_optim_cuda.cpp.
// Host-only declarations, so C++ files may include it.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "ser/nn/optim_ops.hpp"

namespace ser::cuda {

// params, m, v updated in place from grads; decay_mask (count) bytes on the device or nullptr.
// Throws ser::Error for invalid hyperparameters.
void launch_adam_update(std::int64_t count, const nn::AdamStep& h, float* params, const float* grads, float* m,
                        float* v, const std::uint8_t* decay_mask, cudaStream_t stream);

// Σ g^2. workspace: sum_squares_workspace_bytes(count) bytes of device memory, 8-byte aligned
// (per-block partials and the result). Enqueues two kernels and a 8-byte copy, then synchronises the
// stream. The grid depends on count only, so the result is the same bit for bit on every run.
std::size_t sum_squares_workspace_bytes(std::int64_t count);
double sum_squares_sync(std::int64_t count, const float* g, void* workspace, cudaStream_t stream);

void launch_scale(std::int64_t count, float factor, float* g, cudaStream_t stream);
void launch_zero(std::int64_t count, float* x, cudaStream_t stream);  // cudaMemsetAsync

}  // namespace ser::cuda
