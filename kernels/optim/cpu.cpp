// kernels/optim/cpu.cpp — CPU twins of the optimizer ops (ser/nn/optim_ops.hpp), the oracles of
// cuda.cu: Adam/AdamW update (adam_math.hpp, shared with the kernel), sum of squares in double,
// gradient scaling.
#include <cstdint>

#include "optim/adam_math.hpp"
#include "ser/nn/optim_ops.hpp"

namespace ser::nn {

template <typename T>
void adam_update_cpu(std::int64_t count, const AdamStep& h, T* params, const T* grads, T* m, T* v,
                     const std::uint8_t* decay_mask) {
  const adam::Constants<T> k = adam::constants<T>(h);
  for (std::int64_t i = 0; i < count; ++i) {
    const bool decay = k.decay && (!decay_mask || decay_mask[i] != 0);
    adam::update(k, decay, params[i], grads[i], m[i], v[i]);
  }
}

template <typename T>
double sum_squares_cpu(std::int64_t count, const T* g) {
  // Four independent accumulators: the additions pipeline, the order stays fixed.
  double s[4] = {0, 0, 0, 0};
  std::int64_t i = 0;
  for (; i + 4 <= count; i += 4)
    for (int j = 0; j < 4; ++j) s[j] += static_cast<double>(g[i + j]) * static_cast<double>(g[i + j]);
  for (; i < count; ++i) s[0] += static_cast<double>(g[i]) * static_cast<double>(g[i]);
  return (s[0] + s[1]) + (s[2] + s[3]);
}

template <typename T>
void scale_cpu(std::int64_t count, T factor, T* g) {
  for (std::int64_t i = 0; i < count; ++i) g[i] *= factor;
}

#define SER_INSTANTIATE(T)                                                                                   \
  template void adam_update_cpu<T>(std::int64_t, const AdamStep&, T*, const T*, T*, T*, const std::uint8_t*); \
  template double sum_squares_cpu<T>(std::int64_t, const T*);                                                \
  template void scale_cpu<T>(std::int64_t, T, T*);
SER_INSTANTIATE(float)
SER_INSTANTIATE(double)
#undef SER_INSTANTIATE

}  // namespace ser::nn
