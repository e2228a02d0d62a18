// kernels/conv2d/launch.hpp — the GPU half of 2-D convolution as the dispatch (dispatch.cpp) calls
// it: ser's hand-written implicit-GEMM kernels (cuda.cu, device code in kernels.cuh), or cuDNN
// (cudnn.cu) when ctx.kernels is KernelPath::vendor. Layouts and the gradient contract are those of
// include/ser/nn/conv.hpp: x (N, C_in, H, W), w (C_out, C_in, kh, kw), b (C_out),
// y / dy (N, C_out, H_out, W_out); dx overwritten, dw / db accumulated. Device pointers,
// asynchronous on ctx.stream, every launch checked. The dispatch has checked the shape.
//
// CPU twin: ser::nn::conv2d_forward_cpu / conv2d_backward_cpu (cpu.cpp). Tests:
// tests/test_nn_conv_cuda.cpp. Host-only declarations without CUDA types: in a build without CUDA,
// kernels/no_cuda_launchers.cpp defines them.
#pragma once
#include <cstddef>

#include "ser/nn/conv.hpp"
#include "ser/nn/exec.hpp"

namespace ser::cuda {

// Device scratch the backward needs for s on ctx's path: for the hand-written kernels the split-K
// partial sums of dw, (splits, C_out, C_in*kh*kw) floats, or 0 when one split suffices; for cuDNN the
// largest workspace of its chosen algorithms. The forward needs none of the former.
std::size_t conv2d_workspace_bytes(const nn::ExecContext& ctx, const nn::Conv2dShape& s);

// y = x ⋆ w + b (b may be nullptr).
void launch_conv2d_forward(const nn::ExecContext& ctx, const nn::Conv2dShape& s, const float* x, const float* w,
                           const float* b, float* y, void* workspace);

// dx = (overwrite; skipped when nullptr), dw += (skipped when nullptr), db += (skipped when nullptr).
// `workspace`: at least conv2d_workspace_bytes(ctx, s) bytes of device memory, 4-byte aligned (may
// be nullptr when that is 0). The hand-written path is deterministic: no atomics, fixed sum order.
void launch_conv2d_backward(const nn::ExecContext& ctx, const nn::Conv2dShape& s, const float* x, const float* w,
                            const float* dy, float* dx, float* dw, float* db, void* workspace);

}  // namespace ser::cuda
