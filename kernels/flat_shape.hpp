// kernels/flat_shape.hpp — the argument check shared by the ops over flat buffers of `count` floats
// (elementwise ops, optimizer ops: dispatch): the count must not be negative; 0 does nothing.
#pragma once
#include <cstdint>
#include <string>

#include "ser/error.hpp"

namespace ser::nn {

inline void check_count(const char* op, std::int64_t count) {
  if (count < 0) throw Error(std::string(op) + ": negative element count " + std::to_string(count));
}

}  // namespace ser::nn
