// kernels/deltas/cpu.cpp — CPU twin of the time deltas (ser/nn/deltas.hpp), the oracle of cuda.cu.
#include <algorithm>
#include <cstdint>

#include "ser/host_device.hpp"
#include "ser/nn/deltas.hpp"

namespace ser::nn {
namespace {

// dst (T, F) <- Δ of src (T, F) over its first len rows; rows t >= len are zero.
template <typename T>
void delta_plane(int t, int f, int len, const T* src, T* dst) {
  for (int r = 0; r < len; ++r) {
    const T* m2 = src + static_cast<std::int64_t>(std::max(r - 2, 0)) * f;
    const T* m1 = src + static_cast<std::int64_t>(std::max(r - 1, 0)) * f;
    const T* p1 = src + static_cast<std::int64_t>(std::min(r + 1, len - 1)) * f;
    const T* p2 = src + static_cast<std::int64_t>(std::min(r + 2, len - 1)) * f;
    T* out = dst + static_cast<std::int64_t>(r) * f;
    for (int j = 0; j < f; ++j) {
      const T near = p1[j] - m1[j], far = p2[j] - m2[j];
      out[j] = (near + (far + far)) / T(10);  // far + far, not 2 * far: no FMA contraction on the GPU
    }
  }
  std::fill(dst + static_cast<std::int64_t>(len) * f, dst + static_cast<std::int64_t>(t) * f, T(0));
}

}  // namespace

template <typename T>
void time_deltas_cpu(int n, int t, int f, int order, const int* lengths, const T* x, T* y) {
  const std::int64_t plane = static_cast<std::int64_t>(t) * f;  // one (T, F) plane
  const int c = 1 + order;
  for (int i = 0; i < n; ++i) {
    const int len = valid_length(lengths, i, t);
    const T* xi = x + i * plane;   // (T, F)
    T* yi = y + i * c * plane;     // (1 + order, T, F)
    std::copy(xi, xi + static_cast<std::int64_t>(len) * f, yi);
    std::fill(yi + static_cast<std::int64_t>(len) * f, yi + plane, T(0));
    for (int k = 1; k <= order; ++k) delta_plane(t, f, len, yi + (k - 1) * plane, yi + k * plane);
  }
}

template void time_deltas_cpu<float>(int, int, int, int, const int*, const float*, float*);
template void time_deltas_cpu<double>(int, int, int, int, const int*, const double*, double*);

}  // namespace ser::nn
