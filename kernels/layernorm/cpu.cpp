// kernels/layernorm/cpu.cpp — CPU twin of the masked layer norm over token features
// (ser/nn/layernorm.hpp), the oracle of cuda.cu. The float twin sums in double; the
// parameter gradients are summed over rows in row order.
#include <cmath>
#include <cstddef>
#include <type_traits>
#include <vector>

#include "sequence_shape.hpp"
#include "ser/nn/layernorm.hpp"

namespace ser::nn {

namespace {
// The accumulator of the row sums: double for the float twin, long double for the double twin
// (so the double twin stays the more precise reference in the gradient checks).
template <typename T>
using Acc = std::conditional_t<std::is_same_v<T, float>, double, long double>;
}  // namespace

template <typename T>
void layer_norm_forward_cpu(int n, int t, int d, float eps, const T* x, const T* gamma, const T* beta,
                            const int* lengths, T* y, T* mean, T* rstd) {
  pool_check_shape(n, t, d, "layer_norm_forward_cpu");
  for (int b = 0; b < n; ++b) {
    const int len = valid_length(lengths, b, t);
    for (int s = 0; s < t; ++s) {
      const std::size_t row = static_cast<std::size_t>(b) * t + s;
      const T* xr = x + row * d;  // (D)
      T* yr = y + row * d;
      if (s >= len) {
        for (int i = 0; i < d; ++i) yr[i] = T(0);
        mean[row] = rstd[row] = T(0);
        continue;
      }
      Acc<T> sum = 0;
      for (int i = 0; i < d; ++i) sum += xr[i];
      const Acc<T> mu = sum / d;
      Acc<T> sq = 0;
      for (int i = 0; i < d; ++i) sq += (xr[i] - mu) * (xr[i] - mu);
      const Acc<T> inv = 1 / std::sqrt(sq / d + static_cast<Acc<T>>(eps));
      for (int i = 0; i < d; ++i) yr[i] = static_cast<T>((xr[i] - mu) * inv * gamma[i] + beta[i]);
      mean[row] = static_cast<T>(mu);
      rstd[row] = static_cast<T>(inv);
    }
  }
}

template <typename T>
void layer_norm_backward_cpu(int n, int t, int d, const T* x, const T* gamma, const T* mean, const T* rstd,
                             const T* dy, const int* lengths, T* dx, T* dgamma, T* dbeta) {
  pool_check_shape(n, t, d, "layer_norm_backward_cpu");
  std::vector<Acc<T>> dg(static_cast<std::size_t>(d), 0), db(static_cast<std::size_t>(d), 0);  // (D)
  std::vector<Acc<T>> xhat(static_cast<std::size_t>(d));                                          // (D)
  for (int b = 0; b < n; ++b) {
    const int len = valid_length(lengths, b, t);
    for (int s = 0; s < t; ++s) {
      const std::size_t row = static_cast<std::size_t>(b) * t + s;
      const T* xr = x + row * d;
      const T* dyr = dy + row * d;
      T* dxr = dx + row * d;
      if (s >= len) {
        for (int i = 0; i < d; ++i) dxr[i] = T(0);
        continue;
      }
      const Acc<T> mu = mean[row], inv = rstd[row];
      Acc<T> g_sum = 0, gx_sum = 0;
      for (int i = 0; i < d; ++i) {
        xhat[static_cast<std::size_t>(i)] = (xr[i] - mu) * inv;
        const Acc<T> g = static_cast<Acc<T>>(dyr[i]) * gamma[i];
        g_sum += g;
        gx_sum += g * xhat[static_cast<std::size_t>(i)];
        dg[static_cast<std::size_t>(i)] += static_cast<Acc<T>>(dyr[i]) * xhat[static_cast<std::size_t>(i)];
        db[static_cast<std::size_t>(i)] += dyr[i];
      }
      const Acc<T> g_mean = g_sum / d, gx_mean = gx_sum / d;
      for (int i = 0; i < d; ++i) {
        const Acc<T> g = static_cast<Acc<T>>(dyr[i]) * gamma[i];
        dxr[i] = static_cast<T>(inv * (g - g_mean - xhat[static_cast<std::size_t>(i)] * gx_mean));
      }
    }
  }
  for (int i = 0; i < d; ++i) {
    dgamma[i] = static_cast<T>(dgamma[i] + dg[static_cast<std::size_t>(i)]);
    dbeta[i] = static_cast<T>(dbeta[i] + db[static_cast<std::size_t>(i)]);
  }
}

template void layer_norm_forward_cpu<float>(int, int, int, float, const float*, const float*, const float*,
                                            const int*, float*, float*, float*);
template void layer_norm_forward_cpu<double>(int, int, int, float, const double*, const double*, const double*,
                                             const int*, double*, double*, double*);
template void layer_norm_backward_cpu<float>(int, int, int, const float*, const float*, const float*, const float*,
                                             const float*, const int*, float*, float*, float*);
template void layer_norm_backward_cpu<double>(int, int, int, const double*, const double*, const double*,
                                              const double*, const double*, const int*, double*, double*, double*);

}  // namespace ser::nn
