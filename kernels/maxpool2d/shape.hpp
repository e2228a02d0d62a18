// kernels/maxpool2d/shape.hpp — the pooling shape rule and the valid-row count, shared by the max-pool
// twin, the dispatch and (as a device mirror) the kernels.
#pragma once
#include "ser/host_device.hpp"
#include "ser/nn/pool.hpp"

namespace ser::nn {

// Throws ser::Error naming `who` when s cannot describe a pooling: a size, window or stride below 1,
// a window larger than the input (no padding), or a (H, W) plane of 2^31 elements or more (argmax is
// an int32 index within the plane).
void maxpool2d_check_shape(const Pool2dShape& s, const char* who);

// Valid output rows of sample n: out_length(clamp(lengths_in[n], 0, H)), or H_out without lengths.
inline int maxpool2d_valid_rows(const Pool2dShape& s, const int* lengths_in, int n) {
  if (!lengths_in) return s.h_out();
  return Pool2dShape::out_length(valid_length(lengths_in, n, s.h), s.kh, s.sh);
}

}  // namespace ser::nn
