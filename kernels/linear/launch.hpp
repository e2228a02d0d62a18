// kernels/linear/launch.hpp — the fully connected layer on the GPU (ser/nn/linear.hpp), as the dispatch
// (dispatch.cpp) calls it: cuBLAS SGEMM for the three products, plus a bias broadcast kernel and a
// deterministic column-sum kernel for db. Float, device pointers, asynchronous on ctx.stream;
// ctx.cublas is a cublasHandle_t bound to that stream (checked; see GpuHandles); every cuBLAS status
// and every launch is checked. The dispatch has checked the shape.
//
// CPU twin: cpu.cpp. Tests: tests/test_nn_linear_cuda.cpp. Host-only declarations without CUDA
// types: in a build without CUDA, kernels/no_cuda_launchers.cpp defines them.
#pragma once
#include "ser/nn/exec.hpp"
#include "ser/nn/linear.hpp"

namespace ser::cuda {

// y (M, out) = x (M, in) · w (out, in)^T + b (out) [overwrite]; b may be nullptr.
void launch_linear_forward(const nn::ExecContext& ctx, const nn::LinearShape& s, const float* x, const float* w,
                           const float* b, float* y);
// dx (M, in) = dy · w [overwrite; skipped when nullptr]; dw (out, in) += dy^T · x [skipped when nullptr];
// db (out) += Σ_rows dy [skipped when nullptr].
void launch_linear_backward(const nn::ExecContext& ctx, const nn::LinearShape& s, const float* x, const float* w,
                            const float* dy, float* dx, float* dw, float* db);

}  // namespace ser::cuda
