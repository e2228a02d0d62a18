// kernels/maxpool2d/cpu.cpp — CPU twin of masked 2-D max-pooling (ser/nn/pool.hpp), the oracle of
// cuda.cu.
//
// The window maximum uses the kernel's rule exactly: the first element starts the search, a later one
// wins only if strictly greater (ties keep the first in row-major window order), and a NaN wins over a
// number (NaN propagates, as in PyTorch; the first NaN is kept). Backward scatters each dy to its
// argmax in row-major output order; the GPU gathers in that same order, so float results are equal
// bit for bit.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "maxpool2d/shape.hpp"
#include "ser/nn/pool.hpp"

namespace ser::nn {

namespace {

// The general loop's rule for one window element: strictly greater wins, the first NaN wins over
// numbers.
template <typename T>
inline void consider(T v, std::int32_t idx, T& best, std::int32_t& best_i) {
  const bool take = (v > best) | ((v != v) & (best == best));
  best = take ? v : best;
  best_i = take ? idx : best_i;
}

// SSE-width vectors (GCC vector extensions): every x86-64 CPU has them, and the even / odd picks
// below are single shufps instructions.
typedef float Float4 __attribute__((vector_size(16)));
typedef std::int32_t Int4 __attribute__((vector_size(16)));

// Elements 0, 2, 4, 6 (even) or 1, 3, 5, 7 (odd) of the 8 floats p, q (clang spells GCC's
// __builtin_shuffle differently; the fuzz build uses clang).
inline Float4 pick_even(Float4 p, Float4 q) {
#if defined(__clang__)
  return __builtin_shufflevector(p, q, 0, 2, 4, 6);
#else
  return __builtin_shuffle(p, q, Int4{0, 2, 4, 6});
#endif
}
inline Float4 pick_odd(Float4 p, Float4 q) {
#if defined(__clang__)
  return __builtin_shufflevector(p, q, 1, 3, 5, 7);
#else
  return __builtin_shuffle(p, q, Int4{1, 3, 5, 7});
#endif
}

// Four outputs ow..ow+3 of a float 2x2 window row: the rule above with vector compares and
// blends. r0, r1: rows h0, h0 + 1 from column 2 ow.
inline void pool4_2x2(const float* r0, const float* r1, std::int32_t i0, std::int32_t w, float* y,
                      std::int32_t* a) {
  Float4 p0, q0, p1, q1;  // 8 consecutive floats of each row
  std::memcpy(&p0, r0, sizeof p0);
  std::memcpy(&q0, r0 + 4, sizeof q0);
  std::memcpy(&p1, r1, sizeof p1);
  std::memcpy(&q1, r1 + 4, sizeof q1);
  const Int4 even = {0, 2, 4, 6};
  const Float4 v[4] = {pick_even(p0, q0), pick_odd(p0, q0), pick_even(p1, q1), pick_odd(p1, q1)};
  const Int4 first = i0 + even;  // flat index of each window's top-left element
  const Int4 at[4] = {first, first + 1, first + w, first + w + 1};
  Float4 best = v[0];
  Int4 best_i = at[0];
  for (int k = 1; k < 4; ++k) {
    const Int4 take = (v[k] > best) | ((v[k] != v[k]) & (best == best));
    best = take ? v[k] : best;
    best_i = take ? at[k] : best_i;
  }
  std::memcpy(y, &best, sizeof best);
  std::memcpy(a, &best_i, sizeof best_i);
}

// One output row of a 2x2 window with stride 2 along W (row-major window order).
template <typename T>
void pool_row_2x2(const T* xp, int w, int h0, int wo, T* yr, std::int32_t* ar) {
  const T* r0 = xp + static_cast<std::int64_t>(h0) * w;  // rows h0 and h0 + 1 of the (H, W) plane
  const T* r1 = r0 + w;
  const std::int32_t base = h0 * w;
  int ow = 0;
  if constexpr (std::is_same_v<T, float>)
    for (; ow + 4 <= wo; ow += 4) pool4_2x2(r0 + 2 * ow, r1 + 2 * ow, base + 2 * ow, w, yr + ow, ar + ow);
  for (; ow < wo; ++ow) {
    const std::int32_t i = base + 2 * ow;
    T best = r0[2 * ow];
    std::int32_t best_i = i;
    consider(r0[2 * ow + 1], i + 1, best, best_i);
    consider(r1[2 * ow], i + w, best, best_i);
    consider(r1[2 * ow + 1], i + w + 1, best, best_i);
    yr[ow] = best;
    ar[ow] = best_i;
  }
}

}  // namespace

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
        if (s.kh == 2 && s.kw == 2 && s.sw == 2) {  // the models' pool, vectorised
          pool_row_2x2(xp, s.w, h0, wo, yr, ar);
          continue;
        }
        for (int ow = 0; ow < wo; ++ow) {
          const int w0 = ow * s.sw;
          std::int32_t best_i = h0 * s.w + w0;
          T best = xp[best_i];
          for (int i = 0; i < s.kh; ++i)
            for (int j = 0; j < s.kw; ++j) {
              const std::int32_t idx = (h0 + i) * s.w + (w0 + j);
              consider(xp[idx], idx, best, best_i);  // selects: a branch mispredicts on random data
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
