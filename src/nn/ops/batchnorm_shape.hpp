// src/nn/ops/batchnorm_shape.hpp — shape validation and the valid-length rule shared by the batch-norm
// twin, dispatch and launchers.
#pragma once
#include <cstdint>

#include "ser/nn/batchnorm.hpp"

namespace ser::nn {

// Throws ser::Error naming `who` for sizes below 1, eps <= 0, momentum outside [0, 1], an (H, W)
// plane or N * C of 2^31 or more.
void batchnorm_check_shape(const BatchNormShape& s, const char* who);

// Valid time steps of sample n: lengths[n] clamped to [0, H]; H without lengths.
inline int batchnorm_valid_len(const BatchNormShape& s, const int* lengths, int n) {
  if (!lengths) return s.h;
  return lengths[n] < 0 ? 0 : (lengths[n] > s.h ? s.h : lengths[n]);
}

// Elements each channel's statistics cover: W * Σ_n valid_len(n).
inline std::int64_t batchnorm_valid_count(const BatchNormShape& s, const int* lengths) {
  std::int64_t rows = 0;
  for (int n = 0; n < s.n; ++n) rows += batchnorm_valid_len(s, lengths, n);
  return rows * s.w;
}

}  // namespace ser::nn
