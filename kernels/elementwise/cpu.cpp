// kernels/elementwise/cpu.cpp — CPU twins of ReLU, dropout, time masking, residual add and gradient
// accumulation (ser/nn/elementwise.hpp). They are the oracles of cuda.cu and compute every element
// with the same float operations in the same order, so float results match the GPU bit for bit.
#include <algorithm>
#include <cstdint>

#include "elementwise/shape.hpp"
#include "ser/host_device.hpp"
#include "ser/nn/counter_rng.hpp"
#include "ser/nn/elementwise.hpp"

namespace ser::nn {

template <typename T>
void relu_forward_cpu(std::int64_t count, const T* x, T* y) {
  // x < 0 ? 0 : x lets NaN through (as torch.relu does); x == y allowed.
  for (std::int64_t i = 0; i < count; ++i) y[i] = x[i] < T(0) ? T(0) : x[i];
}

template <typename T>
void relu_backward_cpu(std::int64_t count, const T* y, const T* dy, T* dx) {
  // A select, not dy * (y > 0): a NaN or Inf gradient where the unit is off stays out. dy is read
  // unconditionally so that the select compiles to a vector blend, not a branch on random signs.
  for (std::int64_t i = 0; i < count; ++i) {
    const T g = dy[i];
    dx[i] = y[i] > T(0) ? g : T(0);
  }
}

namespace {

// Keep element i with scale s = 1 / (1 - p), else 0. s is a float computed as 1.0f / (1.0f - p) for
// both T, exactly as the GPU computes it; at p = 1 nothing is kept and s is never used.
// The counter RNG is four 64-bit multiplies per element: only AVX-512 (x86-64-v4) has them as vector
// instructions, so that path is compiled beside the baseline and picked at load time (integer
// arithmetic: the same mask on both).
template <typename T>
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("arch=x86-64-v4", "default")))
#endif
void dropout_apply(std::int64_t count, float p, std::uint64_t seed, std::uint64_t first, const T* in, T* out) {
  if (p == 0.0f) {
    if (in != out) std::copy(in, in + count, out);
    return;
  }
  const T s = static_cast<T>(1.0f / (1.0f - p));
  for (std::int64_t i = 0; i < count; ++i) {
    const T kept = in[i] * s;  // computed for every element: a select, not a branch
    out[i] = uniform01(seed, first + static_cast<std::uint64_t>(i)) >= p ? kept : T(0);
  }
}

}  // namespace

template <typename T>
void dropout_forward_cpu(std::int64_t count, float p, std::uint64_t seed, const T* x, T* y, std::uint64_t first) {
  dropout_check_p("dropout_forward_cpu", p);
  dropout_apply(count, p, seed, first, x, y);
}

template <typename T>
void dropout_backward_cpu(std::int64_t count, float p, std::uint64_t seed, const T* dy, T* dx, std::uint64_t first) {
  dropout_check_p("dropout_backward_cpu", p);
  dropout_apply(count, p, seed, first, dy, dx);  // the same mask and scale, recomputed from (seed, i)
}

template <typename T>
void time_mask_cpu(int n, int c, int t, int f, const int* lengths, T* x) {
  if (!lengths) return;
  const std::int64_t plane = static_cast<std::int64_t>(t) * f;  // one (T, F) plane
  for (int in = 0; in < n; ++in) {
    const int len = valid_length(lengths, in, t);
    for (int ic = 0; ic < c; ++ic) {
      T* p = x + (static_cast<std::int64_t>(in) * c + ic) * plane;  // (T, F)
      std::fill(p + static_cast<std::int64_t>(len) * f, p + plane, T(0));
    }
  }
}

template <typename T>
void add_cpu(std::int64_t count, const T* a, const T* b, T* y) {
  for (std::int64_t i = 0; i < count; ++i) y[i] = a[i] + b[i];
}

template <typename T>
void accumulate_cpu(std::int64_t count, const T* x, T* y) {
  for (std::int64_t i = 0; i < count; ++i) y[i] += x[i];
}

#define SER_INSTANTIATE(T)                                                                           \
  template void relu_forward_cpu<T>(std::int64_t, const T*, T*);                                     \
  template void relu_backward_cpu<T>(std::int64_t, const T*, const T*, T*);                          \
  template void dropout_forward_cpu<T>(std::int64_t, float, std::uint64_t, const T*, T*, std::uint64_t);  \
  template void dropout_backward_cpu<T>(std::int64_t, float, std::uint64_t, const T*, T*, std::uint64_t); \
  template void time_mask_cpu<T>(int, int, int, int, const int*, T*);                                \
  template void add_cpu<T>(std::int64_t, const T*, const T*, T*);                                    \
  template void accumulate_cpu<T>(std::int64_t, const T*, T*);
SER_INSTANTIATE(float)
SER_INSTANTIATE(double)
#undef SER_INSTANTIATE

}  // namespace ser::nn
