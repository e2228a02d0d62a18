// kernels/conv2d/shape.hpp — the shape rule of 2-D convolution, checked by the dispatch
// (dispatch.cpp, once) and the CPU twin (cpu.cpp); the CUDA launchers (cuda.cu) are reached only
// through the dispatch and check device limits alone.
#pragma once
#include "ser/nn/conv.hpp"

namespace ser::nn {

// Throws ser::Error naming `who` and the bad field when s cannot describe a convolution: a size or
// stride below 1, a negative padding, an empty output, or a tensor of 2^31 elements or more (the
// kernels index with 32-bit integers).
void conv2d_check_shape(const Conv2dShape& s, const char* who);

}  // namespace ser::nn
