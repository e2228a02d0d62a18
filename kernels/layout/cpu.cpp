// kernels/layout/cpu.cpp — CPU twins of the layout changes (N, C, T, F) <-> (N, T, C*F) and of
// feature concatenation (ser/nn/elementwise.hpp), the oracles of cuda.cu. Pure copies: the GPU must
// match them bit for bit.
#include <algorithm>
#include <cstdint>

#include "ser/nn/elementwise.hpp"

namespace ser::nn {

namespace {

// map (N, C, T, F) <-> tokens (N, T, C, F): copies runs of F contiguous floats. to_tokens picks the
// direction.
template <typename T, bool to_tokens>
void permute_ct(int n, int c, int t, int f, const T* src, T* dst) {
  const std::int64_t C = c, Tn = t, F = f;
  for (std::int64_t in = 0; in < n; ++in)
    for (std::int64_t it = 0; it < Tn; ++it)
      for (std::int64_t ic = 0; ic < C; ++ic) {
        const std::int64_t m = ((in * C + ic) * Tn + it) * F;   // map[n, c, t, 0]
        const std::int64_t k = ((in * Tn + it) * C + ic) * F;   // tokens[n, t, c*F + 0]
        if constexpr (to_tokens) std::copy(src + m, src + m + F, dst + k);
        else std::copy(src + k, src + k + F, dst + m);
      }
}

}  // namespace

template <typename T>
void map_to_tokens_cpu(int n, int c, int t, int f, const T* map, T* tokens) {
  permute_ct<T, true>(n, c, t, f, map, tokens);
}

template <typename T>
void tokens_to_map_cpu(int n, int c, int t, int f, const T* tokens, T* map) {
  permute_ct<T, false>(n, c, t, f, tokens, map);
}

template <typename T>
void concat_cpu(int n, int da, int db, const T* a, const T* b, T* y) {
  const std::int64_t w = static_cast<std::int64_t>(da) + db;
  for (std::int64_t i = 0; i < n; ++i) {
    std::copy(a + i * da, a + (i + 1) * da, y + i * w);
    std::copy(b + i * db, b + (i + 1) * db, y + i * w + da);
  }
}

template <typename T>
void concat_backward_cpu(int n, int da, int db, const T* dy, T* d_a, T* d_b) {
  const std::int64_t w = static_cast<std::int64_t>(da) + db;
  for (std::int64_t i = 0; i < n; ++i) {
    if (d_a) std::copy(dy + i * w, dy + i * w + da, d_a + i * da);
    if (d_b) std::copy(dy + i * w + da, dy + (i + 1) * w, d_b + i * db);
  }
}

#define SER_INSTANTIATE(T)                                                           \
  template void map_to_tokens_cpu<T>(int, int, int, int, const T*, T*);              \
  template void tokens_to_map_cpu<T>(int, int, int, int, const T*, T*);              \
  template void concat_cpu<T>(int, int, int, const T*, const T*, T*);                \
  template void concat_backward_cpu<T>(int, int, int, const T*, T*, T*);
SER_INSTANTIATE(float)
SER_INSTANTIATE(double)
#undef SER_INSTANTIATE

}  // namespace ser::nn
