// kernels/elementwise/shape.hpp — the argument rules of the elementwise ops (ser/nn/elementwise.hpp),
// checked once by the dispatch: counts (flat_shape.hpp), dropout's p in [0, 1], and the (N, C, T, F)
// map of the time mask.
#pragma once
#include <string>

#include "flat_shape.hpp"
#include "ser/error.hpp"

namespace ser::nn {

inline void dropout_check_p(const char* op, float p) {
  if (!(p >= 0.0f && p <= 1.0f)) throw Error(std::string(op) + ": p must be in [0, 1], found " + std::to_string(p));
}

inline void time_mask_check(int n, int c, int t, int f) {
  if (n < 0 || c < 0 || t < 0 || f < 0)
    throw Error("time_mask: negative dimension in (N, C, T, F) = (" + std::to_string(n) + ", " + std::to_string(c) +
                ", " + std::to_string(t) + ", " + std::to_string(f) + ")");
}

}  // namespace ser::nn
