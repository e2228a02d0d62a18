// kernels/conv2d/direct_cpu.hpp — direct 3x3 convolution of a single input channel: the CPU
// twin's path for the models' first layer (1 -> C_out over the log-mel spectrogram), where the
// im2col + GEMM path has K = 9 and spends its time packing instead of multiplying.
// conv2d_forward_cpu / conv2d_backward_cpu (ser/nn/conv.hpp) take it whenever
// conv2d_direct_applies(s); it is declared here so that tests can also pick the thread count.
//
// Work is split into fixed chunks of output rows of one sample, each computed by one thread in a
// fixed order; the weight and bias gradients are per-chunk partial sums added in chunk order. The
// results are therefore the same bits for every thread count (and every instruction set: no FMA
// contraction, and the vector width the sums are split over is fixed, not the machine's).
#pragma once
#include "ser/nn/conv.hpp"

namespace ser::nn {

// A 3x3 kernel, stride 1, padding 0 or 1 on each axis, C_in = 1 (any N, H, W, C_out); s must have
// passed conv2d_check_shape.
bool conv2d_direct_applies(const Conv2dShape& s);

// y (N, C_out, H_out, W_out) = x (N, 1, H, W) ⋆ w (C_out, 1, 3, 3) + b (C_out)   [overwrite]
// b may be nullptr. threads = 0: as many as the machine has cores and the work is worth.
template <typename T>
void conv2d_direct_forward_cpu(const Conv2dShape& s, const T* x, const T* w, const T* b, T* y, int threads = 0);

// dw (C_out, 1, 3, 3) += ; db (C_out) += ; for dy (N, C_out, H_out, W_out). Either may be nullptr
// (both sums are formed anyway: the bias sum costs one add per nine of the weights'). No input
// gradient: the first layer has none to pass on, and conv2d_backward_cpu takes dx, when asked, from
// the general path.
template <typename T>
void conv2d_direct_backward_params_cpu(const Conv2dShape& s, const T* x, const T* dy, T* dw, T* db, int threads = 0);

}  // namespace ser::nn
