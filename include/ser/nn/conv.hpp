// ser/nn/conv.hpp — 2-D convolution (cross-correlation, as PyTorch's Conv2d), groups = 1.
#pragma once
#include <cstddef>

#include "ser/nn/exec.hpp"

namespace ser::nn {

struct Conv2dShape {
  int n = 1, c_in = 1, h = 1, w = 1;  // input (N, C_in, H, W); H = time, W = mel
  int c_out = 1;
  int kh = 3, kw = 3;  // kernel
  int sh = 1, sw = 1;  // stride
  int ph = 1, pw = 1;  // zero padding on both sides
  int h_out() const { return (h + 2 * ph - kh) / sh + 1; }
  int w_out() const { return (w + 2 * pw - kw) / sw + 1; }
  double flops_forward() const;  // 2 * N * C_out * H_out * W_out * C_in * kh * kw
};

// y (N, C_out, H_out, W_out) = x (N, C_in, H, W) ⋆ w (C_out, C_in, kh, kw) + b (C_out)   [overwrite]
// b may be nullptr (no bias).
template <typename T>
void conv2d_forward_cpu(const Conv2dShape& s, const T* x, const T* w, const T* b, T* y);

// dx (N, C_in, H, W) = overwrite (skipped when dx is nullptr);
// dw (C_out, C_in, kh, kw) += ; db (C_out) += (skipped when nullptr).
template <typename T>
void conv2d_backward_cpu(const Conv2dShape& s, const T* x, const T* w, const T* dy, T* dx, T* dw,
                         T* db);

// Scratch bytes the dispatch functions need for shape s on ctx (im2col buffers on the CPU, cuDNN
// workspace on the vendor path). Callers pass a buffer of at least this size.
std::size_t conv2d_workspace_bytes(const ExecContext& ctx, const Conv2dShape& s);

void conv2d_forward(const ExecContext& ctx, const Conv2dShape& s, const float* x, const float* w,
                    const float* b, float* y, void* workspace);
void conv2d_backward(const ExecContext& ctx, const Conv2dShape& s, const float* x, const float* w,
                     const float* dy, float* dx, float* dw, float* db, void* workspace);

}  // namespace ser::nn
