// src/nn/ops/maxpool2d_cpu.cpp — CPU twin of masked 2-D max-pooling (ser/nn/pool.hpp), the oracle of
// kernels/maxpool2d.cu.
//
// The window maximum uses the kernel's rule exactly: the first element starts the search, a later one
// wins only if strictly greater (ties keep the first in row-major window order), and a NaN wins over a
// number (NaN propagates, as in PyTorch; the first NaN is kept). Backward scatters each dy to its
// argmax in row-major output order; the GPU gathers in that same order, so float results are equal
// bit for bit.
#include <algorithm>
#include <cstdint>

#include "nn/ops/maxpool2d_shape.hpp"
#include "ser/nn/pool.hpp"

namespace ser::nn {

template <typename T>
void maxpool2d_forward_cpu(const Pool2dShape& s, const T* x, const int* lengths_in, T* y,
                           std::int32_t* argmax) {
  maxpool2d_check_shape(s, "maxpool2d_forward_cpu");
  const int ho = s.h_out(), wo = s.w_out();
  const std::int64_t in_plane = static_cast<std::int64_t>(s.h) * s.w;  // (H, W)
  const std::int64_t out_plane = static_cast<std::int64_t>(ho) * wo;  // (H_out, W_out)
  for (int n = 0; n < s.n; ++n) {
    const int valid = maxpool2d_valid_rows(s, lengths_in, n);
    for (int c = 0; c < s.c; ++c) {
      const std::int64_t p = static_cast<std::int64_t>(n) * s.c + c;
      const T* xp = x + p * in_plane;      // (H, W)
      T* yp = y + p * out_plane;           // (H_out, W_out)
      std::int32_t* ap = argmax + p * out_plane;
      for (int oh = 0; oh < ho; ++oh) {
        T* yr = yp + static_cast<std::int64_t>(oh) * wo;
        std::int32_t* ar = ap + static_cast<std::int64_t>(oh) * wo;
        if (oh >= valid) {
          std::fill(yr, yr + wo, T(0));
          std::fill(ar, ar + wo, std::int32_t{-1});
          continue;
        }
        const int h0 = oh * s.sh;
        for (int ow = 0; ow < wo; ++ow) {
          const int w0 = ow * s.sw;
          std::int32_t best_i = h0 * s.w + w0;
          T best = xp[best_i];
          for (int i = 0; i < s.kh; ++i)
            for (int j = 0; j < s.kw; ++j) {
              const std::int32_t idx = (h0 + i) * s.w + (w0 + j);
              const T v = xp[idx];
              if (v > best || (v != v && best == best)) {
                best = v;
                best_i = idx;
              }
            }
          yr[ow] = best;
          ar[ow] = best_i;
        }
      }
    }
  }
}

template <typename T>
void maxpool2d_backward_cpu(const Pool2dShape& s, const T* dy, const std::int32_t* argmax, T* dx) {
  maxpool2d_check_shape(s, "maxpool2d_backward_cpu");
  const std::int64_t in_plane = static_cast<std::int64_t>(s.h) * s.w;
  const std::int64_t out_plane = static_cast<std::int64_t>(s.h_out()) * s.w_out();
  const std::int64_t planes = static_cast<std::int64_t>(s.n) * s.c;
  std::fill(dx, dx + planes * in_plane, T(0));
  for (std::int64_t p = 0; p < planes; ++p) {
    const T* g = dy + p * out_plane;                 // (H_out, W_out)
    const std::int32_t* a = argmax + p * out_plane;  // (H_out, W_out)
    T* d = dx + p * in_plane;                        // (H, W)
    for (std::int64_t o = 0; o < out_plane; ++o)
      if (a[o] >= 0) d[a[o]] += g[o];
  }
}

template void maxpool2d_forward_cpu<float>(const Pool2dShape&, const float*, const int*, float*, std::int32_t*);
template void maxpool2d_forward_cpu<double>(const Pool2dShape&, const double*, const int*, double*,
                                            std::int32_t*);
template void maxpool2d_backward_cpu<float>(const Pool2dShape&, const float*, const std::int32_t*, float*);
template void maxpool2d_backward_cpu<double>(const Pool2dShape&, const double*, const std::int32_t*, double*);

}  // namespace ser::nn
