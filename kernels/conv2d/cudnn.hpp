// kernels/conv2d/cudnn.hpp — the cuDNN (vendor) path of 2-D convolution, called by cuda.cu when
// ctx.kernels is KernelPath::vendor. `cudnn` is a cudnnHandle_t already bound to the caller's stream.
// Descriptors and algorithms are chosen once per (handle, shape, deterministic) and cached. FP32
// arithmetic only (TF32 is off). Built without cuDNN, each throws ser::Error saying so.
#pragma once
#include <cstddef>

#include "ser/nn/conv.hpp"

namespace ser::cuda {

std::size_t conv2d_cudnn_workspace_bytes(void* cudnn, bool deterministic, const nn::Conv2dShape& s);
void conv2d_cudnn_forward(void* cudnn, bool deterministic, const nn::Conv2dShape& s, const float* x,
                          const float* w, const float* b, float* y, void* workspace);
void conv2d_cudnn_backward(void* cudnn, bool deterministic, const nn::Conv2dShape& s, const float* x,
                           const float* w, const float* dy, float* dx, float* dw, float* db, void* workspace);

}  // namespace ser::cuda
