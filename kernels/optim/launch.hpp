// kernels/optim/launch.hpp — launchers of the optimizer ops (ser/nn/optim_ops.hpp) over the flat
// parameter buffer, as the dispatch (dispatch.cpp) calls them: Adam/AdamW update, deterministic sum
// of squares, scaling, zeroing. Float, device pointers, asynchronous on ctx.stream
// (sum_squares_sync waits for its result); count <= 0 launches nothing.
//
// CPU twins: cpu.cpp. Tests: tests/test_nn_optim_cuda.cpp. Host-only declarations without CUDA
// types: in a build without CUDA, kernels/no_cuda_launchers.cpp defines them.
#pragma once
#include <cstddef>
#include <cstdint>

#include "ser/nn/exec.hpp"
#include "ser/nn/optim_ops.hpp"

namespace ser::cuda {

// params, m, v updated in place from grads; decay_mask (count) bytes on the device or nullptr.
// Throws ser::Error for invalid hyperparameters.
void launch_adam_update(const nn::ExecContext& ctx, std::int64_t count, const nn::AdamStep& h, float* params,
                        const float* grads, float* m, float* v, const std::uint8_t* decay_mask);

// Σ g^2. workspace: sum_squares_workspace_bytes(count) bytes of device memory, 8-byte aligned
// (per-block partials and the result). Enqueues two kernels and a 8-byte copy, then synchronises the
// stream. The grid depends on count only, so the result is the same bit for bit on every run.
std::size_t sum_squares_workspace_bytes(std::int64_t count);
double sum_squares_sync(const nn::ExecContext& ctx, std::int64_t count, const float* g, void* workspace);

void launch_scale(const nn::ExecContext& ctx, std::int64_t count, float factor, float* g);
void launch_zero(const nn::ExecContext& ctx, std::int64_t count, float* x);  // cudaMemsetAsync

}  // namespace ser::cuda
