// kernels/temporal_pool/cpu.cpp — CPU twins of pooling over time (ser/nn/attention.hpp): masked
// mean pooling and attention pooling, the oracles of cuda.cu.
//
// Attention pooling, per sequence n with L valid steps (s, alpha, g, ds are (L)):
//   forward   s_t = w · x_t + b,  alpha = softmax(s) (maximum subtracted),  y = Σ_t alpha_t x_t
//   backward  g_t = dy · x_t,  c = Σ_t alpha_t g_t,  ds_t = alpha_t (g_t - c),
//             dx_t = alpha_t dy + ds_t w,  dw += Σ_t ds_t x_t,  db += Σ_t ds_t
// (db is 0 up to rounding: the softmax does not change when every score moves by the same b.)
// Loops run over d innermost (contiguous, vectorised); sums over t run in t order.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "sequence_shape.hpp"
#include "ser/nn/attention.hpp"

namespace ser::nn {

template <typename T>
void mean_pool_forward_cpu(int n, int t, int d, const T* x, const int* lengths, T* y) {
  pool_check_shape(n, t, d, "mean_pool_forward_cpu");
  for (int b = 0; b < n; ++b) {
    const int len = valid_length(lengths, b, t);
    const T* xb = x + static_cast<std::size_t>(b) * t * d;  // (T, D)
    T* yb = y + static_cast<std::size_t>(b) * d;            // (D)
    std::fill_n(yb, d, T(0));
    for (int s = 0; s < len; ++s) {
      const T* row = xb + static_cast<std::size_t>(s) * d;
      for (int c = 0; c < d; ++c) yb[c] += row[c];
    }
    if (len > 0)
      for (int c = 0; c < d; ++c) yb[c] /= static_cast<T>(len);
  }
}

template <typename T>
void mean_pool_backward_cpu(int n, int t, int d, const T* dy, const int* lengths, T* dx) {
  pool_check_shape(n, t, d, "mean_pool_backward_cpu");
  for (int b = 0; b < n; ++b) {
    const int len = valid_length(lengths, b, t);
    const T* dyb = dy + static_cast<std::size_t>(b) * d;  // (D)
    T* dxb = dx + static_cast<std::size_t>(b) * t * d;    // (T, D)
    for (int s = 0; s < len; ++s) {
      T* row = dxb + static_cast<std::size_t>(s) * d;
      for (int c = 0; c < d; ++c) row[c] = dyb[c] / static_cast<T>(len);  // as the kernel divides
    }
    std::fill(dxb + static_cast<std::size_t>(len) * d, dxb + static_cast<std::size_t>(t) * d, T(0));
  }
}

template <typename T>
void attn_pool_forward_cpu(int n, int t, int d, const T* x, const T* w, const T* b, const int* lengths, T* y,
                           T* alpha) {
  pool_check_shape(n, t, d, "attn_pool_forward_cpu");
  for (int i = 0; i < n; ++i) {
    const int len = valid_length(lengths, i, t);
    const T* xi = x + static_cast<std::size_t>(i) * t * d;  // (T, D)
    T* ai = alpha + static_cast<std::size_t>(i) * t;        // (T)
    T* yi = y + static_cast<std::size_t>(i) * d;            // (D)
    std::fill(ai + len, ai + t, T(0));
    std::fill_n(yi, d, T(0));
    if (len == 0) continue;
    for (int s = 0; s < len; ++s) {
      const T* row = xi + static_cast<std::size_t>(s) * d;
      T acc = 0;
      for (int c = 0; c < d; ++c) acc += w[c] * row[c];
      ai[s] = acc + b[0];  // the score, turned into alpha below
    }
    const T mx = *std::max_element(ai, ai + len);
    T sum = 0;
    for (int s = 0; s < len; ++s) {
      ai[s] = std::exp(ai[s] - mx);
      sum += ai[s];
    }
    const T inv = T(1) / sum;  // sum >= 1
    for (int s = 0; s < len; ++s) {
      ai[s] *= inv;
      const T* row = xi + static_cast<std::size_t>(s) * d;
      for (int c = 0; c < d; ++c) yi[c] += ai[s] * row[c];
    }
  }
}

template <typename T>
void attn_pool_backward_cpu(int n, int t, int d, const T* x, const T* w, const T* alpha, const T* dy,
                            const int* lengths, T* dx, T* dw, T* db) {
  pool_check_shape(n, t, d, "attn_pool_backward_cpu");
  thread_local std::vector<T> ds_buf;
  if (ds_buf.size() < static_cast<std::size_t>(t)) ds_buf.resize(static_cast<std::size_t>(t));
  T* ds = ds_buf.data();  // (L) score gradients of one sequence
  T dbias = 0;
  for (int i = 0; i < n; ++i) {
    const int len = valid_length(lengths, i, t);
    const T* xi = x + static_cast<std::size_t>(i) * t * d;  // (T, D)
    const T* ai = alpha + static_cast<std::size_t>(i) * t;  // (T)
    const T* dyi = dy + static_cast<std::size_t>(i) * d;    // (D)
    T* dxi = dx + static_cast<std::size_t>(i) * t * d;      // (T, D)
    T c_sum = 0;
    for (int s = 0; s < len; ++s) {
      const T* row = xi + static_cast<std::size_t>(s) * d;
      T g = 0;
      for (int c = 0; c < d; ++c) g += dyi[c] * row[c];
      ds[s] = g;
      c_sum += ai[s] * g;
    }
    for (int s = 0; s < len; ++s) {
      ds[s] = ai[s] * (ds[s] - c_sum);
      const T* row = xi + static_cast<std::size_t>(s) * d;
      T* drow = dxi + static_cast<std::size_t>(s) * d;
      for (int c = 0; c < d; ++c) {
        drow[c] = ai[s] * dyi[c] + ds[s] * w[c];
        dw[c] += ds[s] * row[c];
      }
      dbias += ds[s];
    }
    std::fill(dxi + static_cast<std::size_t>(len) * d, dxi + static_cast<std::size_t>(t) * d, T(0));
  }
  db[0] += dbias;
}

template void mean_pool_forward_cpu<float>(int, int, int, const float*, const int*, float*);
template void mean_pool_forward_cpu<double>(int, int, int, const double*, const int*, double*);
template void mean_pool_backward_cpu<float>(int, int, int, const float*, const int*, float*);
template void mean_pool_backward_cpu<double>(int, int, int, const double*, const int*, double*);
template void attn_pool_forward_cpu<float>(int, int, int, const float*, const float*, const float*, const int*,
                                           float*, float*);
template void attn_pool_forward_cpu<double>(int, int, int, const double*, const double*, const double*,
                                            const int*, double*, double*);
template void attn_pool_backward_cpu<float>(int, int, int, const float*, const float*, const float*,
                                            const float*, const int*, float*, float*, float*);
template void attn_pool_backward_cpu<double>(int, int, int, const double*, const double*, const double*,
                                             const double*, const int*, double*, double*, double*);

}  // namespace ser::nn
