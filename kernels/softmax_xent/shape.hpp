// kernels/softmax_xent/shape.hpp — the argument rule of the softmax cross-entropy, shared by the twin
// (cpu.cpp, which defines it) and the dispatch.
#pragma once
#include "ser/nn/loss.hpp"

namespace ser::nn {

// Throws ser::Error naming `who` when n < 0, k < 1, or the targets are out of range (label
// smoothing outside [0, 1), a mixup lambda outside [0, 1], a negative global weight sum).
void softmax_xent_check(int n, int k, const XentTargets& targets, const char* who);

}  // namespace ser::nn
