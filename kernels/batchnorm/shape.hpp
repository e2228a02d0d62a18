// kernels/batchnorm/shape.hpp — the shape rule of batch normalisation (checked once by the dispatch,
// dispatch.cpp, and by the CPU twin, cpu.cpp) and the valid-element count of its statistics.
#pragma once
#include <cstdint>

#include "ser/host_device.hpp"
#include "ser/nn/batchnorm.hpp"

namespace ser::nn {

// Throws ser::Error naming `who` for sizes below 1, eps <= 0, momentum outside [0, 1], an (H, W)
// plane or N * C of 2^31 or more.
void batchnorm_check_shape(const BatchNormShape& s, const char* who);

// Valid time steps of sample n: lengths[n] clamped to [0, H]; H without lengths.
inline int batchnorm_valid_len(const BatchNormShape& s, const int* lengths, int n) {
  return valid_length(lengths, n, s.h);
}

// Elements each channel's statistics cover: W * Σ_n valid_len(n).
inline std::int64_t batchnorm_valid_count(const BatchNormShape& s, const int* lengths) {
  std::int64_t rows = 0;
  for (int n = 0; n < s.n; ++n) rows += batchnorm_valid_len(s, lengths, n);
  return rows * s.w;
}

}  // namespace ser::nn
