// kernels/conv2d.cuh — launchers of 2-D convolution on the GPU: ser's hand-written implicit-GEMM
// kernels (conv2d.cu, device code in conv2d_kernels.cuh) and the cuDNN vendor path (conv2d_cudnn.cu,
// built only with SER_WITH_CUDNN). Layouts and the gradient contract are those of
// include/ser/nn/conv.hpp: x (N, C_in, H, W), w (C_out, C_in, kh, kw), b (C_out),
// y / dy (N, C_out, H_out, W_out); dx overwritten, dw / db accumulated.
//
// CPU twin: ser::nn::conv2d_forward_cpu / conv2d_backward_cpu (src/nn/ops/conv2d_cpu.cpp).
// Tests: tests/test_nn_conv_cuda.cpp. Host-only declarations, so C++ files may include it.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>

#include "ser/nn/conv.hpp"

namespace ser::cuda {

// ---- hand-written kernels ------------------------------------------------------------------------

// Device scratch the hand-written backward needs for s: the split-K partial sums of dw,
// (splits, C_out, C_in*kh*kw) floats, or 0 when one split suffices. The forward needs none.
std::size_t conv2d_workspace_bytes(const nn::Conv2dShape& s);

// y = x ⋆ w + b (b may be nullptr). Asynchronous on `stream`; launch checked.
void launch_conv2d_forward(const nn::Conv2dShape& s, const float* x, const float* w, const float* b, float* y,
                           cudaStream_t stream);

// dx = (overwrite; skipped when nullptr), dw += (skipped when nullptr), db += (skipped when nullptr).
// `workspace`: at least conv2d_workspace_bytes(s) bytes of device memory, 4-byte aligned (may be
// nullptr when that is 0). Deterministic: no atomics; every sum runs in a fixed order.
void launch_conv2d_backward(const nn::Conv2dShape& s, const float* x, const float* w, const float* dy, float* dx,
                            float* dw, float* db, void* workspace, cudaStream_t stream);

// ---- cuDNN (vendor path) -------------------------------------------------------------------------
#ifdef SER_WITH_CUDNN

// `cudnn` is a cudnnHandle_t already bound to the caller's stream. Descriptors and algorithms are
// chosen once per (handle, shape, deterministic) and cached. FP32 arithmetic only (TF32 is off).
std::size_t conv2d_cudnn_workspace_bytes(void* cudnn, bool deterministic, const nn::Conv2dShape& s);
void conv2d_cudnn_forward(void* cudnn, bool deterministic, const nn::Conv2dShape& s, const float* x,
                          const float* w, const float* b, float* y, void* workspace);
void conv2d_cudnn_backward(void* cudnn, bool deterministic, const nn::Conv2dShape& s, const float* x,
                           const float* w, const float* dy, float* dx, float* dw, float* db, void* workspace);

#endif  // SER_WITH_CUDNN

}  // namespace ser::cuda
