// kernels/layout/shape.hpp — the argument rule of the layout ops (ser/nn/elementwise.hpp: map <->
// tokens, concatenation): every dimension non-negative. Checked once, by the dispatch.
#pragma once
#include <initializer_list>
#include <string>

#include "ser/error.hpp"

namespace ser::nn {

inline void layout_check_dims(const char* op, std::initializer_list<int> dims) {
  for (const int d : dims)
    if (d < 0) throw Error(std::string(op) + ": negative dimension " + std::to_string(d));
}

}  // namespace ser::nn
