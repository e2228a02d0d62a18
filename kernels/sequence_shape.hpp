// kernels/sequence_shape.hpp — the argument check shared by the ops over (N, T, D) sequences
// (temporal pooling, layer norm: twins and dispatch). The length rule they mask with is
// ser::nn::valid_length (ser/host_device.hpp).
#pragma once
#include <string>

#include "ser/error.hpp"
#include "ser/host_device.hpp"

namespace ser::nn {

inline void pool_check_shape(int n, int t, int d, const char* who) {
  if (n < 0 || t < 1 || d < 1)
    throw Error(std::string(who) + ": bad pooling shape (N " + std::to_string(n) + ", T " + std::to_string(t) +
                ", D " + std::to_string(d) + "): N must be >= 0, T and D >= 1");
  if (static_cast<double>(n) * t * d >= 2147483647.0)
    throw Error(std::string(who) + ": pooling inputs of 2^31 elements or more are not supported");
}

}  // namespace ser::nn
