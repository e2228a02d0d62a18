// kernels/linear.cuh — the fully connected layer on the GPU (ser/nn/linear.hpp): cuBLAS SGEMM for the
// three products, plus a bias broadcast kernel and a deterministic column-sum kernel for db. Float,
// device pointers, asynchronous on `stream`. `cublas` is a cublasHandle_t bound to `stream` (checked;
// see GpuHandles); every cuBLAS status and every launch is checked. Shapes are validated by the
// caller (linear_check_shape).
//
// CPU twin: src/nn/ops/linear_cpu.cpp. Tests: tests/test_nn_linear_cuda.cpp.
// Host-only declarations, so C++ files may include it.
#pragma once
#include <cuda_runtime.h>

#include "ser/nn/linear.hpp"

namespace ser::cuda {

// y (M, out) = x (M, in) · w (out, in)^T + b (out) [overwrite]; b may be nullptr.
void launch_linear_forward(void* cublas, const nn::LinearShape& s, const float* x, const float* w, const float* b,
                           float* y, cudaStream_t stream);
// dx (M, in) = dy · w [overwrite; skipped when nullptr]; dw (out, in) += dy^T · x [skipped when nullptr];
// db (out) += Σ_rows dy [skipped when nullptr].
void launch_linear_backward(void* cublas, const nn::LinearShape& s, const float* x, const float* w, const float* dy,
                            float* dx, float* dw, float* db, cudaStream_t stream);

}  // namespace ser::cuda
