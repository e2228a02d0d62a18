// ser/nn/pool.hpp — 2-D max-pooling over (time, mel) with argmax kept, masked by time length.
#pragma once
#include <cstdint>

#include "ser/nn/exec.hpp"

namespace ser::nn {

struct Pool2dShape {
  int n = 1, c = 1, h = 1, w = 1;  // input (N, C, H, W); H = time
  int kh = 2, kw = 2, sh = 2, sw = 2;  // no padding
  int h_out() const { return (h - kh) / sh + 1; }
  int w_out() const { return (w - kw) / sw + 1; }
  // Valid output time steps for an input of `len` valid steps: windows lying wholly inside it.
  static int out_length(int len, int kh, int sh) { return len >= kh ? (len - kh) / sh + 1 : 0; }
};

// y (N, C, H_out, W_out) = max over each window of x (N, C, H, W); argmax (N, C, H_out, W_out) holds
// the winning input index h * W + w within its (n, c) plane (first maximum in row-major window
// order on ties). Masked: rows t >= out_length(lengths_in[n]) get y = 0 and argmax = -1.
// lengths_in may be nullptr (all H valid).
template <typename T>
void maxpool2d_forward_cpu(const Pool2dShape& s, const T* x, const int* lengths_in, T* y,
                           std::int32_t* argmax);
// dx (N, C, H, W) = overwrite: each dy routed to its argmax (summed where windows overlap);
// entries with argmax -1 route nowhere.
template <typename T>
void maxpool2d_backward_cpu(const Pool2dShape& s, const T* dy, const std::int32_t* argmax, T* dx);

void maxpool2d_forward(const ExecContext& ctx, const Pool2dShape& s, const float* x,
                       const int* lengths_in, float* y, std::int32_t* argmax);
void maxpool2d_backward(const ExecContext& ctx, const Pool2dShape& s, const float* dy,
                        const std::int32_t* argmax, float* dx);

}  // namespace ser::nn
