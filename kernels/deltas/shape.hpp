// kernels/deltas/shape.hpp — the argument rule of the time deltas (ser/nn/deltas.hpp): x (N, 1, T, F)
// with non-negative dimensions, order 1 (Δ) or 2 (Δ and ΔΔ). Checked once, by the dispatch.
#pragma once
#include <string>

#include "ser/error.hpp"

namespace ser::nn {

inline void time_deltas_check(int n, int t, int f, int order) {
  if (n < 0 || t < 0 || f < 0)
    throw Error("time_deltas: negative dimension in (N, T, F) = (" + std::to_string(n) + ", " + std::to_string(t) +
                ", " + std::to_string(f) + ")");
  if (order < 1 || order > 2) throw Error("time_deltas: order must be 1 or 2, found " + std::to_string(order));
}

}  // namespace ser::nn
