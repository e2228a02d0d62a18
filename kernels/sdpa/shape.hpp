// kernels/sdpa/shape.hpp — the shape rule of scaled dot-product attention, checked once by the
// dispatch (dispatch.cpp) and by the CPU twin (cpu.cpp); the CUDA launchers check device limits only.
#pragma once
#include <string>

#include "ser/error.hpp"
#include "ser/nn/attention.hpp"

namespace ser::nn {

inline void sdpa_check_shape(const SdpaShape& s, const char* who) {
  if (s.n < 0 || s.t < 1 || s.heads < 1 || s.head_dim < 1)
    throw Error(std::string(who) + ": bad attention shape (N " + std::to_string(s.n) + ", T " +
                std::to_string(s.t) + ", heads " + std::to_string(s.heads) + ", head_dim " +
                std::to_string(s.head_dim) + "): N must be >= 0, the others >= 1");
  if (static_cast<double>(s.n) * s.t * s.heads * s.head_dim >= 2147483647.0)
    throw Error(std::string(who) + ": attention tensors of 2^31 elements or more are not supported");
}

}  // namespace ser::nn
