// kernels/linear/shape.hpp — shape validation shared by the linear twin and the dispatch.
#pragma once
#include "ser/nn/linear.hpp"

namespace ser::nn {

// Throws ser::Error naming `who` when m < 0, in or out < 1, or m is 2^31 or more (BLAS dimensions
// are 32-bit integers).
void linear_check_shape(const LinearShape& s, const char* who);

}  // namespace ser::nn
