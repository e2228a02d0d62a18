// src/nn/ops/attention_shape.hpp — argument checks shared by the attention / temporal-pooling CPU
// twins and dispatch functions (ser/nn/attention.hpp), and the one rule for reading `lengths`.
#pragma once
#include <algorithm>
#include <string>

#include "ser/error.hpp"
#include "ser/nn/attention.hpp"

namespace ser::nn {

// Valid time steps of sequence i: lengths[i] clamped to [0, t]; all t when lengths is nullptr.
// (The CUDA kernels clamp the same way.)
inline int valid_length(const int* lengths, int i, int t) {
  return lengths ? std::clamp(lengths[i], 0, t) : t;
}

inline void sdpa_check_shape(const SdpaShape& s, const char* who) {
  if (s.n < 0 || s.t < 1 || s.heads < 1 || s.head_dim < 1)
    throw Error(std::string(who) + ": bad attention shape (N " + std::to_string(s.n) + ", T " +
                std::to_string(s.t) + ", heads " + std::to_string(s.heads) + ", head_dim " +
                std::to_string(s.head_dim) + "): N must be >= 0, the others >= 1");
  if (static_cast<double>(s.n) * s.t * s.heads * s.head_dim >= 2147483647.0)
    throw Error(std::string(who) + ": attention tensors of 2^31 elements or more are not supported");
}

inline void pool_check_shape(int n, int t, int d, const char* who) {
  if (n < 0 || t < 1 || d < 1)
    throw Error(std::string(who) + ": bad pooling shape (N " + std::to_string(n) + ", T " + std::to_string(t) +
                ", D " + std::to_string(d) + "): N must be >= 0, T and D >= 1");
  if (static_cast<double>(n) * t * d >= 2147483647.0)
    throw Error(std::string(who) + ": pooling inputs of 2^31 elements or more are not supported");
}

}  // namespace ser::nn
